# shellcheck shell=bash
# Shared helpers for the project's shell scripts (sourced, not run):
# private PostgreSQL clusters and nats-server instances on free ports in a work directory, the
# service jars, and the small JetStream client scripts/lib/NatsTool.java.
#
# Callers set VRSKY_ROOT (the repository root) and WORK (a private temp directory) first.
# Every process started here is recorded in "$WORK/pids" so that cleanup stops exactly those.

VRSKY_ROOT="${VRSKY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
CONSUMER_JAR="${VRSKY_CONSUMER_JAR:-$VRSKY_ROOT/postgres-consumer/target/postgres-consumer.jar}"
PRODUCER_JAR="${VRSKY_PRODUCER_JAR:-$VRSKY_ROOT/postgres-producer/target/postgres-producer.jar}"
ADMIN_JAR="${VRSKY_ADMIN_JAR:-$VRSKY_ROOT/vrsky-admin/target/vrsky-admin.jar}"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The newest PostgreSQL server bin directory (initdb, pg_ctl), or VRSKY_PG_BIN.
pg_bin_dir() {
  if [ -n "${VRSKY_PG_BIN:-}" ]; then echo "$VRSKY_PG_BIN"; return; fi
  local d
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
  [ -d "$d" ] || d=""
  if [ -z "$d" ] && command -v initdb >/dev/null 2>&1; then d=$(dirname "$(command -v initdb)"); fi
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then die "no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql, or set VRSKY_PG_BIN"; fi
  echo "$d"
}

nats_bin() {
  if [ -n "${VRSKY_NATS_BIN:-}" ]; then echo "$VRSKY_NATS_BIN"; return; fi
  local b
  b=$(command -v nats-server 2>/dev/null || true)
  [ -z "$b" ] && [ -x /usr/sbin/nats-server ] && b=/usr/sbin/nats-server
  [ -n "$b" ] || die "no nats-server binary: apt-get install nats-server, or set VRSKY_NATS_BIN"
  echo "$b"
}

# A TCP port nobody listens on (and that no earlier call of this script handed out). Taken below
# the kernel's ephemeral range (32768+ by default), so that no outgoing connection can grab it
# between this check and the server's bind.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$(( 15000 + RANDOM % 17000 ))
    grep -qx "$port" "$WORK/ports" 2>/dev/null && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port" >>"$WORK/ports"
      echo "$port"
      return
    fi
  done
  die "no free port found"
}

# Runs a command as the postgres OS user when we are root (PostgreSQL refuses to run as root).
as_pg_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_init NAME PORT [extra postgresql.conf lines...]: initdb a private cluster in $WORK/NAME.
pg_init() {
  local name=$1 port=$2; shift 2
  local bin dir; bin=$(pg_bin_dir); dir="$WORK/$name"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$WORK" "$dir"
  chmod 755 "$WORK"
  as_pg_user "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed for $name"; }
  {
    echo "port = $port"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir'"
    echo "wal_level = logical"
    echo "max_replication_slots = 20"
    echo "max_wal_senders = 20"
    echo "max_connections = 100"
    echo "fsync = off"
    echo "full_page_writes = off"
    echo "shared_buffers = 256MB"
    echo "max_wal_size = 4GB"
    echo "wal_sender_timeout = 60s"
    for line in "$@"; do echo "$line"; done
  } | as_pg_user tee -a "$dir/data/postgresql.auto.conf" >/dev/null
}

pg_start() {
  local name=$1 bin; bin=$(pg_bin_dir)
  as_pg_user "$bin/pg_ctl" -D "$WORK/$name/data" -l "$WORK/$name/server.log" -w -t 120 start >/dev/null \
    || { tail -20 "$WORK/$name/server.log" >&2; die "PostgreSQL $name did not start"; }
}

pg_stop() {
  local name=$1 mode=${2:-fast} bin; bin=$(pg_bin_dir)
  [ -d "$WORK/$name/data" ] || return 0
  as_pg_user "$bin/pg_ctl" -D "$WORK/$name/data" -m "$mode" -w -t 60 stop >/dev/null 2>&1 || true
}

