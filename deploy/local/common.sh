# Shared settings for the local stack scripts. Every value can be overridden from the environment.
# Sourced, not executed.
NEWSBEAM_ROOT="${NEWSBEAM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
STACK_DIR="${NEWSBEAM_STACK_DIR:-$NEWSBEAM_ROOT/.stack}"          # data + pids + logs (git-ignored)
CACHE_DIR="${NEWSBEAM_CACHE_DIR:-$HOME/.cache/newsbeam}"          # jars fetched once
KAFKA_VERSION="${NEWSBEAM_KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${NEWSBEAM_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${NEWSBEAM_KAFKA_CONTROLLER_PORT:-9093}"
S3_PORT="${NEWSBEAM_S3_PORT:-8333}"
# SeaweedFS mini also opens master/volume/filer ports; keep them configurable to avoid clashes.
WEED_MASTER_PORT="${NEWSBEAM_WEED_MASTER_PORT:-9333}"
WEED_VOLUME_PORT="${NEWSBEAM_WEED_VOLUME_PORT:-9340}"
WEED_FILER_PORT="${NEWSBEAM_WEED_FILER_PORT:-8888}"
S3_ACCESS_KEY="${NEWSBEAM_S3_ACCESS_KEY:-newsbeam}"
S3_SECRET_KEY="${NEWSBEAM_S3_SECRET_KEY:-newsbeam-local-secret}"
S3_BUCKET="${NEWSBEAM_S3_BUCKET:-newsbeam}"
PYTHON="${NEWSBEAM_PYTHON:-$NEWSBEAM_ROOT/.venv/bin/python}"
# The Dask cluster of `dask.sh` (Beam's DaskRunner): a scheduler and DASK_WORKERS workers, worker i
# on ports DASK_WORKER_PORT + 2(i-1) (worker) and + 1 (its nanny).
DASK_DIR="${NEWSBEAM_DASK_DIR:-$STACK_DIR/dask}"
DASK_SCHEDULER_PORT="${NEWSBEAM_DASK_SCHEDULER_PORT:-8786}"
DASK_WORKER_PORT="${NEWSBEAM_DASK_WORKER_PORT:-8790}"
DASK_WORKERS="${NEWSBEAM_DASK_WORKERS:-2}"
DASK_MEMORY_LIMIT="${NEWSBEAM_DASK_MEMORY_LIMIT:-3GiB}"           # per worker; spaCy peaks ~1.1 GB
# Worker deaths a task may see before the run fails (0: the first one fails it; the next run redoes
# the records, see docs/operations.md "Scaling out").
DASK_ALLOWED_FAILURES="${NEWSBEAM_DASK_ALLOWED_FAILURES:-0}"

mkdir -p "$STACK_DIR"

die() { echo "newsbeam stack: $*" >&2; exit 1; }

# pid_alive FILE -> 0 when the pid in FILE names a live process we started.
pid_alive() {
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# stop_pid NAME FILE: SIGTERM the recorded process group, wait, then SIGKILL. Only what we started.
stop_pid() {
  local name=$1 file=$2 pid
  if ! pid_alive "$file"; then rm -f "$file"; echo "$name: not running"; return 0; fi
  pid=$(cat "$file")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"; fi
  rm -f "$file"; echo "$name: stopped (pid $pid)"
}
