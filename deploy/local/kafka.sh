#!/usr/bin/env bash
# Apache Kafka 4.x, one KRaft node (broker + controller) on 127.0.0.1, from jars on Maven Central.
#   kafka.sh fetch | libs | up | down | status
# up: fetches the jars once (mvn), formats storage on first start, starts the broker, and waits
# until a real client round trip (metadata + topic create) succeeds.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

JARS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
DATA="$STACK_DIR/kafka"
PIDFILE="$STACK_DIR/kafka.pid"
LOG="$STACK_DIR/kafka.log"

need_tools() {
  command -v java >/dev/null || die "java not found: install a JDK 17+ (e.g. apt-get install openjdk-17-jre-headless)"
  local major
  major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')
  [ "${major%%.*}" -ge 17 ] 2>/dev/null || die "java $major found; Kafka 4 needs Java 17 or newer"
}

fetch() {
  [ -f "$JARS/kafka_2.13-$KAFKA_VERSION.jar" ] && return 0
  command -v mvn >/dev/null || die "mvn not found: install Apache Maven (apt-get install maven) to fetch the Kafka jars"
  echo "kafka: fetching Kafka $KAFKA_VERSION jars from Maven Central (once) into $JARS"
  local tmp="$JARS.tmp"; rm -rf "$tmp"; mkdir -p "$tmp"
  mvn -q -B -f "$(dirname "${BASH_SOURCE[0]}")/kafka/pom.xml" \
      -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$STACK_DIR/mvn.log" 2>&1 \
    || { tail -20 "$STACK_DIR/mvn.log" >&2; die "mvn could not fetch the Kafka jars (log: $STACK_DIR/mvn.log)"; }
  mv "$tmp" "$JARS"   # atomic: a half-fetched cache is never used
}

write_config() {
  mkdir -p "$DATA"
  cat >"$DATA/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA/logs
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
# Retention is checked every 2 s instead of 5 min, so a test topic with a tiny retention.ms
# loses its old segments within seconds (tests/integration/test_retention_loss.py).
log.retention.check.interval.ms=2000
PROPS
  cat >"$DATA/log4j2.yaml" <<'L4J'
Configuration:
  Appenders:
    Console: {name: STDOUT, PatternLayout: {Pattern: "[%d] %p %m (%c)%n"}}
  Loggers:
    Root: {level: WARN, AppenderRef: [{ref: STDOUT}]}
    Logger: [{name: kafka.server.KafkaRaftServer, level: INFO}]
L4J
}

# Small heap: a laptop-sized single broker for development and CI. "$JARS/*" is a JVM wildcard.
run_java() {
  java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$DATA/log4j2.yaml" -cp "$JARS/*" "$@"
}

format_storage() {
  [ -f "$DATA/logs/meta.properties" ] && return 0
  local cid; cid=$(run_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  run_java kafka.tools.StorageTool format -t "$cid" -c "$DATA/server.properties" >>"$LOG" 2>&1 \
    || die "kafka: storage format failed (log: $LOG)"
  echo "kafka: storage formatted (cluster id $cid)"
}

up() {
  if pid_alive "$PIDFILE"; then echo "kafka: already running (pid $(cat "$PIDFILE"))"; wait_ready; return 0; fi
  need_tools; fetch; write_config; format_storage
  # setsid: own process group, so `down` can stop exactly what we started.
  setsid java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$DATA/log4j2.yaml" -cp "$JARS/*" \
    kafka.Kafka "$DATA/server.properties" >>"$LOG" 2>&1 < /dev/null &
  echo $! >"$PIDFILE"
  echo "kafka: started pid $(cat "$PIDFILE"), 127.0.0.1:$KAFKA_PORT (log: $LOG)"
  wait_ready
}

wait_ready() {
  "$PYTHON" -m pipeline.stackcheck kafka "127.0.0.1:$KAFKA_PORT" --timeout 90 \
    || { tail -20 "$LOG" >&2; die "kafka: not ready on 127.0.0.1:$KAFKA_PORT (log: $LOG)"; }
}

status() {
  if pid_alive "$PIDFILE"; then echo "kafka: running pid $(cat "$PIDFILE") on 127.0.0.1:$KAFKA_PORT"
  else echo "kafka: stopped"; return 3; fi
}

case "${1:-}" in
  fetch) need_tools; fetch ;;
  # The jar folder (fetched first if needed), for tests that start a broker of their own.
  libs) need_tools; fetch >&2; echo "$JARS" ;;
  up) up ;;
  down) stop_pid kafka "$PIDFILE" ;;
  status) status ;;
  *) echo "usage: $0 fetch|libs|up|down|status" >&2; exit 2 ;;
esac
