#!/usr/bin/env bash
# Benchmark: the VRSky pipeline (source PostgreSQL -> postgres-consumer -> NATS JetStream ->
# postgres-producer -> sink PostgreSQL) against PostgreSQL's native logical replication
# (publication + subscription) between the same two local clusters, same workload, same run.
#
# usage: bench/run.sh [--quick] [--only W1,W2,W1R,W2R,W3,W4,WARM,CAP,SNAP] [--repeat N] [--native-only] [--keep]
#
#   W1   500,000 rows in transactions of 1,000        catch-up rows/s, CPU per row
#   W2   50,000 single-row transactions               catch-up rows/s, CPU per row
#   W1R  W1 with the richer rows of table r1           catch-up rows/s, CPU per row
#   W2R  W2 with the richer rows of table r2           catch-up rows/s, CPU per row
#   W3   a steady 1,000 rows/s for 30 s                commit-to-sink latency p50/p99 (live)
#   W4   one 1,000,000-row transaction                 catch-up rows/s, CPU per row, peak RSS of both services (-Xmx256m)
#   WARM a burst into services that already run and are warmed up: the pipeline catches up a
#        1,000,000-row backlog (W1's shape), its consumer is stopped (SIGSTOP), a 500,000-row burst
#        (W1's shape) is written and the consumer continued (SIGCONT); timed from SIGCONT until
#        the burst's last row is in the sink, against a native catch-up of the same burst (its
#        subscription created just before the burst); rows/s, CPU per row. One run (no --repeat).
#   SNAP a 1,000,000-row table that exists before replication starts: the pipeline's initial
#        snapshot (consumer and producer started, until the last row is in the sink) against a
#        native subscription with copy_data = true (from CREATE SUBSCRIPTION until the copy is in
#        the sink); rows/s, and the longest single-row UPDATE of a concurrent source writer on the
#        table being copied (lock waits included) during each copy
#   CAP  capture only, on the W1 and W2 backlogs (with those workloads): consumer -> JetStream
#        (producer stopped) against pg_recvlogical reading the same changes (pgoutput) to
#        /dev/null; the messages JetStream stored are reported as changes per message
#   --quick  W1 50,000 / W2 5,000 / W1R 50,000 / W2R 5,000 / W3 10 s / W4 100,000 /
#            WARM 100,000 then 50,000 / SNAP 100,000: a smoke run
#   --repeat N     catch-up runs per reader and workload (default 3; 1 with --quick): the
#                  backlog is written once and each run reads it from its own slot; the median
#                  is reported with the range (this machine may be shared: see the load average)
#   --native-only  only the baselines (no jars needed)
#
# Catch-up (W1, W2, W1R, W2R, W4, CAP): every reader's replication slot exists before the workload
# is written and nothing reads it while it is written; then each reader in turn is started and
# timed from the moment its slot becomes active (reading starts) until the last row is in the
# sink (for CAP: in JetStream; for pg_recvlogical: until it reaches the end LSN). Times that
# include starting the reader (JVM start-up, subscription enable) are reported as well.
#
# CPU (catch-ups except CAP, and WARM): CPU seconds (utime + stime of /proc/<pid>/stat) of each
# process on the path, as microseconds per row, in a table of its own. Pipeline: the source
# walsender serving its slot (its whole life: one process per connection), the consumer JVM (its
# whole life, JVM start-up included), and from just before the consumer starts until the last row
# is in the sink: nats-server, the producer JVM and the sink backends serving the producer. Native:
# the source walsender and the apply worker (their whole lives). WARM counts the burst only. The
# median over the runs of each figure (each total is the median of the runs' totals).
#
# Latency (W3): each row carries clock_timestamp() of its INSERT at the source; a sink trigger
# (ENABLE ALWAYS, so it fires under native apply too) stamps clock_timestamp() when the row is
# written. Both clusters run on this machine and share its clock.
#
# Rows of w1..w5 (and s1) are ~210 bytes: id bigint, k int, v int, src_ts timestamptz, payload
# text(170). Rows of r1, r2 (W1R, W2R): id bigint, k int, amount numeric(14,4), created timestamptz,
# doc jsonb (four keys, one an array), note text(65), src_ts timestamptz.
# Results: bench/results/<timestamp>/ (results.tsv, summary.md, logs); the summary is printed.
# Environment: BENCH_JAVA_OPTS (default: the services' own, VRSKY_JAVA_OPTS in scripts/lib/common.sh;
# BENCH_CONSUMER_JAVA_OPTS / BENCH_PRODUCER_JAVA_OPTS for one service), BENCH_TIMEOUT (s per reader, default 900),
# W3_WARM_SECONDS (W3's warm-up at its own rate instead of 3 s at 200 rows/s), BENCH_CONSUMER_ENV / BENCH_PRODUCER_ENV
# (extra KEY=VALUE words for the services, e.g. "POSTGRES_INPUT_BATCH_SIZE=1000").
set -uo pipefail

VRSKY_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
QUICK=0
KEEP=0
NATIVE_ONLY=0
ONLY="W1,W2,W1R,W2R,W3,W4,WARM,CAP,SNAP"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --keep) KEEP=1 ;;
    --native-only) NATIVE_ONLY=1 ;;
    --only) ONLY=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    -h|--help) sed -n '2,59p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

if [ "$QUICK" = 1 ]; then
  W1_ROWS=50000; W2_ROWS=5000; W3_SECONDS=10; W4_ROWS=100000; SNAP_ROWS=100000; REPEAT=${REPEAT:-1}
  W1R_ROWS=50000; W2R_ROWS=5000; WARM_ROWS=100000; BURST_ROWS=50000
else
  W1_ROWS=500000; W2_ROWS=50000; W3_SECONDS=30; W4_ROWS=1000000; SNAP_ROWS=1000000; REPEAT=${REPEAT:-3}
  W1R_ROWS=500000; W2R_ROWS=50000; WARM_ROWS=1000000; BURST_ROWS=500000
fi
W1_TX=1000
W3_RATE=1000

