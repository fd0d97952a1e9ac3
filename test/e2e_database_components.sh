#!/usr/bin/env bash
# The scenario and backend functions run through run "..." NAME and through traps, which shellcheck
# cannot follow: it would call every one of them unreachable.
# shellcheck disable=SC2317
# End-to-end scenarios of the VRSky database connectors, run the way a user runs them:
#   source PostgreSQL -> postgres-consumer.jar -> NATS JetStream -> postgres-producer.jar -> sink PostgreSQL
#
# usage: test/e2e_database_components.sh --local | --docker [--keep]
#   --local   a private PostgreSQL cluster (initdb, free port) and nats-server -js (free port) in a
#             temp dir, the jars run with java (built first when missing). No Docker needed.
#   --docker  docker compose (docker-compose.yml), images built from docker/service.Dockerfile.
#   --keep    leave the temp dir (data, logs) behind for inspection.
#
# Prints PASS/FAIL per scenario and "N passed, N failed"; exits non-zero on any failure. Everything
# it started is stopped on exit and on Ctrl-C. Service logs are copied to target/e2e-logs/.
set -uo pipefail

VRSKY_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODE=""
KEEP=0
for arg in "$@"; do
  case "$arg" in
    --local) MODE=local ;;
    --docker) MODE=docker ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (use --local or --docker)" >&2; exit 2 ;;
  esac
done
[ -n "$MODE" ] || { echo "usage: $0 --local | --docker [--keep]" >&2; exit 2; }

WORK=$(mktemp -d /tmp/vrsky-e2e.XXXXXX)
# shellcheck source=../scripts/lib/common.sh
. "$VRSKY_ROOT/scripts/lib/common.sh"

SLOT=vrsky_e2e_slot
PUBLICATION=vrsky_e2e_pub
STREAM=VRSKY_CDC
SUBJECT=vrsky.cdc.source
DURABLE=vrsky-e2e-producer
CONSUMER_DLQ=vrsky.dlq.postgres-consumer
PRODUCER_DLQ=vrsky.dlq.postgres-producer
TABLES="public.customers,public.orders,public.order_lines"
LOG_DIR="$VRSKY_ROOT/target/e2e-logs"
COMPOSE=(docker compose -p vrsky-e2e -f "$VRSKY_ROOT/docker-compose.yml")
PASSED=0
FAILED=0
FAILED_NAMES=()

