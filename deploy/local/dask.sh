#!/usr/bin/env bash
# A local Dask distributed cluster for Beam's DaskRunner: one scheduler and N workers, each its own
# process tree (`dask worker` = a nanny + the worker process it restarts), like the Dask operator's
# pods on Kubernetes.   dask.sh up | down | status
#
# The workers start with an almost empty environment and their own working directory: whatever a
# run needs (config, Kafka and S3 settings, credentials) must reach them through the Beam job, as
# on a real cluster. They only share the installed packages (newsbeam, the spaCy model).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PIDS="$DASK_DIR/pids"
LOGS="$DASK_DIR/logs"
DASK="$(dirname "$PYTHON")/dask"
ADDRESS="tcp://127.0.0.1:$DASK_SCHEDULER_PORT"

# The environment of every cluster process: PATH and HOME, nothing of the caller's NEWSBEAM_*/AWS_*.
# setsid: own process group (pid = the dask process), so `down` stops exactly what we started.
CLEAN_ENV=(setsid env -i PATH="$(dirname "$PYTHON"):/usr/bin:/bin" HOME="$HOME" LANG=C.UTF-8
           DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="$DASK_ALLOWED_FAILURES")

up() {
  [ -x "$DASK" ] || die "dask not found at $DASK: make install installs it (constraints.txt)"
  mkdir -p "$PIDS" "$LOGS" "$DASK_DIR/work"
  if pid_alive "$PIDS/scheduler.pid"; then
    echo "dask scheduler: already running (pid $(cat "$PIDS/scheduler.pid"))"
  else
    (cd "$DASK_DIR/work" && exec "${CLEAN_ENV[@]}" "$DASK" scheduler --host 127.0.0.1 \
        --port "$DASK_SCHEDULER_PORT" --no-dashboard --no-show \
        >>"$LOGS/scheduler.log" 2>&1 </dev/null) &
    echo $! >"$PIDS/scheduler.pid"
    echo "dask scheduler: started pid $(cat "$PIDS/scheduler.pid"), $ADDRESS (log: $LOGS/scheduler.log)"
  fi
  for i in $(seq 1 "$DASK_WORKERS"); do
    local pidfile="$PIDS/worker-$i.pid" port=$((DASK_WORKER_PORT + 2 * (i - 1)))
    if pid_alive "$pidfile"; then echo "dask worker-$i: already running (pid $(cat "$pidfile"))"; continue; fi
    mkdir -p "$DASK_DIR/work/worker-$i"
    # One thread per worker: spaCy parses one batch at a time per process, and its memory is per
    # batch in flight (docs/operations.md "Scaling out").
    (cd "$DASK_DIR/work/worker-$i" && exec "${CLEAN_ENV[@]}" "$DASK" worker "$ADDRESS" --name "worker-$i" \
        --host 127.0.0.1 --worker-port "$port" --nanny-port "$((port + 1))" --no-dashboard \
        --nthreads 1 --memory-limit "$DASK_MEMORY_LIMIT" --local-directory "$DASK_DIR/work/worker-$i" \
        --death-timeout 60 >>"$LOGS/worker-$i.log" 2>&1 </dev/null) &
    echo $! >"$pidfile"
    echo "dask worker-$i: started pid $(cat "$pidfile"), ports $port/$((port + 1)) (log: $LOGS/worker-$i.log)"
  done
  "$PYTHON" -m pipeline.stackcheck dask "$ADDRESS" --workers "$DASK_WORKERS" --timeout 90 \
    || { tail -n 20 "$LOGS"/*.log >&2; die "dask: cluster not ready at $ADDRESS"; }
}

down() {
  local rc=0
  for f in "$PIDS"/worker-*.pid; do
    [ -e "$f" ] || continue
    stop_pid "dask $(basename "$f" .pid)" "$f" || rc=1
  done
  stop_pid "dask scheduler" "$PIDS/scheduler.pid" || rc=1
  return $rc
}

status() {
  local rc=0
  if pid_alive "$PIDS/scheduler.pid"; then echo "dask scheduler: running pid $(cat "$PIDS/scheduler.pid"), $ADDRESS"
  else echo "dask scheduler: stopped"; rc=3; fi
  for i in $(seq 1 "$DASK_WORKERS"); do
    if pid_alive "$PIDS/worker-$i.pid"; then echo "dask worker-$i: running pid $(cat "$PIDS/worker-$i.pid")"
    else echo "dask worker-$i: stopped"; rc=3; fi
  done
  return $rc
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