WORK=$(mktemp -d /tmp/vrsky-bench.XXXXXX)
# shellcheck source=../scripts/lib/common.sh
. "$VRSKY_ROOT/scripts/lib/common.sh"
JAVA_OPTS=${BENCH_JAVA_OPTS:-$VRSKY_JAVA_OPTS}
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS="$VRSKY_ROOT/bench/results/$STAMP"
mkdir -p "$RESULTS"
TSV="$RESULTS/results.tsv"
printf 'metric\tpipeline\tnative\tratio\tunit\tnote\n' >"$TSV"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local consumer
  consumer=$(service_pid consumer) && kill -CONT "$consumer" 2>/dev/null # WARM stops it for a while
  stop_recorded_processes
  pg_stop src immediate
  pg_stop dst immediate
  cp "$WORK"/*.log "$RESULTS"/ 2>/dev/null
  cp "$WORK"/src/server.log "$RESULTS"/src-server.log 2>/dev/null
  cp "$WORK"/dst/server.log "$RESULTS"/dst-server.log 2>/dev/null
  if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

SRC_PORT=$(free_port); DST_PORT=$(free_port); NATS_PORT=$(free_port); NATS_MON=$(free_port)
CONSUMER_HEALTH=$(free_port); PRODUCER_HEALTH=$(free_port)
NATS_URL="nats://127.0.0.1:$NATS_PORT"
STREAM=BENCH_CDC
SUBJECT=bench.cdc.source

psrc() { psql -h 127.0.0.1 -p "$SRC_PORT" -U postgres -d bench -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
pdst() { local db=$1; shift; psql -h 127.0.0.1 -p "$DST_PORT" -U postgres -d "$db" -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
now() { date +%s.%N; }
# rate ROWS START END: rows/s, or "-" when a time is missing (a reader that never finished)
rate() { if [ -n "$2" ] && [ -n "$3" ]; then calc "$1 / ($3 - $2)" 0; else echo "-"; fi; }
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
calc() { awk "BEGIN { printf \"%.${2:-1}f\", ($1) }"; }

# ------------------------------------------------------------------------------------------------
# setup
[ "$NATIVE_ONLY" = 1 ] || ensure_jars
command -v pgbench >/dev/null || die "pgbench is missing (postgresql-client)"
command -v pg_recvlogical >/dev/null || die "pg_recvlogical is missing (postgresql-client)"

log "source cluster :$SRC_PORT, sink cluster :$DST_PORT, nats-server :$NATS_PORT, results $RESULTS"
# wal_sender_timeout = 0: WARM stops the consumer (SIGSTOP) while a burst is written; its walsender
# must keep the connection instead of ending it after the default 60 s of silence
pg_init src "$SRC_PORT" "max_wal_senders = 20" "logical_decoding_work_mem = 64MB" "wal_sender_timeout = 0"
pg_init dst "$DST_PORT" "max_logical_replication_workers = 8" "max_worker_processes = 16" \
  "wal_retrieve_retry_interval = 100ms" # the launcher may start the next apply worker at once
pg_start src
pg_start dst
# this script's own sessions (psql, pgbench, pg_recvlogical), told apart from the producer's
# backends in the CPU figures; exported after the clusters started, so that their servers (and the
# native apply workers' connections to the source) do not inherit it
export PGAPPNAME=vrsky-bench
nats_start nats "$NATS_PORT" "$NATS_MON"

TABLE_DDL="(id bigint PRIMARY KEY, k int NOT NULL, v int NOT NULL, src_ts timestamptz NOT NULL DEFAULT clock_timestamp(), payload text NOT NULL)"
RICH_DDL="(id bigint PRIMARY KEY, k int NOT NULL, amount numeric(14,4) NOT NULL, created timestamptz NOT NULL, doc jsonb NOT NULL,
           note text NOT NULL, src_ts timestamptz NOT NULL DEFAULT clock_timestamp())"
psql -h 127.0.0.1 -p "$SRC_PORT" -U postgres -d postgres -X -q -c "CREATE DATABASE bench"
psrc -c "CREATE TABLE w1 $TABLE_DDL" -c "CREATE TABLE w2 $TABLE_DDL" -c "CREATE TABLE w3 $TABLE_DDL" -c "CREATE TABLE w4 $TABLE_DDL" \
  -c "CREATE TABLE w5 $TABLE_DDL" -c "CREATE TABLE r1 $RICH_DDL" -c "CREATE TABLE r2 $RICH_DDL" \
  -c "CREATE PUBLICATION bench_pub FOR TABLE w1, w2, w3, w4, w5, r1, r2" \
  -c "CREATE FUNCTION bench_wait_slot_active(slot text, timeout_s float8) RETURNS float8 LANGUAGE plpgsql AS \$\$
      DECLARE deadline timestamptz := clock_timestamp() + timeout_s * interval '1 second';
      BEGIN
        LOOP
          IF EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = slot AND active) THEN
            RETURN extract(epoch FROM clock_timestamp());
          END IF;
          IF clock_timestamp() > deadline THEN RETURN NULL; END IF;
          PERFORM pg_sleep(0.002);
        END LOOP;
      END \$\$"
for db in native pipeline; do
  psql -h 127.0.0.1 -p "$DST_PORT" -U postgres -d postgres -X -q -c "CREATE DATABASE $db"
  pdst "$db" -c "CREATE TABLE w1 $TABLE_DDL" -c "CREATE TABLE w2 $TABLE_DDL" -c "CREATE TABLE w4 $TABLE_DDL" -c "CREATE TABLE s1 $TABLE_DDL" \
    -c "CREATE TABLE w5 $TABLE_DDL" -c "CREATE TABLE r1 $RICH_DDL" -c "CREATE TABLE r2 $RICH_DDL" \
    -c "CREATE TABLE w3 (id bigint PRIMARY KEY, k int NOT NULL, v int NOT NULL, src_ts timestamptz NOT NULL, payload text NOT NULL, applied_at timestamptz)" \
    -c "CREATE FUNCTION stamp_applied() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN NEW.applied_at := clock_timestamp(); RETURN NEW; END \$\$" \
    -c "CREATE TRIGGER w3_applied BEFORE INSERT OR UPDATE ON w3 FOR EACH ROW EXECUTE FUNCTION stamp_applied()" \
    -c "ALTER TABLE w3 ENABLE ALWAYS TRIGGER w3_applied" \
    -c "CREATE FUNCTION bench_wait_row(tbl regclass, wanted bigint, timeout_s float8) RETURNS float8 LANGUAGE plpgsql AS \$\$
        DECLARE found bool; deadline timestamptz := clock_timestamp() + timeout_s * interval '1 second';
        BEGIN
          LOOP
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE id = \$1)', tbl) INTO found USING wanted;
            IF found THEN RETURN extract(epoch FROM clock_timestamp()); END IF;
            IF clock_timestamp() > deadline THEN RETURN NULL; END IF;
            PERFORM pg_sleep(0.002);
          END LOOP;
        END \$\$"
done
SRC_CONNINFO="host=127.0.0.1 port=$SRC_PORT user=postgres dbname=bench"
PG_VERSION=$(psrc -c "SHOW server_version")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
NATS_VERSION=$("$(nats_bin)" --version 2>&1 | head -1)
JAVA_VERSION=$(java -version 2>&1 | head -1)

# ------------------------------------------------------------------------------------------------
# pieces

payload() { echo "rpad(md5(g::text), 170, md5((g + 1)::text))"; }

# row_columns TABLE: the columns an INSERT into TABLE fills (the r-tables hold the richer rows)
row_columns() {
  case $1 in
    r*) echo "id, k, amount, created, doc, note" ;;
    *) echo "id, k, v, payload" ;;
  esac
}
# row_values TABLE V: the values of row_columns for the row of id g (an int), V the value of
# column v (the w-tables' transaction marker)
row_values() {
  case $1 in
    r*) echo "g, g % 1000, (g::bigint * 7919 % 100000000)::numeric / 100, timestamptz '2026-01-01' + g * interval '1 second',
              jsonb_build_object('id', g, 'tags', jsonb_build_array('a', 'b', g % 7), 'price', g * 1.25, 'name', md5(g::text)),
              md5(g::text) || ' ' || md5((g + 1)::text)" ;;
    *) echo "g, g % 1000, $2, $(payload)" ;;
  esac
}

# write_batches TABLE ROWS ROWS_PER_TX [FIRST_ID]: ROWS rows (ids FIRST_ID.., default 1) in
# transactions of ROWS_PER_TX; the last transaction runs on its own so that its txid is known.
# Prints "<txid> <seconds>".
write_batches() {
  local table=$1 rows=$2 per=$3 base=$(( ${4:-1} - 1 )) start end txid cols
  local full=$(( rows / per - 1 ))
  cols=$(row_columns "$table")
  start=$(now)
  if [ "$per" -eq 1 ]; then
    psrc -c "DO \$\$ BEGIN FOR g IN $(( base + 1 ))..$(( base + rows - 1 )) LOOP
               INSERT INTO $table ($cols) VALUES ($(row_values "$table" 0)); COMMIT;
             END LOOP; END \$\$"
  else
    psrc -c "DO \$\$ BEGIN FOR t IN 0..$(( full - 1 )) LOOP
               INSERT INTO $table ($cols) SELECT $(row_values "$table" t)
                 FROM generate_series($base + t * $per + 1, $base + t * $per + $per) g;
               COMMIT;
             END LOOP; END \$\$"
  fi
  local first_last=$(( base + rows - (per == 1 ? 1 : per) + 1 ))
  txid=$(psrc -c "BEGIN" -c "INSERT INTO $table ($cols) SELECT $(row_values "$table" -1) FROM generate_series($first_last, $(( base + rows ))) g" \
              -c "SELECT txid_current()" -c "COMMIT")
  end=$(now)
  echo "$txid $(calc "$end - $start" 2)"
}

create_slot() { psrc -c "SELECT pg_create_logical_replication_slot('$1', 'pgoutput')" >/dev/null; }
drop_slot() { psrc -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '$1'" >/dev/null 2>&1; }

create_subscription() { # NAME SLOT ENABLED
  pdst native -c "CREATE SUBSCRIPTION $1 CONNECTION '$SRC_CONNINFO' PUBLICATION bench_pub
                  WITH (create_slot = false, slot_name = '$2', enabled = $3, copy_data = false)"
}
drop_subscription() {
  pdst native -c "ALTER SUBSCRIPTION $1 DISABLE" -c "ALTER SUBSCRIPTION $1 SET (slot_name = NONE)" -c "DROP SUBSCRIPTION $1" >/dev/null 2>&1
}

# ------------------------------------------------------------------------------------------------
# CPU of the processes on the path, from /proc/<pid>/stat (the CPU figures, see the header)

CLK_TCK=$(getconf CLK_TCK)
# cpu_of PID: CPU seconds (utime + stime, fields 14 and 15; all threads) PID has used since it
# started; "-" (status 1) when there is no such process. The fields are counted after the command
# name in parentheses, which may hold spaces.
cpu_of() {
  local stat f
  { [ -n "$1" ] && read -r stat 2>/dev/null <"/proc/$1/stat"; } || { echo "-"; return 1; }
  read -ra f <<<"${stat##*) }"
  calc "(${f[11]} + ${f[12]}) / $CLK_TCK" 3
}
# jit_cpu PID: CPU seconds of the JVM's JIT compiler threads (C1 and C2), or "-"
jit_cpu() {
  if [ -z "$1" ] || [ ! -d "/proc/$1/task" ]; then echo "-"; return 1; fi
  cat /proc/"$1"/task/*/stat 2>/dev/null \
    | awk -v tck="$CLK_TCK" '/\(C[12] CompilerThre/ { sub(/^.*\) /, ""); split($0, f, " "); t += f[12] + f[13] } END { printf "%.3f", t / tck }'
}
# cpu_delta BEFORE AFTER: AFTER - BEFORE, or "-" when one is missing
cpu_delta() { if [[ "$1" =~ ^[0-9.]+$ ]] && [[ "$2" =~ ^[0-9.]+$ ]]; then calc "$2 - $1" 3; else echo "-"; fi; }
# cpu_sum SECONDS...: the sum, or "-" when one is missing
cpu_sum() {
  local s
  for s in "$@"; do [[ "$s" =~ ^[0-9.]+$ ]] || { echo "-"; return; }; done
  calc "$(IFS=+; echo "$*")" 3
}
# slot_pid SLOT: the walsender reading SLOT (active_pid), empty when nothing reads it
slot_pid() { psrc -c "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$1'"; }
# apply_pid SUB: the apply worker of subscription SUB (not its table sync workers)
apply_pid() { pdst native -c "SELECT pid FROM pg_stat_subscription WHERE subname = '$1' AND relid IS NULL"; }
# backend_pids: the sink backends serving the producer: client backends of database pipeline,
# without this script's own sessions (PGAPPNAME)
backend_pids() {
  pdst pipeline -c "SELECT pid FROM pg_stat_activity WHERE datname = 'pipeline' AND backend_type = 'client backend'
                    AND application_name IS DISTINCT FROM '$PGAPPNAME'"
}
# backend_cpu FILE: "PID SECONDS" of each of backend_pids into FILE
backend_cpu() {
  local pid
  for pid in $(backend_pids); do
    echo "$pid $(cpu_of "$pid")"
  done | grep -v ' -$' >"$1"
}

