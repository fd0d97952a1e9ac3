#!/usr/bin/env bash
# The whole VRSky pipeline on this machine, without Docker:
#   a private PostgreSQL cluster (databases "source" and "sink" with the demo tables),
#   nats-server with JetStream, postgres-consumer and postgres-producer from the built jars,
#   and a demo writer; every few seconds it prints the newest rows of the source and the sink.
#
# usage: scripts/quickstart-local.sh [--no-writer]
# Needs: JDK 17, PostgreSQL server binaries (initdb, pg_ctl) and psql, nats-server, curl.
# Builds the jars when missing. Ctrl-C stops everything and deletes the temp directory.
# Ports are picked at random and printed; set QUICKSTART_PG_PORT / QUICKSTART_NATS_PORT to fix them.
set -uo pipefail

VRSKY_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK=$(mktemp -d /tmp/vrsky-quickstart.XXXXXX)
# shellcheck source=lib/common.sh
. "$VRSKY_ROOT/scripts/lib/common.sh"

WRITER=1
[ "${1:-}" = "--no-writer" ] && WRITER=0

cleanup() {
  trap - EXIT INT TERM
  echo
  log "stopping"
  stop_recorded_processes
  pg_stop pg fast
  rm -rf "$WORK"
  log "stopped; removed $WORK"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

PG_PORT=${QUICKSTART_PG_PORT:-$(free_port)}
NATS_PORT=${QUICKSTART_NATS_PORT:-$(free_port)}
NATS_MON=$(free_port)
CONSUMER_HEALTH=$(free_port)
PRODUCER_HEALTH=$(free_port)
TABLES=public.customers,public.orders,public.order_lines

ensure_jars
command -v psql >/dev/null || die "psql is missing (apt-get install postgresql-client)"

log "PostgreSQL on 127.0.0.1:$PG_PORT (data in $WORK/pg)"
pg_init pg "$PG_PORT"
pg_start pg
psql_q() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_q -d postgres -c "CREATE DATABASE source" -c "CREATE DATABASE sink"
psql_q -d source -f "$VRSKY_ROOT/docker/postgres/demo-schema.psql"
psql_q -d sink -f "$VRSKY_ROOT/docker/postgres/demo-schema.psql"

log "nats-server with JetStream on 127.0.0.1:$NATS_PORT (monitoring http://127.0.0.1:$NATS_MON)"
nats_start nats "$NATS_PORT" "$NATS_MON"

log "postgres-consumer: source -> NATS (health http://127.0.0.1:$CONSUMER_HEALTH/health/ready, log $WORK/consumer.log)"
service_start consumer "$CONSUMER_JAR" "$WORK/consumer.log" "$VRSKY_JAVA_OPTS" \
  POSTGRES_INPUT_HOST=127.0.0.1 POSTGRES_INPUT_PORT="$PG_PORT" POSTGRES_INPUT_USER=postgres POSTGRES_INPUT_PASSWORD=unused-with-trust \
  POSTGRES_INPUT_DATABASE=source POSTGRES_INPUT_SSLMODE=disable POSTGRES_INPUT_REPLICATION_SLOT=vrsky_quickstart \
  POSTGRES_INPUT_PUBLICATION=vrsky_quickstart_pub POSTGRES_INPUT_TABLES=$TABLES POSTGRES_INPUT_BATCH_TIMEOUT=500ms \
  NATS_URL="nats://127.0.0.1:$NATS_PORT" NATS_SUBJECT=vrsky.cdc.source HEALTH_PORT="$CONSUMER_HEALTH"
wait_http "http://127.0.0.1:$CONSUMER_HEALTH/health/ready" 60 || { tail -30 "$WORK/consumer.log"; die "the consumer did not become ready"; }

log "postgres-producer: NATS -> sink (health http://127.0.0.1:$PRODUCER_HEALTH/health/ready, log $WORK/producer.log)"
service_start producer "$PRODUCER_JAR" "$WORK/producer.log" "$VRSKY_JAVA_OPTS" \
  POSTGRES_OUTPUT_HOST=127.0.0.1 POSTGRES_OUTPUT_PORT="$PG_PORT" POSTGRES_OUTPUT_USER=postgres POSTGRES_OUTPUT_PASSWORD=unused-with-trust \
  POSTGRES_OUTPUT_DATABASE=sink POSTGRES_OUTPUT_SSLMODE=disable POSTGRES_OUTPUT_TABLES=$TABLES \
  POSTGRES_OUTPUT_FLUSH_INTERVAL=500ms NATS_URL="nats://127.0.0.1:$NATS_PORT" NATS_SUBJECT=vrsky.cdc.source \
  NATS_DURABLE=vrsky-quickstart HEALTH_PORT="$PRODUCER_HEALTH"
wait_http "http://127.0.0.1:$PRODUCER_HEALTH/health/ready" 60 || { tail -30 "$WORK/producer.log"; die "the producer did not become ready"; }

cat <<EOF

  The pipeline is running. Try it yourself in another terminal:
    psql -h 127.0.0.1 -p $PG_PORT -U postgres -d source -c "INSERT INTO customers (id, name) VALUES (999999, 'me')"
    psql -h 127.0.0.1 -p $PG_PORT -U postgres -d sink   -c "SELECT * FROM customers WHERE id = 999999"
  Metrics: curl http://127.0.0.1:$CONSUMER_HEALTH/metrics   curl http://127.0.0.1:$PRODUCER_HEALTH/metrics
  Ctrl-C stops everything.

EOF

n=0
while :; do
  if [ "$WRITER" = 1 ]; then
    n=$((n + 1))
    psql_q -d source >/dev/null <<SQL
BEGIN;
INSERT INTO customers (id, name, email) VALUES ($n, 'customer $n', 'c$n@example.com');
INSERT INTO orders (id, customer_id, amount, items) VALUES ($n, $n, round((random() * 500)::numeric, 2), '{"via": "quickstart"}');
INSERT INTO order_lines VALUES ($n, 1, 'SKU-' || ($n % 17), 1 + $n % 3, 9.99);
UPDATE orders SET status = 'paid', updated_at = now() WHERE id = $n - 2;
DELETE FROM orders WHERE id = $n - 10;
COMMIT;
SQL
  fi
  sleep 2
  src=$(psql_q -d source -tAc "SELECT count(*) || ' orders, newest: ' || coalesce(max(id)::text, '-') || ', paid: ' || count(*) FILTER (WHERE status = 'paid') FROM orders")
  snk=$(psql_q -d sink -tAc "SELECT count(*) || ' orders, newest: ' || coalesce(max(id)::text, '-') || ', paid: ' || count(*) FILTER (WHERE status = 'paid') FROM orders")
  printf '%s  source: %-40s sink: %s\n' "$(date +%H:%M:%S)" "$src" "$snk"
  for s in consumer producer; do
    pid=$(service_pid $s)
    kill -0 "$pid" 2>/dev/null || { tail -20 "$WORK/$s.log"; die "$s stopped"; }
  done
done
