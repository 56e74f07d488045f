#!/usr/bin/env bash
# The whole local stack: Kafka (KRaft) + SeaweedFS S3.   stack.sh up | down | status
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  up) bash "$here/kafka.sh" up && bash "$here/seaweedfs.sh" up ;;
  down) rc=0; bash "$here/seaweedfs.sh" down || rc=1; bash "$here/kafka.sh" down || rc=1; exit $rc ;;
  status) rc=0; bash "$here/kafka.sh" status || rc=3; bash "$here/seaweedfs.sh" status || rc=3; exit $rc ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