# ------------------------------------------------------------------------------------------------
# cleanup: on every exit, including Ctrl-C
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  mkdir -p "$LOG_DIR"
  if [ "$MODE" = local ]; then
    stop_recorded_processes
    pg_stop pg immediate
    cp "$WORK"/*.log "$WORK"/pg/server.log "$WORK"/nats/nats.log "$LOG_DIR"/ 2>/dev/null
  elif [ "$MODE" = docker ] && [ -n "${COMPOSE_STARTED:-}" ]; then
    "${COMPOSE[@]}" logs --no-color >"$LOG_DIR/compose.log" 2>&1
    "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1
    stop_recorded_processes
  fi
  if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ------------------------------------------------------------------------------------------------
# backend: the same operations over local processes or docker compose

if [ "$MODE" = local ]; then
  PG_PORT=$(free_port); NATS_PORT=$(free_port); NATS_MON=$(free_port)
  CONSUMER_HEALTH=$(free_port); PRODUCER_HEALTH=$(free_port)
  NATS_URL_HOST="nats://127.0.0.1:$NATS_PORT"

  psql_db() { local db=$1; shift; psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

  consumer_env() {
    echo POSTGRES_INPUT_HOST=127.0.0.1 POSTGRES_INPUT_PORT="$PG_PORT" POSTGRES_INPUT_USER=postgres \
      POSTGRES_INPUT_PASSWORD=e2e-secret-not-logged POSTGRES_INPUT_DATABASE=source POSTGRES_INPUT_SSLMODE=disable \
      POSTGRES_INPUT_REPLICATION_SLOT="$SLOT" POSTGRES_INPUT_PUBLICATION="$PUBLICATION" POSTGRES_INPUT_TABLES="$TABLES" \
      POSTGRES_INPUT_BATCH_TIMEOUT=200ms NATS_URL="$NATS_URL_HOST" NATS_STREAM=$STREAM NATS_SUBJECT=$SUBJECT \
      NATS_DLQ_SUBJECT=$CONSUMER_DLQ HEALTH_PORT="$CONSUMER_HEALTH"
  }
  producer_env() {
    echo POSTGRES_OUTPUT_HOST=127.0.0.1 POSTGRES_OUTPUT_PORT="$PG_PORT" POSTGRES_OUTPUT_USER=postgres \
      POSTGRES_OUTPUT_PASSWORD=e2e-secret-not-logged POSTGRES_OUTPUT_DATABASE=sink POSTGRES_OUTPUT_SSLMODE=disable \
      POSTGRES_OUTPUT_TABLES=$TABLES POSTGRES_OUTPUT_FLUSH_INTERVAL=200ms NATS_URL="$NATS_URL_HOST" NATS_STREAM=$STREAM \
      NATS_SUBJECT=$SUBJECT NATS_DURABLE=$DURABLE NATS_DLQ_SUBJECT=$PRODUCER_DLQ HEALTH_PORT="$PRODUCER_HEALTH"
  }

  # vrsky-admin next to both services: the source, the sink and NATS, the producer's dead letters
  admin_env() {
    echo POSTGRES_INPUT_HOST=127.0.0.1 POSTGRES_INPUT_PORT="$PG_PORT" POSTGRES_INPUT_USER=postgres \
      POSTGRES_INPUT_PASSWORD=e2e-secret-not-logged POSTGRES_INPUT_DATABASE=source POSTGRES_INPUT_SSLMODE=disable \
      POSTGRES_INPUT_REPLICATION_SLOT="$SLOT" POSTGRES_INPUT_PUBLICATION="$PUBLICATION" POSTGRES_INPUT_TABLES="$TABLES" \
      POSTGRES_OUTPUT_HOST=127.0.0.1 POSTGRES_OUTPUT_PORT="$PG_PORT" POSTGRES_OUTPUT_USER=postgres \
      POSTGRES_OUTPUT_PASSWORD=e2e-secret-not-logged POSTGRES_OUTPUT_DATABASE=sink POSTGRES_OUTPUT_SSLMODE=disable \
      NATS_URL="$NATS_URL_HOST" NATS_STREAM="$STREAM" NATS_SUBJECT="$SUBJECT" NATS_DURABLE="$DURABLE" NATS_DLQ_SUBJECT="$PRODUCER_DLQ"
  }

  backend_up() {
    log "local mode: PostgreSQL :$PG_PORT, nats-server :$NATS_PORT (monitor :$NATS_MON), work dir $WORK"
    ensure_jars
    pg_init pg "$PG_PORT"
    pg_start pg
    psql_db postgres -c "CREATE DATABASE source" -c "CREATE DATABASE sink" >/dev/null
    psql_db source -f "$VRSKY_ROOT/docker/postgres/demo-schema.psql" >/dev/null
    psql_db sink -f "$VRSKY_ROOT/docker/postgres/demo-schema.psql" >/dev/null
    nats_start nats "$NATS_PORT" "$NATS_MON"
    seed_existing_rows
    svc_start consumer && svc_start producer
  }

  # svc_start consumer|producer: start and wait for /health/ready
  svc_start() {
    local name=$1 jar env
    if [ "$name" = consumer ]; then jar=$CONSUMER_JAR; env=$(consumer_env); else jar=$PRODUCER_JAR; env=$(producer_env); fi
    # shellcheck disable=SC2086 # env is a list of KEY=VALUE words without spaces
    service_start "$name" "$jar" "$WORK/$name.log" "$VRSKY_JAVA_OPTS" $env
    svc_wait_ready "$name"
  }
  svc_kill9() { service_stop "$1" KILL; }
  svc_term() { service_stop "$1" TERM; }
  health_url() { if [ "$1" = consumer ]; then echo "http://127.0.0.1:$CONSUMER_HEALTH"; else echo "http://127.0.0.1:$PRODUCER_HEALTH"; fi; }
  svc_log() { cat "$WORK/$1.log" 2>/dev/null; }
else
  command -v docker >/dev/null 2>&1 || die "docker is not installed"
  docker compose version >/dev/null 2>&1 || die "the docker compose plugin is missing"
  docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed); use --local"
  export POSTGRES_HOST_PORT NATS_HOST_PORT NATS_MONITOR_HOST_PORT CONSUMER_HEALTH_HOST_PORT PRODUCER_HEALTH_HOST_PORT
  POSTGRES_HOST_PORT=$(free_port); NATS_HOST_PORT=$(free_port); NATS_MONITOR_HOST_PORT=$(free_port)
  CONSUMER_HEALTH_HOST_PORT=$(free_port); PRODUCER_HEALTH_HOST_PORT=$(free_port)
  export POSTGRES_INPUT_REPLICATION_SLOT=$SLOT POSTGRES_INPUT_PUBLICATION=$PUBLICATION POSTGRES_INPUT_TABLES=$TABLES \
    POSTGRES_OUTPUT_TABLES=$TABLES POSTGRES_INPUT_BATCH_TIMEOUT=200ms POSTGRES_OUTPUT_FLUSH_INTERVAL=200ms \
    NATS_STREAM=$STREAM NATS_SUBJECT=$SUBJECT NATS_DURABLE=$DURABLE CONSUMER_NATS_DLQ_SUBJECT=$CONSUMER_DLQ \
    PRODUCER_NATS_DLQ_SUBJECT=$PRODUCER_DLQ
  NATS_URL_HOST="nats://127.0.0.1:$NATS_HOST_PORT"
  PG_USER=${POSTGRES_USER:-vrsky}

  psql_db() { local db=$1; shift; "${COMPOSE[@]}" exec -T postgres psql -U "$PG_USER" -d "$db" -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

  # vrsky-admin on this machine against the published ports
  admin_env() {
    local pw=${POSTGRES_PASSWORD:-vrsky-demo-password}
    echo POSTGRES_INPUT_HOST=127.0.0.1 POSTGRES_INPUT_PORT="$POSTGRES_HOST_PORT" POSTGRES_INPUT_USER="$PG_USER" \
      POSTGRES_INPUT_PASSWORD="$pw" POSTGRES_INPUT_DATABASE=source POSTGRES_INPUT_SSLMODE=disable \
      POSTGRES_INPUT_REPLICATION_SLOT="$SLOT" POSTGRES_INPUT_PUBLICATION="$PUBLICATION" POSTGRES_INPUT_TABLES="$TABLES" \
      POSTGRES_OUTPUT_HOST=127.0.0.1 POSTGRES_OUTPUT_PORT="$POSTGRES_HOST_PORT" POSTGRES_OUTPUT_USER="$PG_USER" \
      POSTGRES_OUTPUT_PASSWORD="$pw" POSTGRES_OUTPUT_DATABASE=sink POSTGRES_OUTPUT_SSLMODE=disable \
      NATS_URL="$NATS_URL_HOST" NATS_STREAM="$STREAM" NATS_SUBJECT="$SUBJECT" NATS_DURABLE="$DURABLE" NATS_DLQ_SUBJECT="$PRODUCER_DLQ"
  }

  backend_up() {
    log "docker mode: compose project vrsky-e2e, PostgreSQL :$POSTGRES_HOST_PORT, NATS :$NATS_HOST_PORT"
    ensure_jars # NatsTool runs on a jar's classpath
    COMPOSE_STARTED=1
    "${COMPOSE[@]}" build postgres-consumer postgres-producer || die "docker compose build failed"
    "${COMPOSE[@]}" up -d --wait postgres nats || die "postgres/nats did not become healthy"
    seed_existing_rows
    "${COMPOSE[@]}" up -d --wait postgres-consumer postgres-producer || die "the services did not become healthy"
  }
  svc_service() { if [ "$1" = consumer ]; then echo postgres-consumer; else echo postgres-producer; fi; }
  svc_start() { "${COMPOSE[@]}" start "$(svc_service "$1")" >/dev/null 2>&1; svc_wait_ready "$1"; }
  svc_kill9() { "${COMPOSE[@]}" kill -s SIGKILL "$(svc_service "$1")" >/dev/null 2>&1; SERVICE_EXIT=137; }
  svc_term() {
    local c; c=$("${COMPOSE[@]}" ps -q "$(svc_service "$1")")
    "${COMPOSE[@]}" stop -t 60 "$(svc_service "$1")" >/dev/null 2>&1
    SERVICE_EXIT=$(docker inspect -f '{{.State.ExitCode}}' "$c")
  }
  health_url() { if [ "$1" = consumer ]; then echo "http://127.0.0.1:$CONSUMER_HEALTH_HOST_PORT"; else echo "http://127.0.0.1:$PRODUCER_HEALTH_HOST_PORT"; fi; }
  svc_log() { "${COMPOSE[@]}" logs --no-color "$(svc_service "$1")" 2>&1; }
fi

src() { psql_db source -c "$1"; }

# Rows that exist before the consumer first starts (its initial snapshot copies them); ids far
# above the ones the scenarios use.
SEEDED_CUSTOMERS=5003
seed_existing_rows() {
  psql_db source -c "INSERT INTO customers (id, name, email) SELECT g, 'existing ' || g, 'e' || g || '@example.com'
                       FROM generate_series(1000001, 1000000 + $SEEDED_CUSTOMERS) g" \
    -c "INSERT INTO orders (id, customer_id, amount, items) SELECT g, 1000001 + g % 100, g % 1000 + 0.25, '{\"seed\": true}'
                       FROM generate_series(1000001, 1002000) g" \
    -c "INSERT INTO order_lines SELECT 1000001 + g % 2000, g, 'SKU-' || g, g % 5 + 1, 9.99 FROM generate_series(1, 3000) g" >/dev/null \
    || die "could not seed the source with existing rows"
}
# admin ARGS...: runs vrsky-admin (the shaded jar) with admin_env
# shellcheck disable=SC2046 # admin_env is a list of KEY=VALUE words without spaces
admin() { env $(admin_env) java -jar "$ADMIN_JAR" "$@"; }
sink() { psql_db sink -c "$1"; }
svc_wait_ready() { wait_http "$(health_url "$1")/health/ready" 90 || { log "$1 not ready:"; svc_log "$1" | tail -30 >&2; return 1; }; }

# ------------------------------------------------------------------------------------------------
# comparing source and sink

key_of() { case "$1" in order_lines) echo "order_id, line_no" ;; *) echo id ;; esac; }
fingerprint() { # DB TABLE -> "count:md5" of every row's text form, ordered by key
  psql_db "$1" -c "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY $(key_of "$2")), '')) FROM $2 t"
}
in_sync() { # [SINK DATABASE]
  local t db=${1:-sink}
  for t in customers orders order_lines; do
    [ "$(fingerprint source "$t")" = "$(fingerprint "$db" "$t")" ] || return 1
  done
}
# wait_sync [SECONDS [SINK DATABASE]]: until every table in the sink equals the source
wait_sync() {
  local secs=${1:-60} db=${2:-sink} start=$SECONDS
  while (( SECONDS - start < secs )); do
    in_sync "$db" 2>/dev/null && return 0
    sleep 0.25
  done
  local t
  for t in customers orders order_lines; do
    echo "  $t: source $(fingerprint source "$t"), $db $(fingerprint "$db" "$t")" >&2
  done
  return 1
}
expect() { # expect DESCRIPTION ACTUAL EXPECTED
  [ "$2" = "$3" ] && return 0
  echo "  $1: expected '$3', got '$2'" >&2
  return 1
}

# ------------------------------------------------------------------------------------------------
# scenarios: each returns 0 (PASS) or non-zero (FAIL) and explains failures on stderr

scenario_initial_snapshot() {
  # the rows written before the consumer ever started reach the sink (initial snapshot), exactly once
  wait_sync 120 || return 1
  expect "seeded customers in the sink" "$(sink "SELECT count(*) FROM customers WHERE id > 1000000")" "$SEEDED_CUSTOMERS" \
    && expect "seeded order lines in the sink" "$(sink "SELECT count(*) FROM order_lines WHERE order_id > 1000000")" 3000 \
    && expect "snapshot rows metric of public.customers" \
      "$(curl -fsS "$(health_url consumer)/metrics" | grep -c '^vrsky_consumer_snapshot_rows_total{slot="[^"]*",table="public.customers"')" 1
}

scenario_insert() {
  src "INSERT INTO customers (id, name, email) VALUES (1, 'Ada', 'ada@example.com'), (2, 'Bob', NULL), (3, 'Cé ''quoted''', 'c@example.com')"
  src "INSERT INTO orders (id, customer_id, amount, items) VALUES (1, 1, 10.50, '{\"sku\": [1, 2]}')"
  src "INSERT INTO orders (id, customer_id, amount) VALUES (2, 2, 99999.99)"
  wait_sync 60 && expect "sink customers" "$(sink "SELECT count(*) FROM customers WHERE id < 1000000")" 3 \
    && expect "sink order 1" "$(sink "SELECT amount || ' ' || (items->'sku'->>1) FROM orders WHERE id = 1")" "10.50 2"
}

scenario_update() {
  src "UPDATE orders SET status = 'paid', updated_at = now() WHERE id = 1"
  src "UPDATE customers SET tier = 'gold', email = NULL WHERE id IN (1, 3)"
  wait_sync 60 && expect "sink order 1 status" "$(sink "SELECT status FROM orders WHERE id = 1")" paid \
    && expect "gold customers" "$(sink "SELECT count(*) FROM customers WHERE tier = 'gold' AND email IS NULL")" 2
}

scenario_delete() {
  src "DELETE FROM orders WHERE id = 2"
  src "DELETE FROM customers WHERE id = 2"
  wait_sync 60 && expect "deleted rows left in sink" "$(sink "SELECT count(*) FROM orders WHERE id = 2")" 0
}

scenario_multi_row_transaction() {
  psql_db source <<'SQL'
BEGIN;
INSERT INTO customers (id, name) SELECT g, 'tx customer ' || g FROM generate_series(100, 149) g;
INSERT INTO orders (id, customer_id, amount) SELECT g, g, g * 1.25 FROM generate_series(100, 149) g;
INSERT INTO order_lines SELECT o, l, 'SKU-' || l, l, 2.50 FROM generate_series(100, 149) o, generate_series(1, 2) l;
UPDATE orders SET status = 'shipped' WHERE id BETWEEN 100 AND 109;
DELETE FROM order_lines WHERE order_id = 149;
DELETE FROM orders WHERE id = 149;
COMMIT;
SQL
  wait_sync 60 && expect "sink order lines of the transaction" "$(sink "SELECT count(*) FROM order_lines WHERE order_id BETWEEN 100 AND 149")" 98 \
    && expect "shipped" "$(sink "SELECT count(*) FROM orders WHERE status = 'shipped'")" 10
}

scenario_large_batch() {
  src "INSERT INTO orders (id, customer_id, amount, status, items) SELECT g, g % 50, (g % 1000) + 0.99, 'bulk', jsonb_build_object('n', g) FROM generate_series(10000, 14999) g"
  src "INSERT INTO order_lines SELECT o, l, 'BULK-' || o, 1, 0.10 FROM generate_series(10000, 14999) o, generate_series(1, 2) l"
  wait_sync 120 && expect "bulk orders in sink" "$(sink "SELECT count(*) FROM orders WHERE status = 'bulk'")" 5000 \
    && expect "bulk lines in sink" "$(sink "SELECT count(*) FROM order_lines WHERE order_id BETWEEN 10000 AND 14999")" 10000
}

scenario_error_recovery() {
  local before after header
  before=$(nats_tool count "$NATS_URL_HOST" VRSKY_DLQ "$PRODUCER_DLQ") || return 1
  nats_tool publish "$NATS_URL_HOST" "$SUBJECT" '{"this is": "not an envelope"' "e2e-bad-$$" >/dev/null || return 1
  nats_tool publish "$NATS_URL_HOST" "$SUBJECT" \
    '{"payload":{"changes":[{"op":"INSERT","table":"no_such_table","after":{"id":1}}]}}' "e2e-bad2-$$" >/dev/null || return 1
  local start=$SECONDS
  while (( SECONDS - start < 30 )); do
    after=$(nats_tool count "$NATS_URL_HOST" VRSKY_DLQ "$PRODUCER_DLQ")
    (( after >= before + 2 )) && break
    sleep 0.5
  done
  expect "dead letters on $PRODUCER_DLQ" "$(( after - before ))" 2 || return 1
  header=$(nats_tool last "$NATS_URL_HOST" VRSKY_DLQ "$PRODUCER_DLQ" | grep -i '^Vrsky-Error-Class:' | tr -d '\r')
  [ -n "$header" ] || { echo "  the dead letter has no Vrsky-Error-Class header" >&2; return 1; }
  # the line keeps moving
  src "INSERT INTO customers (id, name) VALUES (500, 'after the bad messages')"
  wait_sync 60 && expect "row after the dead letters" "$(sink "SELECT name FROM customers WHERE id = 500")" "after the bad messages"
}

# wait_sink SQL EXPECTED [SECONDS]: until the sink query prints EXPECTED
wait_sink() {
  local secs=${3:-60} start=$SECONDS got=""
  while (( SECONDS - start < secs )); do
    got=$(sink "$1" 2>/dev/null) && [ "$got" = "$2" ] && return 0
    sleep 0.25
  done
  echo "  sink: $1 -> expected '$2', got '$got'" >&2
  return 1
}

# Three transactions committed while the consumer is stopped arrive packed in one message; the sink
# refuses the middle one (a CHECK the source lacks): the other two are applied, the refused one is
# one dead letter holding only its own change, and nothing else stops.
scenario_packed_poison() {
  local before after seq source_seq
  sink "ALTER TABLE customers ADD CONSTRAINT e2e_sink_only CHECK (name <> 'refused by the sink')" || return 1
  before=$(nats_tool count "$NATS_URL_HOST" VRSKY_DLQ "$PRODUCER_DLQ") || return 1
  svc_term consumer
  expect "consumer exit code after SIGTERM" "$SERVICE_EXIT" 0 || return 1
  src "INSERT INTO customers (id, name) VALUES (801, 'packed first')" >/dev/null
  src "INSERT INTO customers (id, name) VALUES (802, 'refused by the sink')" >/dev/null
  src "INSERT INTO customers (id, name) VALUES (803, 'packed third')" >/dev/null
  svc_start consumer || return 1
  wait_sink "SELECT count(*) FROM customers WHERE id IN (801, 803)" 2 || return 1
  local start=$SECONDS
  while (( SECONDS - start < 30 )); do
    after=$(nats_tool count "$NATS_URL_HOST" VRSKY_DLQ "$PRODUCER_DLQ")
    (( after >= before + 1 )) && break
    sleep 0.5
  done
  expect "dead letters" "$(( after - before ))" 1 || return 1
  expect "refused row in the sink" "$(sink "SELECT count(*) FROM customers WHERE id = 802")" 0 || return 1
  seq=$(nats_tool lastseqon "$NATS_URL_HOST" VRSKY_DLQ "$PRODUCER_DLQ")
  nats_tool get "$NATS_URL_HOST" VRSKY_DLQ "$seq" >"$WORK/dead.txt" || return 1
  grep -q '^Vrsky-Sql-State: 23514' "$WORK/dead.txt" || { echo "  no SQLSTATE 23514 on the dead letter" >&2; return 1; }
  grep -q '"changeCount":1[,}]' "$WORK/dead.txt" || { echo "  the dead letter holds more than the refused change" >&2; return 1; }
  source_seq=$(sed -n 's/^Vrsky-Source-Sequence: //p' "$WORK/dead.txt" | tr -d '\r')
  nats_tool get "$NATS_URL_HOST" "$STREAM" "$source_seq" | grep -q '"transactionCount":[2-9]' \
    || { echo "  the message that held it packed only one transaction" >&2; return 1; }
}

# The dead letter of scenario_packed_poison, replayed with vrsky-admin once the sink is fixed, is applied
# exactly once: vrsky-admin lists it with its SQLSTATE, publishes it back with Vrsky-Replay, and refuses a
# second replay because the sink recorded the first (one applied position under replay:<id>).
scenario_admin_dlq_replay() {
  local seq out rc
  seq=$(nats_tool lastseqon "$NATS_URL_HOST" VRSKY_DLQ "$PRODUCER_DLQ")
  [ "$seq" -gt 0 ] || { echo "  no dead letter to replay" >&2; return 1; }
  out=$(admin dlq list) || { echo "  vrsky-admin dlq list failed: $out" >&2; return 1; }
  printf '%s\n' "$out" | grep -Eq "^$seq +[^ ]+ +$PRODUCER_DLQ +sql +23514 " \
    || { echo "  dlq list does not show dead letter $seq with SQLSTATE 23514:" >&2; printf '%s\n' "$out" >&2; return 1; }
  sink "ALTER TABLE customers DROP CONSTRAINT e2e_sink_only" || return 1
  out=$(admin dlq replay "$seq") || { echo "  vrsky-admin dlq replay failed: $out" >&2; return 1; }
  printf '%s\n' "$out" | grep -Eq "^replayed dead letter $seq as VRSKY_DLQ-$seq to $SUBJECT \(stream sequence [0-9]+\)$" \
    || { echo "  unexpected replay output: $out" >&2; return 1; }
  wait_sink "SELECT name FROM customers WHERE id = 802" "refused by the sink" || return 1
  wait_sink "SELECT count(*) FROM vrsky_applied_position WHERE source = 'replay:VRSKY_DLQ-$seq'" 1 || return 1
  out=$(admin dlq replay "$seq" 2>&1); rc=$?
  expect "exit code of a second replay" "$rc" 1 || return 1
  printf '%s\n' "$out" | grep -q "was replayed as VRSKY_DLQ-$seq already" \
    || { echo "  the second replay does not say it was replayed already: $out" >&2; return 1; }
  wait_sync 60 && expect "row 802 in the sink" "$(sink "SELECT count(*) FROM customers WHERE id = 802")" 1 \
    && expect "replay recorded once" "$(sink "SELECT count(*) FROM vrsky_applied_position WHERE source = 'replay:VRSKY_DLQ-$seq'")" 1
}

# vrsky-admin status sees the running pipeline: the active slot, the stream, the producer's durable, the
# sink's position of this source, and no error.
scenario_admin_status() {
  local json text
  wait_sync 60 || return 1
  json=$(admin status --json) || { echo "  vrsky-admin status --json failed" >&2; return 1; }
  printf '%s\n' "$json" | grep -q "\"name\" : \"$SLOT\"" || { echo "  no slot $SLOT in: $json" >&2; return 1; }
  printf '%s\n' "$json" | grep -q "\"active\" : true" || { echo "  the slot is not active: $json" >&2; return 1; }
  printf '%s\n' "$json" | grep -q "\"name\" : \"$DURABLE\"" || { echo "  no durable $DURABLE in: $json" >&2; return 1; }
  printf '%s\n' "$json" | grep -q "\"source\" : \"postgres-consumer/source/$SLOT\"" \
    || { echo "  no applied position of postgres-consumer/source/$SLOT in: $json" >&2; return 1; }
  printf '%s\n' "$json" | grep -q '"errors" : \[ \]' || { echo "  status reports errors: $json" >&2; return 1; }
  text=$(admin status) || return 1
  printf '%s\n' "$text" | grep -q "^stream $STREAM: " || { echo "  no stream line in: $text" >&2; return 1; }
}

# json/jsonb travel as their own text: the document null is not SQL NULL.
scenario_json_null() {
  src "INSERT INTO orders (id, customer_id, amount, items) VALUES (900, 1, 1, 'null'), (901, 1, 1, NULL)" >/dev/null
  wait_sync 60 && expect "document null in the sink" "$(sink "SELECT count(*) FROM orders WHERE id = 900 AND items = 'null'::jsonb")" 1 \
    && expect "SQL NULL in the sink" "$(sink "SELECT count(*) FROM orders WHERE id = 901 AND items IS NULL")" 1
}

# A column added at the source with a default reaches the sink by itself, old rows holding the default.
scenario_schema_add_column() {
  src "ALTER TABLE customers ADD COLUMN loyalty int NOT NULL DEFAULT 7" || return 1
  src "INSERT INTO customers (id, name, loyalty) VALUES (950, 'after the new column', 8)" >/dev/null
  wait_sync 60 || return 1
  expect "sink column" "$(sink "SELECT format_type(atttypid, atttypmod) || ' ' || attnotnull FROM pg_attribute
    WHERE attrelid = 'customers'::regclass AND attname = 'loyalty'")" "integer true" || return 1
  expect "old rows with the default in the sink" "$(sink "SELECT count(*) FROM customers WHERE loyalty = 7")" \
    "$(src "SELECT count(*) FROM customers WHERE id <> 950")" || return 1
  if ! { curl -fsS -o "$WORK/metrics.txt" "$(health_url producer)/metrics" \
    && grep -q '^vrsky_producer_schema_changes_total{durable="[^"]*",kind="add_column",table="public.customers"} 1' "$WORK/metrics.txt"; }; then
    echo "  no schema change counted" >&2; return 1
  fi
}

# A column narrowed at the source (int4 -> int2) is not followed: the producer pauses, readiness names
# the table and the column, nothing after it is applied; once the sink is narrowed by hand it resumes.
scenario_schema_narrowing_pause() {
  local start code=""
  src "ALTER TABLE order_lines ALTER COLUMN quantity TYPE smallint" || return 1
  src "INSERT INTO order_lines VALUES (2, 1, 'NARROW', 3, 1.00)" >/dev/null
  start=$SECONDS
  while (( SECONDS - start < 60 )); do
    code=$(curl -s -o "$WORK/ready.json" -w '%{http_code}' --max-time 2 "$(health_url producer)/health/ready")
    [ "$code" = 503 ] && grep -q 'order_lines' "$WORK/ready.json" && break
    sleep 0.5
  done
  expect "producer /health/ready while paused" "$code" 503 || return 1
  if ! { grep -q 'public.order_lines' "$WORK/ready.json" && grep -q 'quantity' "$WORK/ready.json"; }; then
    echo "  readiness does not name the table and the column: $(cat "$WORK/ready.json")" >&2; return 1
  fi
  if ! { curl -fsS -o "$WORK/metrics.txt" "$(health_url producer)/metrics" && grep -q '^vrsky_producer_paused{durable="[^"]*"} 1' "$WORK/metrics.txt"; }; then
    echo "  vrsky_producer_paused is not 1" >&2; return 1
  fi
  expect "row after the narrowing while paused" "$(sink "SELECT count(*) FROM order_lines WHERE sku = 'NARROW'")" 0 || return 1
  sink "ALTER TABLE order_lines ALTER COLUMN quantity TYPE smallint" || return 1
  wait_sync 90 || return 1
  wait_http "$(health_url producer)/health/ready" 60 || { echo "  the producer did not become ready again" >&2; return 1; }
  expect "dead letters from the pause" "$(nats_tool count "$NATS_URL_HOST" VRSKY_DLQ "$PRODUCER_DLQ")" "$(cat "$WORK/dlq_before_schema")"
}

scenario_consumer_kill9() {
  svc_kill9 consumer
  local i
  for i in $(seq 1 20); do
    src "INSERT INTO orders (id, customer_id, amount) SELECT g, $i, g FROM generate_series(20000 + $i * 10, 20009 + $i * 10) g; UPDATE orders SET amount = amount + 1 WHERE id = 1" >/dev/null
  done
  svc_start consumer || return 1
  wait_sync 90 && expect "orders written while the consumer was dead" "$(sink "SELECT count(*) FROM orders WHERE id >= 20010 AND id < 30000")" 200
}

scenario_producer_kill9() {
  # a writer keeps committing while the producer dies and comes back
  ( for i in $(seq 1 60); do
      src "INSERT INTO order_lines VALUES (1, $i, 'LIVE', $i, 1.00); UPDATE customers SET email = 'live$i@example.com' WHERE id = 1" >/dev/null || exit 1
      sleep 0.05
    done ) &
  local writer=$!
  sleep 0.5
  svc_kill9 producer
  sleep 1
  svc_start producer || { wait "$writer"; return 1; }
  wait "$writer" || { echo "  the writer failed" >&2; return 1; }
  wait_sync 90 && expect "live order lines in sink" "$(sink "SELECT count(*) FROM order_lines WHERE sku = 'LIVE'")" 60
}

scenario_graceful_restart() {
  svc_term producer
  expect "producer exit code after SIGTERM" "$SERVICE_EXIT" 0 || return 1
  svc_term consumer
  expect "consumer exit code after SIGTERM" "$SERVICE_EXIT" 0 || return 1
  src "INSERT INTO customers (id, name) SELECT g, 'while stopped ' || g FROM generate_series(600, 699) g" >/dev/null
  svc_start consumer && svc_start producer && wait_sync 60
}

scenario_health_and_metrics() {
  local s
  for s in consumer producer; do
    expect "$s /health/live" "$(curl -s -o /dev/null -w '%{http_code}' "$(health_url "$s")/health/live")" 200 || return 1
    expect "$s /health/ready" "$(curl -s -o /dev/null -w '%{http_code}' "$(health_url "$s")/health/ready")" 200 || return 1
    # into a file first: grep -q stops reading early, and under pipefail curl's write error would fail the check
    if ! { curl -fsS -o "$WORK/metrics.txt" "$(health_url "$s")/metrics" && grep -q '^[a-z_]\+' "$WORK/metrics.txt"; }; then
      echo "  $s /metrics is empty" >&2; return 1
    fi
  done
  if [ "$MODE" = local ]; then
    ! grep -q e2e-secret-not-logged "$WORK/consumer.log" "$WORK/producer.log" || { echo "  a password appears in a log" >&2; return 1; }
  fi
}

scenario_data_integrity() {
  wait_sync 60 || return 1
  local t
  for t in customers orders order_lines; do
    echo "  $t: source $(fingerprint source "$t") = sink $(fingerprint sink "$t")" >&2
  done
  [ "$(psql_db source -c "SELECT count(*) FROM orders")" -gt 5000 ] || { echo "  too few rows to mean anything" >&2; return 1; }
}

# A second pipeline, on a three-node NATS cluster with R3 streams, into its own sink database:
# its initial snapshot copies the source, then the stream's leader node is killed -9 under writes
# and restarted, then the node that leads after it. The sink must equal the source, nothing may be
# dead-lettered and neither service may exit. Local mode only (docker: the compose "cluster" profile).
cluster_node_start() { # INDEX
  local i=$1 routes="" j
  for j in 1 2 3; do [ "$j" = "$i" ] || routes+="${routes:+,}nats://127.0.0.1:${CL_ROUTE[$j]}"; done
  mkdir -p "$WORK/n$i"
  setsid "$(nats_bin)" -js -a 127.0.0.1 -p "${CL_PORT[$i]}" -m "${CL_MON[$i]}" -sd "$WORK/n$i/store" --server_name "n$i" \
    --cluster_name vrsky-e2e --cluster "nats://127.0.0.1:${CL_ROUTE[$i]}" --routes "$routes" >>"$WORK/n$i/nats.log" 2>&1 &
  echo $! >"$WORK/n$i.pid"
  echo $! >>"$WORK/pids"
}
cluster_node_kill9() { # INDEX
  local pid; pid=$(cat "$WORK/n$1.pid")
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return 0
}
cluster_ready() { # every node answers healthz with JetStream up
  local i
  for i in 1 2 3; do wait_http "http://127.0.0.1:${CL_MON[$i]}/healthz" 60 || return 1; done
}
cluster_leader() { # the index of the node leading STREAM, asked through any node that answers (empty when none)
  local i name
  for i in 1 2 3; do
    name=$(nats_tool leader "nats://127.0.0.1:${CL_PORT[$i]}" "$1" 2>/dev/null) || continue
    [ "$name" != - ] && { echo "${name#n}"; return 0; }
  done
  return 1
}
cluster_writes() { # FROM: 40 transactions, each inserting 5 orders (ids FROM..) and touching customer 1
  local i from=$1
  for i in $(seq 0 39); do
    src "INSERT INTO orders (id, customer_id, amount) SELECT g, 1, g FROM generate_series($((from + i * 5)), $((from + i * 5 + 4))) g;
         UPDATE customers SET email = 'cluster$((from + i))@example.com' WHERE id = 1" >/dev/null || return 1
    sleep 0.05
  done
}
scenario_nats_cluster_failover() {
  if [ "$MODE" != local ]; then echo "  skipped: local mode only (docker: docker compose --profile cluster)"; return 0; fi
  local i stream=VRSKY_CDC_R3 url="" leader second cenv penv rc=0
  for i in 1 2 3; do CL_PORT[i]=$(free_port); CL_ROUTE[i]=$(free_port); CL_MON[i]=$(free_port); done
  for i in 1 2 3; do url+="${url:+,}nats://127.0.0.1:${CL_PORT[$i]}"; done
  for i in 1 2 3; do cluster_node_start "$i"; done
  cluster_ready || { echo "  the NATS cluster did not form" >&2; return 1; }
  psql_db postgres -c "CREATE DATABASE sink_cluster" >/dev/null || return 1
  psql_db sink_cluster -f "$VRSKY_ROOT/docker/postgres/demo-schema.psql" >/dev/null || return 1
  CL_CONSUMER_HEALTH=$(free_port); CL_PRODUCER_HEALTH=$(free_port)
  cenv="$(consumer_env) POSTGRES_INPUT_REPLICATION_SLOT=vrsky_e2e_cluster POSTGRES_INPUT_PUBLICATION=vrsky_e2e_cluster_pub
    NATS_URL=$url NATS_STREAM=$stream NATS_STREAM_REPLICAS=3 HEALTH_PORT=$CL_CONSUMER_HEALTH"
  penv="$(producer_env) POSTGRES_OUTPUT_DATABASE=sink_cluster NATS_URL=$url NATS_STREAM=$stream NATS_STREAM_REPLICAS=3
    NATS_DURABLE=vrsky-e2e-cluster HEALTH_PORT=$CL_PRODUCER_HEALTH"
  # shellcheck disable=SC2086 # lists of KEY=VALUE words without spaces
  service_start consumer_cluster "$CONSUMER_JAR" "$WORK/consumer_cluster.log" "$VRSKY_JAVA_OPTS" $cenv
  # shellcheck disable=SC2086
  service_start producer_cluster "$PRODUCER_JAR" "$WORK/producer_cluster.log" "$VRSKY_JAVA_OPTS" $penv
  if ! wait_http "http://127.0.0.1:$CL_CONSUMER_HEALTH/health/ready" 90 \
      || ! wait_http "http://127.0.0.1:$CL_PRODUCER_HEALTH/health/ready" 90; then
    echo "  the cluster pipeline did not become ready" >&2; rc=1
  elif ! wait_sync 120 sink_cluster; then
    echo "  the initial snapshot did not reach sink_cluster" >&2; rc=1
  elif ! expect "replicas of $stream" "$(nats_tool replicas "nats://127.0.0.1:${CL_PORT[1]}" "$stream")" 3; then
    rc=1
  elif ! leader=$(cluster_leader "$stream"); then
    echo "  no leader for $stream" >&2; rc=1
  fi
  if [ "$rc" -eq 0 ]; then
    cluster_writes 40000 & local writer=$!
    sleep 0.5
    echo "  killing -9 n$leader, the leader of $stream" >&2
    cluster_node_kill9 "$leader"
    wait "$writer" || { echo "  the writer failed" >&2; rc=1; }
    cluster_node_start "$leader"
    wait_http "http://127.0.0.1:${CL_MON[$leader]}/healthz" 60 || { echo "  n$leader did not come back" >&2; rc=1; }
  fi
  if [ "$rc" -eq 0 ]; then
    for _ in $(seq 1 100); do second=$(cluster_leader "$stream") && break; sleep 0.2; done
    [ -n "${second:-}" ] || { echo "  no leader for $stream after n$leader came back" >&2; second=$leader; rc=1; }
    echo "  killing -9 n$second, the leader after it" >&2
    cluster_writes 41000 & local writer2=$!
    sleep 0.5
    cluster_node_kill9 "$second"
    wait "$writer2" || { echo "  the writer failed" >&2; rc=1; }
    cluster_node_start "$second"
    wait_sync 120 sink_cluster || rc=1
    expect "orders written across the two kills" "$(psql_db sink_cluster -c "SELECT count(*) FROM orders WHERE id >= 40000 AND id < 42000")" 400 || rc=1
    expect "dead letters on the cluster" "$(nats_tool count "nats://127.0.0.1:${CL_PORT[1]}" VRSKY_DLQ)" 0 || rc=1
    kill -0 "$(service_pid consumer_cluster)" 2>/dev/null || { echo "  the cluster consumer exited" >&2; rc=1; }
    kill -0 "$(service_pid producer_cluster)" 2>/dev/null || { echo "  the cluster producer exited" >&2; rc=1; }
  fi
  [ "$rc" -eq 0 ] || { echo "  --- cluster consumer log (tail)" >&2; tail -15 "$WORK/consumer_cluster.log" >&2;
                     echo "  --- cluster producer log (tail)" >&2; tail -15 "$WORK/producer_cluster.log" >&2; }
  service_stop producer_cluster; service_stop consumer_cluster
  for i in 1 2 3; do cluster_node_kill9 "$i"; done
  src "SELECT pg_drop_replication_slot('vrsky_e2e_cluster')" >/dev/null
  return "$rc"
}

run() {
  local name=$1 fn=$2 start=$SECONDS out rc
  # in this shell, not a subshell: services restarted by a scenario stay children of the script
  "$fn" >"$WORK/scenario.out" 2>&1; rc=$?
  out=$(cat "$WORK/scenario.out")
  if [ $rc -eq 0 ]; then
    PASSED=$((PASSED + 1)); printf 'PASS  %-32s (%ss)\n' "$name" $((SECONDS - start))
  else
    FAILED=$((FAILED + 1)); FAILED_NAMES+=("$name"); printf 'FAIL  %-32s (%ss)\n' "$name" $((SECONDS - start))
  fi
  [ -n "$out" ] && { [ $rc -ne 0 ] || [ "${VERBOSE:-0}" = 1 ]; } && printf '%s\n' "$out" | sed 's/^/      /'
  if [ $rc -ne 0 ]; then
    echo "      --- consumer log (tail)"; svc_log consumer | tail -15 | sed 's/^/      /'
    echo "      --- producer log (tail)"; svc_log producer | tail -15 | sed 's/^/      /'
  fi
  return 0
}

# ------------------------------------------------------------------------------------------------
backend_up || die "could not start the pipeline"
log "pipeline up; running scenarios"

run "initial snapshot (rows existing before the first start)" scenario_initial_snapshot
run "insert" scenario_insert
run "update" scenario_update
run "delete" scenario_delete
run "multi-row transaction" scenario_multi_row_transaction
run "1000+ row batch (15,000 rows)" scenario_large_batch
run "NATS cluster: stream leaders killed -9" scenario_nats_cluster_failover
run "error recovery (DLQ)" scenario_error_recovery
run "packed poison: one tx per dead letter" scenario_packed_poison
run "vrsky-admin dlq replay: once" scenario_admin_dlq_replay
run "json null is not SQL NULL" scenario_json_null
nats_tool count "$NATS_URL_HOST" VRSKY_DLQ "$PRODUCER_DLQ" >"$WORK/dlq_before_schema" 2>/dev/null
run "schema: ADD COLUMN with default" scenario_schema_add_column
run "schema: narrowing pauses, resumes" scenario_schema_narrowing_pause
run "consumer kill -9 and restart" scenario_consumer_kill9
run "producer kill -9 and restart" scenario_producer_kill9
run "graceful stop and resume" scenario_graceful_restart
run "health and metrics" scenario_health_and_metrics
run "vrsky-admin status" scenario_admin_status
run "data integrity (md5)" scenario_data_integrity

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] || { echo "failed: ${FAILED_NAMES[*]}"; echo "logs: $LOG_DIR"; exit 1; }
exit 0