# cpu_window_start / cpu_window_end: the CPU nats-server, the producer and the sink backends serving
# it use between the two calls (a backend that appears meanwhile counts from 0; one that ends
# meanwhile is missing: logged). cpu_window_end sets CPU_P_NATS CPU_P_PROD CPU_P_SINK (seconds)
# and SINK_BACKENDS (how many there were at the end).
cpu_window_start() {
  W_NATS=$(cpu_of "$(cat "$WORK/nats.pid")"); W_PROD=$(cpu_of "$(service_pid producer)")
  backend_cpu "$WORK/sink-cpu-start"
}
cpu_window_end() {
  CPU_P_NATS=$(cpu_delta "$W_NATS" "$(cpu_of "$(cat "$WORK/nats.pid")")")
  CPU_P_PROD=$(cpu_delta "$W_PROD" "$(cpu_of "$(service_pid producer)")")
  backend_cpu "$WORK/sink-cpu-end"
  SINK_BACKENDS=$(wc -l <"$WORK/sink-cpu-end")
  CPU_P_SINK=$(awk 'FILENAME == ARGV[1] { s[$1] = $2; next } { t += $2 - ($1 in s ? s[$1] : 0); n++ }
                    END { if (n) printf "%.3f", t; else print "-" }' "$WORK/sink-cpu-start" "$WORK/sink-cpu-end")
  local gone
  gone=$(awk 'FILENAME == ARGV[1] { e[$1]; next } !($1 in e)' "$WORK/sink-cpu-end" "$WORK/sink-cpu-start" | wc -l)
  [ "$gone" = 0 ] || log "$gone sink backend(s) ended during the catch-up: their CPU is not counted"
  [ "$CPU_P_SINK" != "-" ] || log "no sink backend of the producer found"
}
# walsender_cpu SLOT PID: the CPU seconds of the walsender reading SLOT now (PID: the one that read
# it at the start; a different one means the reader reconnected, and only the last one counts)
walsender_cpu() {
  local pid; pid=$(slot_pid "$1")
  [ -z "$2" ] || [ "$pid" = "$2" ] || log "the walsender of slot $1 changed ($2 -> ${pid:-none}): the CPU of the last one only"
  cpu_of "$pid"
}

# cpu_keep NAME KEY SECONDS: one run's figure for the CPU table (KEY: see CPU_ROWS)
cpu_keep() { echo "$2 ${3:--}" >>"$WORK/cpu-$1"; }
keep_native_cpu() { # NAME: the figures of measure_native
  cpu_keep "$1" n_wal "$CPU_N_WAL"; cpu_keep "$1" n_apply "$CPU_N_APPLY"
  cpu_keep "$1" n_total "$(cpu_sum "$CPU_N_WAL" "$CPU_N_APPLY")"
}
keep_pipeline_cpu() { # NAME: the figures of measure_pipeline (or of WARM)
  cpu_keep "$1" p_wal "$CPU_P_WAL"; cpu_keep "$1" p_con "$CPU_P_CON"; cpu_keep "$1" p_nats "$CPU_P_NATS"
  cpu_keep "$1" p_prod "$CPU_P_PROD"; cpu_keep "$1" p_sink "$CPU_P_SINK"
  cpu_keep "$1" p_total "$(cpu_sum "$CPU_P_WAL" "$CPU_P_CON" "$CPU_P_NATS" "$CPU_P_PROD" "$CPU_P_SINK")"
  cpu_keep "$1" p_own "$(cpu_sum "$CPU_P_CON" "$CPU_P_PROD")"
  cpu_keep "$1" p_other "$(cpu_sum "$CPU_P_WAL" "$CPU_P_NATS" "$CPU_P_SINK")"
}

# The CPU table's rows: KEY|label
CPU_ROWS=(
  "p_wal|pipeline: source walsender"
  "p_con|pipeline: consumer JVM"
  "p_nats|pipeline: nats-server"
  "p_prod|pipeline: producer JVM"
  "p_sink|pipeline: sink backends"
  "p_total|**pipeline total**"
  "p_own|pipeline: the project's processes (consumer + producer)"
  "p_other|pipeline: processes it does not own (walsender + nats-server + sink backends)"
  "n_wal|native: source walsender"
  "n_apply|native: apply worker"
  "n_total|**native total**"
)
CPU_NAMES=()
declare -A CPU_US

# cpu_record NAME ROWS WALSENDER_NOTE CONSUMER_NOTE WINDOW_NOTE: the median of each kept figure
# of NAME's runs (each total is the median of the runs' totals) in µs of CPU per row, into the CPU
# table of the summary (CPU_US) and into results.tsv; the notes say what each figure spans.
cpu_record() {
  local name=$1 rows=$2 wal_note=$3 con_note=$4 window_note=$5 row key v
  CPU_NAMES+=("$name")
  for row in "${CPU_ROWS[@]}"; do
    key=${row%%|*}
    v=$(awk -v k="$key" '$1 == k && $2 != "-" { print $2 }' "$WORK/cpu-$name" 2>/dev/null | sort -g \
          | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    if [ "$v" = "-" ]; then CPU_US[$name,$key]="-"; else CPU_US[$name,$key]=$(calc "$v * 1000000 / $rows" 1); fi
  done
  local u="µs/row"
  record "$name CPU walsender" "${CPU_US[$name,p_wal]}" "${CPU_US[$name,n_wal]}" "$u" "source walsender; pipeline: $wal_note; native: its whole life"
  record "$name CPU consumer" "${CPU_US[$name,p_con]}" "-" "$u" "$con_note"
  record "$name CPU nats-server" "${CPU_US[$name,p_nats]}" "-" "$u" "$window_note"
  record "$name CPU producer" "${CPU_US[$name,p_prod]}" "-" "$u" "$window_note"
  record "$name CPU sink backends" "${CPU_US[$name,p_sink]}" "-" "$u" "the producer's connections; $window_note"
  record "$name CPU apply worker" "-" "${CPU_US[$name,n_apply]}" "$u" "native's apply worker, its whole life"
  record "$name CPU the project's (consumer + producer)" "${CPU_US[$name,p_own]}" "-" "$u" ""
  record "$name CPU not the project's (walsender + nats-server + sink backends)" "${CPU_US[$name,p_other]}" "-" "$u" ""
  record "$name CPU total" "${CPU_US[$name,p_total]}" "${CPU_US[$name,n_total]}" "$u" \
    "every process on the path, median of the runs; target: pipeline at most 1.5x native"
}

# measure_native SUB SLOT TABLE LAST_ID ROWS: enable the subscription, time the catch-up.
# Sets T_CMD T_ACTIVE T_END, and CPU_N_WAL CPU_N_APPLY (CPU seconds of the walsender and the
# apply worker, their whole lives: both start with the subscription's ENABLE; read once the last
# row is in the sink, while they still run).
measure_native() {
  local sub=$1 slot=$2 table=$3 last=$4
  psrc -c "SELECT bench_wait_slot_active('$slot', 120)" >"$WORK/active" &
  local wa=$!
  pdst native -c "SELECT bench_wait_row('$table', $last, $BENCH_TIMEOUT)" >"$WORK/end" &
  local we=$!
  T_CMD=$(now)
  pdst native -c "ALTER SUBSCRIPTION $sub ENABLE"
  wait $wa; wait $we
  T_ACTIVE=$(cat "$WORK/active"); T_END=$(cat "$WORK/end")
  CPU_N_WAL=$(cpu_of "$(slot_pid "$slot")"); CPU_N_APPLY=$(cpu_of "$(apply_pid "$sub")")
}

consumer_env() { # SLOT STREAM SUBJECT
  # shellcheck disable=SC2086 # BENCH_CONSUMER_ENV is a list of KEY=VALUE words
  echo POSTGRES_INPUT_HOST=127.0.0.1 POSTGRES_INPUT_PORT="$SRC_PORT" POSTGRES_INPUT_USER=postgres POSTGRES_INPUT_PASSWORD=bench \
    POSTGRES_INPUT_DATABASE=bench POSTGRES_INPUT_SSLMODE=disable POSTGRES_INPUT_REPLICATION_SLOT="$1" \
    POSTGRES_INPUT_PUBLICATION=bench_pub POSTGRES_INPUT_TABLES=public.w1,public.w2,public.w3,public.w4,public.w5,public.r1,public.r2 \
    NATS_URL="$NATS_URL" NATS_STREAM="$2" NATS_SUBJECT="$3" NATS_DLQ_SUBJECT=vrsky.dlq.bench-consumer \
    HEALTH_PORT="$CONSUMER_HEALTH" ${BENCH_CONSUMER_ENV:-}
}
producer_env() { # DURABLE
  # shellcheck disable=SC2086 # BENCH_PRODUCER_ENV is a list of KEY=VALUE words
  echo POSTGRES_OUTPUT_HOST=127.0.0.1 POSTGRES_OUTPUT_PORT="$DST_PORT" POSTGRES_OUTPUT_USER=postgres POSTGRES_OUTPUT_PASSWORD=bench \
    POSTGRES_OUTPUT_DATABASE=pipeline POSTGRES_OUTPUT_SSLMODE=disable \
    POSTGRES_OUTPUT_TABLES=public.w1,public.w2,public.w3,public.w4,public.w5,public.r1,public.r2,public.s1 NATS_URL="$NATS_URL" NATS_STREAM="$STREAM" \
    NATS_SUBJECT="$SUBJECT" NATS_DURABLE="$1" NATS_DLQ_SUBJECT=vrsky.dlq.bench-producer HEALTH_PORT="$PRODUCER_HEALTH" \
    ${BENCH_PRODUCER_ENV:-}
}
start_consumer() { # SLOT STREAM SUBJECT LOGNAME
  # shellcheck disable=SC2046
  service_start consumer "$CONSUMER_JAR" "$WORK/$4.log" "${BENCH_CONSUMER_JAVA_OPTS:-$JAVA_OPTS}" $(consumer_env "$1" "$2" "$3")
}
start_producer() { # DURABLE LOGNAME
  # shellcheck disable=SC2046
  service_start producer "$PRODUCER_JAR" "$WORK/$2.log" "${BENCH_PRODUCER_JAVA_OPTS:-$JAVA_OPTS}" $(producer_env "$1")
  wait_http "http://127.0.0.1:$PRODUCER_HEALTH/health/ready" 60 || { tail -20 "$WORK/$2.log" >&2; die "producer not ready"; }
}
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# measure_pipeline SLOT TABLE LAST_ID NAME: producer first (ready, idle), then the consumer;
# time from the slot becoming active to the last row in the sink. Sets T_CMD T_ACTIVE T_END,
# HWM_CONSUMER HWM_PRODUCER (kB) and the CPU seconds CPU_P_WAL CPU_P_CON (the walsender and the
# consumer, their whole lives, read just before the consumer stops) and CPU_P_NATS CPU_P_PROD
# CPU_P_SINK (from just before the consumer starts until the last row is in the sink).
measure_pipeline() {
  local slot=$1 table=$2 last=$3 name=$4
  nats_tool delete "$NATS_URL" "$STREAM" >/dev/null
  start_producer "bench_$name" "producer-$name"
  psrc -c "SELECT bench_wait_slot_active('$slot', 120)" >"$WORK/active" &
  local wa=$!
  pdst pipeline -c "SELECT bench_wait_row('$table', $last, $BENCH_TIMEOUT)" >"$WORK/end" &
  local we=$!
  cpu_window_start
  T_CMD=$(now)
  start_consumer "$slot" "$STREAM" "$SUBJECT" "consumer-$name"
  wait $wa
  local walsender; walsender=$(slot_pid "$slot")
  wait $we
  T_ACTIVE=$(cat "$WORK/active"); T_END=$(cat "$WORK/end")
  cpu_window_end
  CPU_P_WAL=$(walsender_cpu "$slot" "$walsender"); CPU_P_CON=$(cpu_of "$(service_pid consumer)")
  HWM_CONSUMER=$(hwm_kb "$(service_pid consumer)"); HWM_PRODUCER=$(hwm_kb "$(service_pid producer)")
  service_stop consumer; [ "$SERVICE_EXIT" = 0 ] || log "consumer exited with $SERVICE_EXIT"
  service_stop producer; [ "$SERVICE_EXIT" = 0 ] || log "producer exited with $SERVICE_EXIT"
}

# record METRIC PIPELINE NATIVE UNIT NOTE [higher|lower]: a result line; ratio = pipeline / native
record() {
  local ratio="-"
  if [[ "$2" =~ ^[0-9.]+$ ]] && [[ "$3" =~ ^[0-9.]+$ ]] && [ "$(calc "$3 > 0" 0)" = 1 ]; then ratio=$(calc "$2 / $3" 2); fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$ratio" "$4" "$5" >>"$TSV"
  log "$1: pipeline $2, native $3 ($4), ratio $ratio"
}

check_rows() { # DB TABLE EXPECTED
  local n; n=$(pdst "$1" -c "SELECT count(*) FROM $2")
  [ "$n" = "$3" ] || log "WARNING: $1.$2 holds $n rows, expected $3"
}

# median of the arguments (numbers)
median() { printf '%s\n' "$@" | grep -v '^-$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { printf '%s\n' "$@" | grep -v '^-$' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s..%s", lo, hi }'; }

# catch_up NAME TABLE ROWS ROWS_PER_TX [capture]: the backlog is written once, with one slot per
# reader and repetition; then native and pipeline take turns, REPEAT times each, each on its own
# slot (the sink table is emptied between turns). Reported: the median, with the range in the note,
# and the CPU per row of each process (cpu_record).
catch_up() {
  local name=$1 table=$2 rows=$3 per=$4 capture=${5:-}
  local w=${name,,} r
  log "$name: $rows rows in transactions of $per (catch-up, $REPEAT run(s) each)"
  for r in $(seq 1 "$REPEAT"); do
    create_slot "nat_${w}_$r"; create_slot "pipe_${w}_$r"
    create_subscription "sub_${w}_$r" "nat_${w}_$r" false
  done
  if [ -n "$capture" ]; then create_slot "cap_$w"; create_slot "recv_$w"; fi
  local out txid secs end_lsn
  out=$(write_batches "$table" "$rows" "$per"); txid=${out% *}; secs=${out#* }
  end_lsn=$(psrc -c "SELECT pg_current_wal_lsn()")
  log "$name: source wrote $rows rows in ${secs}s ($(calc "$rows / $secs" 0) rows/s), last txid $txid, end LSN $end_lsn"

  local n_read=() n_total=() p_read=() p_total=() hwm_c=() hwm_p=()
  for r in $(seq 1 "$REPEAT"); do
    measure_native "sub_${w}_$r" "nat_${w}_$r" "$table" "$rows"
    n_read+=("$(rate "$rows" "$T_ACTIVE" "$T_END")"); n_total+=("$(rate "$rows" "$T_CMD" "$T_END")")
    check_rows native "$table" "$rows"
    keep_native_cpu "$name"
    log "$name native run $r: ${n_read[-1]} rows/s from start of reading (${n_total[-1]} incl. start-up), CPU s: walsender $CPU_N_WAL, apply worker $CPU_N_APPLY"
    drop_subscription "sub_${w}_$r"; drop_slot "nat_${w}_$r"
    pdst native -c "TRUNCATE $table"
    if [ "$NATIVE_ONLY" = 1 ]; then drop_slot "pipe_${w}_$r"; continue; fi

    measure_pipeline "pipe_${w}_$r" "$table" "$rows" "${w}_$r"
    p_read+=("$(rate "$rows" "$T_ACTIVE" "$T_END")"); p_total+=("$(rate "$rows" "$T_CMD" "$T_END")")
    hwm_c+=("$(( HWM_CONSUMER / 1024 ))"); hwm_p+=("$(( HWM_PRODUCER / 1024 ))")
    check_rows pipeline "$table" "$rows"
    keep_pipeline_cpu "$name"
    log "$name pipeline run $r: ${p_read[-1]} rows/s from start of reading (${p_total[-1]} incl. start-up), CPU s: walsender $CPU_P_WAL," \
      "consumer $CPU_P_CON, nats-server $CPU_P_NATS, producer $CPU_P_PROD, sink backends ($SINK_BACKENDS) $CPU_P_SINK"
    drop_slot "pipe_${w}_$r"
    pdst pipeline -c "TRUNCATE $table"
  done
  local pr="-" pt="-" note=""
  if [ "$NATIVE_ONLY" != 1 ]; then
    pr=$(median "${p_read[@]}"); pt=$(median "${p_total[@]}")
    note="; pipeline runs $(spread "${p_read[@]}")"
  fi
  record "$name rows/s (from start of reading)" "$pr" "$(median "${n_read[@]}")" "rows/s" \
    "$rows rows, tx of $per; median of $REPEAT; native runs $(spread "${n_read[@]}")$note"
  record "$name rows/s (incl. start-up)" "$pt" "$(median "${n_total[@]}")" "rows/s" "pipeline: JVM start; native: ALTER SUBSCRIPTION ENABLE"
  if [ "$name" = W4 ] && [ "$NATIVE_ONLY" != 1 ]; then
    record "W4 consumer peak RSS" "$(printf '%s\n' "${hwm_c[@]}" | sort -g | tail -1)" "-" "MiB" "VmHWM, max of $REPEAT, $JAVA_OPTS"
    record "W4 producer peak RSS" "$(printf '%s\n' "${hwm_p[@]}" | sort -g | tail -1)" "-" "MiB" "VmHWM, max of $REPEAT, $JAVA_OPTS"
  fi
  cpu_record "$name" "$rows" "its whole life (one process per connection)" "its whole life, JVM start-up included" \
    "from just before the consumer starts until the last row is in the sink"

  if [ -n "$capture" ]; then
    capture_only "$w" "$rows" "$txid" "$end_lsn"
  fi
}

# capture_only W ROWS TXID END_LSN: consumer -> JetStream with no producer, against pg_recvlogical.
capture_only() {
  local w=$1 rows=$2 txid=$3 end_lsn=$4
  log "CAP: capture only of the $w backlog"
  local start end
  start=$(now)
  pg_recvlogical -h 127.0.0.1 -p "$SRC_PORT" -U postgres -d bench --slot "recv_$w" --start --endpos "$end_lsn" \
    -o proto_version=1 -o publication_names=bench_pub -f /dev/null --no-loop 2>"$WORK/recvlogical.log"
  end=$(now)
  local r_rate; r_rate=$(rate "$rows" "$start" "$end")
  drop_slot "recv_$w"
  if [ "$NATIVE_ONLY" = 1 ]; then
    drop_slot "cap_$w"
    record "CAP ${w^^} rows/s (consumer to JetStream vs pg_recvlogical)" "-" "$r_rate" "rows/s" "$rows rows of ${w^^}; baseline = pg_recvlogical"
    return
  fi

  nats_tool delete "$NATS_URL" BENCH_CAP >/dev/null
  psrc -c "SELECT bench_wait_slot_active('cap_$w', 120)" >"$WORK/active" &
  local wa=$!
  start_consumer "cap_$w" BENCH_CAP bench.capture "consumer-capture-$w"
  wait $wa
  local active; active=$(cat "$WORK/active") last="" deadline=$((SECONDS + BENCH_TIMEOUT))
  # done when the last message in JetStream is the last chunk of the workload's last transaction
  while (( SECONDS < deadline )); do
    last=$(nats_tool lasttx "$NATS_URL" BENCH_CAP)
    [ "$last" = "$txid true" ] && break
    sleep 0.5
  done
  end=$(nats_tool lasttime "$NATS_URL" BENCH_CAP)
  [ "$last" = "$txid true" ] || { log "CAP: the consumer did not publish the last transaction within ${BENCH_TIMEOUT}s"; end=""; }
  service_stop consumer
  local c_rate; c_rate=$(rate "$rows" "$active" "$end")
  local messages; messages=$(nats_tool count "$NATS_URL" BENCH_CAP)
  drop_slot "cap_$w"
  record "CAP ${w^^} rows/s (consumer to JetStream vs pg_recvlogical)" "$c_rate" "$r_rate" "rows/s" \
    "$rows rows of ${w^^}; baseline = pg_recvlogical; $messages messages, $(calc "$rows / $messages" 1) changes per message"
}

# within_20ms METRICS_FILE HISTOGRAM: the share of a lag histogram's observations at or under 20 ms, as "N %"
within_20ms() {
  awk -v h="$2" 'index($0, h "_bucket{") == 1 && $0 ~ /le="0.02"/ { b = $NF } index($0, h "_count{") == 1 { c = $NF }
                 END { if (c > 0) printf "%.1f %%", 100 * b / c; else print "-" }' "$1"
}

# latency: a steady rate into w3, native first, then the pipeline; percentiles from the sink
steady() {
  local secs=$W3_SECONDS rate=$W3_RATE rows
  rows=$(( secs * rate ))
  log "W3: $rate rows/s for ${secs}s (live), native then pipeline"
  cat >"$WORK/w3.sql" <<SQL
\set id random(1, 2000000000)
INSERT INTO w3 (id, k, v, payload) VALUES (nextval('w3_ids'), :id % 1000, 0, rpad(md5(:id::text), 170, 'x'));
SQL
  psrc -c "CREATE SEQUENCE IF NOT EXISTS w3_ids"
  local run db p50 p99 count
  local runs="native pipeline"
  [ "$NATIVE_ONLY" = 1 ] && { runs=native; W3_pipeline_P50=-; W3_pipeline_P99=-; W3_pipeline_N=0; }
  for run in $runs; do
    psrc -c "TRUNCATE w3" -c "SELECT setval('w3_ids', 1, false)" >/dev/null
    pdst "$run" -c "TRUNCATE w3"
    if [ "$run" = native ]; then
      create_slot nat_w3
      create_subscription sub_w3 nat_w3 true
      psrc -c "SELECT bench_wait_slot_active('nat_w3', 120)" >/dev/null
    else
      create_slot pipe_w3
      nats_tool delete "$NATS_URL" "$STREAM" >/dev/null
      start_producer bench_w3 producer-w3
      start_consumer pipe_w3 "$STREAM" "$SUBJECT" consumer-w3
      wait_http "http://127.0.0.1:$CONSUMER_HEALTH/health/ready" 60 || die "consumer not ready"
    fi
    # warm-up through the whole path, not counted: 3 s at 200 rows/s, or with W3_WARM_SECONDS that
    # many seconds at the measured rate (a service runs for months; its first seconds are the JIT's)
    if [ -n "${W3_WARM_SECONDS:-}" ]; then
      pgbench -h 127.0.0.1 -p "$SRC_PORT" -U postgres -n -f "$WORK/w3.sql" -R "$rate" -T "$W3_WARM_SECONDS" -c 2 -j 2 bench >/dev/null 2>&1
    else
      pgbench -h 127.0.0.1 -p "$SRC_PORT" -U postgres -n -f "$WORK/w3.sql" -R 200 -T 3 -c 1 bench >/dev/null 2>&1
    fi
    local warm; warm=$(psrc -c "SELECT last_value FROM w3_ids")
    pdst "$run" -c "SELECT bench_wait_row('w3', $warm, 60)" >/dev/null
    pgbench -h 127.0.0.1 -p "$SRC_PORT" -U postgres -n -f "$WORK/w3.sql" -R "$rate" -T "$secs" -c 2 -j 2 bench \
      >"$WORK/pgbench-w3-$run.log" 2>&1 || { cat "$WORK/pgbench-w3-$run.log" >&2; die "pgbench failed"; }
    local last; last=$(psrc -c "SELECT last_value FROM w3_ids")
    pdst "$run" -c "SELECT bench_wait_row('w3', $last, 120)" >/dev/null
    read -r p50 p99 count < <(pdst "$run" -F ' ' -c "SELECT round((1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - src_ts)))::numeric, 1),
                                                    round((1000 * percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - src_ts)))::numeric, 1),
                                                    count(*) FROM w3 WHERE id > $warm")
    if [ "$run" = native ]; then
      W3_native_P50=$p50; W3_native_P99=$p99; W3_native_N=$count
    else
      W3_pipeline_P50=$p50; W3_pipeline_P99=$p99; W3_pipeline_N=$count
    fi
    log "W3 $run: $count rows, p50 ${p50} ms, p99 ${p99} ms"
    if [ "$run" = native ]; then
      drop_subscription sub_w3; drop_slot nat_w3
    else
      # where the time goes: the services' own lag histograms (commit to JetStream's ack, commit to sink commit)
      curl -s "http://127.0.0.1:$CONSUMER_HEALTH/metrics" >"$WORK/metrics-consumer-w3.log"
      curl -s "http://127.0.0.1:$PRODUCER_HEALTH/metrics" >"$WORK/metrics-producer-w3.log"
      log "W3 pipeline: within 20 ms of the commit: $(within_20ms "$WORK/metrics-consumer-w3.log" vrsky_consumer_publish_lag_seconds)" \
        "published (acknowledged by JetStream), $(within_20ms "$WORK/metrics-producer-w3.log" vrsky_producer_sink_lag_seconds) in the sink" \
        "(the services' histograms, warm-up included)"
      service_stop consumer; service_stop producer; drop_slot pipe_w3
    fi
  done
  record "W3 latency p50" "$W3_pipeline_P50" "$W3_native_P50" "ms" "$rate rows/s for ${secs}s, single-row tx (lower is better)"
  record "W3 latency p99" "$W3_pipeline_P99" "$W3_native_P99" "ms" "rows measured: pipeline $W3_pipeline_N, native $W3_native_N"
}

# snapshot: the same pre-existing table copied by the pipeline's initial snapshot and by a native
# subscription with copy_data = true, one after the other, each with a concurrent writer on it.
# start_writer / stop_writer: single-row UPDATEs of random rows of s1, each its own transaction,
# 1 ms apart; stop_writer sets WRITER_WORST to the longest one in ms (measured in the server: lock
# waits count). Not called in a subshell: the writer is a child of this shell.
start_writer() {
  psrc -c "TRUNCATE bench_flag" -c "TRUNCATE bench_writer" >/dev/null
  psrc -c "DO \$\$ DECLARE t0 timestamptz; worst float8 := 0; n int := 0; BEGIN
             LOOP
               t0 := clock_timestamp();
               UPDATE s1 SET v = v + 1 WHERE id = 1 + (random() * ($SNAP_ROWS - 2))::int;
               COMMIT;
               worst := greatest(worst, extract(epoch FROM clock_timestamp() - t0) * 1000);
               n := n + 1;
               IF n % 50 = 0 AND EXISTS (SELECT 1 FROM bench_flag) THEN EXIT; END IF;
               PERFORM pg_sleep(0.001);
             END LOOP;
             INSERT INTO bench_writer VALUES (round(worst::numeric, 1), n);
           END \$\$" >/dev/null 2>"$WORK/writer.out" &
  WRITER_PID=$!
}
stop_writer() {
  psrc -c "INSERT INTO bench_flag VALUES (true)" >/dev/null
  wait "$WRITER_PID"
  WRITER_WORST=$(psrc -c "SELECT worst_ms FROM bench_writer")
}

snapshot_workload() {
  local rows=$SNAP_ROWS
  log "SNAP: writing $rows rows into s1 (before any replication of it)"
  psrc -c "CREATE TABLE s1 $TABLE_DDL" -c "CREATE TABLE bench_flag (stop bool)" -c "CREATE TABLE bench_writer (worst_ms numeric, n int)" \
    -c "INSERT INTO s1 (id, k, v, payload) SELECT g, g % 1000, 0, $(payload) FROM generate_series(1, $rows) g" \
    -c "VACUUM ANALYZE s1" -c "CREATE PUBLICATION snap_native_pub FOR TABLE s1" >/dev/null
  # native: CREATE SUBSCRIPTION with copy_data = true (its own slot), until the last row is in the sink
  start_writer
  pdst native -c "SELECT bench_wait_row('s1', $rows, $BENCH_TIMEOUT)" >"$WORK/end" &
  local we=$!
  local t0; t0=$(now)
  pdst native -c "CREATE SUBSCRIPTION snap_native CONNECTION '$SRC_CONNINFO' PUBLICATION snap_native_pub WITH (copy_data = true)"
  wait $we
  local native_end; native_end=$(cat "$WORK/end")
  stop_writer
  local native_worst=$WRITER_WORST
  pdst native -c "DROP SUBSCRIPTION snap_native" >/dev/null 2>&1
  local native_rate; native_rate=$(rate "$rows" "$t0" "$native_end")
  log "SNAP native copy_data: $native_rate rows/s, longest writer statement ${native_worst} ms"
  [ "$NATIVE_ONLY" = 1 ] && { record "SNAP snapshot rows/s" "-" "$native_rate" "rows/s" "$rows rows"; return; }
  # pipeline: producer ready, then the consumer (new slot, initial snapshot), until the last row is in the sink
  nats_tool delete "$NATS_URL" "$STREAM" >/dev/null
  start_producer bench_snap producer-snap
  start_writer
  pdst pipeline -c "SELECT bench_wait_row('s1', $rows, $BENCH_TIMEOUT)" >"$WORK/end" &
  we=$!
  t0=$(now)
  # shellcheck disable=SC2046
  service_start consumer "$CONSUMER_JAR" "$WORK/consumer-snap.log" "${BENCH_CONSUMER_JAVA_OPTS:-$JAVA_OPTS}" \
    $(consumer_env snap_pipe "$STREAM" "$SUBJECT" | sed 's/POSTGRES_INPUT_TABLES=[^ ]*/POSTGRES_INPUT_TABLES=public.s1/; s/POSTGRES_INPUT_PUBLICATION=[^ ]*/POSTGRES_INPUT_PUBLICATION=snap_pipe_pub/')
  wait $we
  local pipe_end; pipe_end=$(cat "$WORK/end")
  stop_writer
  local pipe_worst=$WRITER_WORST
  local pipe_rate; pipe_rate=$(rate "$rows" "$t0" "$pipe_end")
  grep -h "copied:" "$WORK/consumer-snap.log" | sed 's/^.* - //' | head -3 >&2
  service_stop consumer; service_stop producer
  drop_slot snap_pipe
  log "SNAP pipeline: $pipe_rate rows/s, longest writer statement ${pipe_worst} ms"
  record "SNAP snapshot rows/s" "$pipe_rate" "$native_rate" "rows/s" "$rows-row table copied, from start to last row in the sink (JVM start included)"
  record "SNAP writer longest statement" "$pipe_worst" "$native_worst" "ms" "single-row UPDATEs of the table during its copy (lower is better; target < 1000)"
}

# warm_burst: a burst into services that already run and are warmed up (WARM in the header). The
# pipeline catches up a warm-up backlog of w5; its consumer is stopped (SIGSTOP: its walsender
# keeps the connection, wal_sender_timeout = 0) while the burst is written, so that the burst waits
# in the WAL; native catches up the burst on a subscription created just before it; then the
# consumer is continued (SIGCONT) and timed until the burst's last row is in the sink. CPU of the
# pipeline: the walsender from before the burst is written (it starts decoding the burst while
# the consumer is stopped), the others from SIGCONT. One run.
warm_burst() {
  local warm=$WARM_ROWS burst=$BURST_ROWS per=$W1_TX out last consumer walsender wal_before
  last=$(( warm + burst ))
  rm -f "$WORK/cpu-WARM"
  log "WARM: $warm rows to warm the services up, then a burst of $burst rows in transactions of $per into them"
  if [ "$NATIVE_ONLY" != 1 ]; then
    create_slot pipe_warm
    out=$(write_batches w5 "$warm" "$per")
    log "WARM: source wrote the $warm warm-up rows in ${out#* }s"
    nats_tool delete "$NATS_URL" "$STREAM" >/dev/null
    start_producer bench_warm producer-warm
    start_consumer pipe_warm "$STREAM" "$SUBJECT" consumer-warm
    [ -n "$(pdst pipeline -c "SELECT bench_wait_row('w5', $warm, $BENCH_TIMEOUT)")" ] \
      || log "WARNING: WARM: the warm-up's last row did not arrive within ${BENCH_TIMEOUT}s"
    consumer=$(service_pid consumer); walsender=$(slot_pid pipe_warm)
    kill -STOP "$consumer"
    wal_before=$(cpu_of "$walsender")
  else
    out=$(write_batches w5 "$warm" "$per") # the same ids and WAL as with the pipeline
  fi
  create_slot nat_warm
  create_subscription sub_warm nat_warm false
  out=$(write_batches w5 "$burst" "$per" $(( warm + 1 )))
  log "WARM: source wrote the $burst-row burst in ${out#* }s ($(calc "$burst / ${out#* }" 0) rows/s), last txid ${out% *}"

  measure_native sub_warm nat_warm w5 "$last"
  local n_rate; n_rate=$(rate "$burst" "$T_ACTIVE" "$T_END")
  check_rows native w5 "$burst"
  keep_native_cpu WARM
  log "WARM native: $n_rate rows/s from start of reading, CPU s: walsender $CPU_N_WAL, apply worker $CPU_N_APPLY"
  drop_subscription sub_warm; drop_slot nat_warm
  pdst native -c "TRUNCATE w5"

  local p_rate="-"
  if [ "$NATIVE_ONLY" != 1 ]; then
    pdst pipeline -c "SELECT bench_wait_row('w5', $last, $BENCH_TIMEOUT)" >"$WORK/end" &
    local we=$! con_before t_cont jit_con jit_prod producer
    producer=$(service_pid producer)
    cpu_window_start
    con_before=$(cpu_of "$consumer")
    jit_con=$(jit_cpu "$consumer"); jit_prod=$(jit_cpu "$producer")
    t_cont=$(now)
    kill -CONT "$consumer"
    wait $we
    T_END=$(cat "$WORK/end")
    cpu_window_end
    jit_con=$(cpu_delta "$jit_con" "$(jit_cpu "$consumer")"); jit_prod=$(cpu_delta "$jit_prod" "$(jit_cpu "$producer")")
    CPU_P_CON=$(cpu_delta "$con_before" "$(cpu_of "$consumer")")
    CPU_P_WAL=$(cpu_delta "$wal_before" "$(walsender_cpu pipe_warm "$walsender")")
    p_rate=$(rate "$burst" "$t_cont" "$T_END")
    check_rows pipeline w5 "$last"
    keep_pipeline_cpu WARM
    log "WARM pipeline: $p_rate rows/s from SIGCONT, CPU s: walsender $CPU_P_WAL, consumer $CPU_P_CON, nats-server $CPU_P_NATS," \
      "producer $CPU_P_PROD, sink backends ($SINK_BACKENDS) $CPU_P_SINK; of which JIT compiler threads: consumer $jit_con, producer $jit_prod"
    service_stop consumer; [ "$SERVICE_EXIT" = 0 ] || log "consumer exited with $SERVICE_EXIT"
    service_stop producer; [ "$SERVICE_EXIT" = 0 ] || log "producer exited with $SERVICE_EXIT"
    drop_slot pipe_warm
    pdst pipeline -c "TRUNCATE w5"
  fi
  record "WARM rows/s (burst into warm services)" "$p_rate" "$n_rate" "rows/s" \
    "$burst rows, tx of $per, after a $warm-row warm-up; pipeline: from SIGCONT of the stopped consumer to the last row; native: catch-up of the burst; one run"
  [ "$NATIVE_ONLY" = 1 ] || record "WARM JIT compiler threads, consumer + producer" "$(cpu_sum "$jit_con" "$jit_prod")" "-" "CPU s" \
    "compiling during the burst (part of the services' CPU above): consumer $jit_con, producer $jit_prod"
  cpu_record WARM "$burst" "from before the burst is written" "from SIGCONT (the burst only)" "from SIGCONT until the last row is in the sink"
}

# ------------------------------------------------------------------------------------------------
wants SNAP && snapshot_workload
wants W1 && { if wants CAP; then catch_up W1 w1 "$W1_ROWS" "$W1_TX" capture; else catch_up W1 w1 "$W1_ROWS" "$W1_TX"; fi; }
wants W2 && { if wants CAP; then catch_up W2 w2 "$W2_ROWS" 1 capture; else catch_up W2 w2 "$W2_ROWS" 1; fi; }
wants W1R && catch_up W1R r1 "$W1R_ROWS" "$W1_TX"
wants W2R && catch_up W2R r2 "$W2R_ROWS" 1
wants W3 && steady
wants W4 && catch_up W4 w4 "$W4_ROWS" "$W4_ROWS"
wants WARM && warm_burst

# ------------------------------------------------------------------------------------------------
# summary
{
  echo "# Benchmark run $STAMP$( [ "$QUICK" = 1 ] && echo ' (quick)')"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)."
  echo "PostgreSQL $PG_VERSION (two local clusters, fsync=off), $NATS_VERSION, $JAVA_VERSION, services with $JAVA_OPTS."
  [ -n "${BENCH_CONSUMER_ENV:-}${BENCH_PRODUCER_ENV:-}" ] && echo "Service settings: ${BENCH_CONSUMER_ENV:-} ${BENCH_PRODUCER_ENV:-}"
  echo "Load average (1/5/15 min) at start: $LOAD_START; at end: $(cut -d' ' -f1-3 /proc/loadavg) (anything else running on the machine shows here)."
  echo
  echo "| metric | pipeline | native | pipeline/native | unit | note |"
  echo "|---|---:|---:|---:|---|---|"
  # the CPU figures of each process are in the CPU table below; their totals stay here
  tail -n +2 "$TSV" | awk -F '\t' '$1 ~ / CPU / && $1 !~ / CPU total$/ { next } { printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }'
  if [ "${#CPU_NAMES[@]}" -gt 0 ]; then
    echo
    echo "CPU time per row (µs; utime + stime of each process, /proc/<pid>/stat), median of each figure over the runs (of each total: the median of the runs' totals; WARM: one run):"
    echo
    printf '| process |'; printf ' %s |' "${CPU_NAMES[@]}"; echo
    printf '|---|'; printf -- '---:|%.0s' "${CPU_NAMES[@]}"; echo
    for row in "${CPU_ROWS[@]}"; do
      printf '| %s |' "${row#*|}"
      for name in "${CPU_NAMES[@]}"; do printf ' %s |' "${CPU_US[$name,${row%%|*}]}"; done
      echo
    done
    printf '| pipeline total / native total (target: at most 1.5) |'
    for name in "${CPU_NAMES[@]}"; do
      if [[ "${CPU_US[$name,p_total]}" =~ ^[0-9.]+$ ]] && [[ "${CPU_US[$name,n_total]}" =~ ^[0-9.]+$ ]] && [ "$(calc "${CPU_US[$name,n_total]} > 0" 0)" = 1 ]; then
        printf ' **%s** |' "$(calc "${CPU_US[$name,p_total]} / ${CPU_US[$name,n_total]}" 2)"
      else printf ' - |'; fi
    done
    echo
    echo
    echo "Walsenders, the consumer and the apply worker: their whole lives (a walsender is one process per connection; the consumer's includes JVM start-up);"
    echo "nats-server, the producer and the sink backends serving the producer (client backends of database pipeline, without the benchmark's own sessions):"
    echo "from just before the consumer starts until the last row is in the sink. WARM: the burst only (the walsender from before the burst is written, the others from SIGCONT of the consumer)."
  fi
} >"$RESULTS/summary.md"
echo
cat "$RESULTS/summary.md"
echo
log "results in $RESULTS"