# nats_start NAME PORT MONITOR_PORT: nats-server -js with its store in $WORK/NAME; pid in $WORK/NAME.pid.
# It runs in a session of its own (setsid), so a Ctrl-C in the terminal reaches the services but not
# NATS: the services drain to NATS first, then the cleanup stops NATS (the recorded pids in reverse).
# setsid does not fork here (a background job of a script is no process group leader), so $! is
# nats-server itself and stays this shell's child.
nats_start() {
  local name=$1 port=$2 monitor=$3
  mkdir -p "$WORK/$name"
  setsid "$(nats_bin)" -js -a 127.0.0.1 -p "$port" -m "$monitor" -sd "$WORK/$name/store" >>"$WORK/$name/nats.log" 2>&1 &
  echo $! >"$WORK/$name.pid"
  echo $! >>"$WORK/pids"
  wait_http "http://127.0.0.1:$monitor/healthz?js-enabled-only=true" 30 || die "nats-server $name did not start"
}

nats_stop() {
  local name=$1 pid
  pid=$(cat "$WORK/$name.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -f "$WORK/$name.pid"
}

# wait_http URL SECONDS: until URL answers 2xx.
wait_http() {
  local url=$1 secs=${2:-60}
  for _ in $(seq 1 $(( secs * 10 ))); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Builds the service jars and vrsky-admin when any is missing (or when VRSKY_REBUILD=1).
ensure_jars() {
  if [ "${VRSKY_REBUILD:-0}" != 1 ] && [ -f "$CONSUMER_JAR" ] && [ -f "$PRODUCER_JAR" ] && [ -f "$ADMIN_JAR" ]; then return; fi
  log "building the service jars and vrsky-admin (mvn -DskipTests package)"
  local mvn=mvn
  command -v mvn >/dev/null 2>&1 || mvn="$VRSKY_ROOT/mvnw"
  (cd "$VRSKY_ROOT" && "$mvn" -q -B -DskipTests -pl postgres-consumer,postgres-producer,vrsky-admin -am package) \
    || die "the build failed"
  if [ ! -f "$CONSUMER_JAR" ] || [ ! -f "$PRODUCER_JAR" ] || [ ! -f "$ADMIN_JAR" ]; then
    die "the build did not produce the three jars"
  fi
}

# The services' JVM options when run from these scripts, as in the image (docker/service.Dockerfile):
# a fixed heap and the serial collector, with the JVM's usual two compilers (C1, then C2): a
# service runs for months, and C2's code is what it runs then; docs/benchmark.md ("JVM options")
# has the figures of both choices.
VRSKY_JAVA_OPTS=${VRSKY_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC}

# service_start NAME JAR LOG "JAVA OPTIONS" [KEY=VALUE...]: runs the jar in the background with
# the given environment added; pid in $WORK/NAME.pid. VRSKY_JAVA picks the java binary (e.g. a
# jlinked runtime's bin/java; default: java on PATH). Call it directly (not in a subshell or
# $(...)), so that the process stays a child of the script and its exit code can be collected.
service_start() {
  local name=$1 jar=$2 logfile=$3 opts=$4; shift 4
  # shellcheck disable=SC2086 # JVM options are words
  env "$@" "${VRSKY_JAVA:-java}" $opts -jar "$jar" >>"$logfile" 2>&1 &
  echo $! >"$WORK/$name.pid"
  echo $! >>"$WORK/pids"
}

service_pid() { cat "$WORK/$1.pid" 2>/dev/null; }

# service_stop NAME [SIGNAL]: sends SIGNAL (TERM) and waits until the process is gone; sets
# SERVICE_EXIT to its exit code (128+n for a signal).
service_stop() {
  local name=$1 sig=${2:-TERM} pid
  # shellcheck disable=SC2034 # read by the scripts that source this file
  SERVICE_EXIT=0
  pid=$(service_pid "$name") || return 0
  kill -s "$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { log "$name did not stop within 60 s: SIGKILL"; kill -9 "$pid" 2>/dev/null; }
  wait "$pid" 2>/dev/null
  # shellcheck disable=SC2034 # read by the scripts that source this file
  SERVICE_EXIT=$?
  rm -f "$WORK/$name.pid"
}

# Runs scripts/lib/NatsTool.java on the classpath of a service jar (jnats is inside).
nats_tool() {
  java -cp "$PRODUCER_JAR" "$VRSKY_ROOT/scripts/lib/NatsTool.java" "$@"
}

# Stops every process this script started, newest first, one at a time (SIGTERM, then SIGKILL
# after 10 s), so that the services drain while NATS and PostgreSQL are still up.
stop_recorded_processes() {
  local pid
  [ -f "$WORK/pids" ] || return 0
  for pid in $(tac "$WORK/pids"); do
    kill -0 "$pid" 2>/dev/null || continue
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  : >"$WORK/pids"
}
