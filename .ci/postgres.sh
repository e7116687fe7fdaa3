#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the tests, CI and the benchmarks.
#
#   .ci/postgres.sh start    install the server from Debian's packages if it is missing (as
#                            root), initdb a private cluster and start it; prints the URL
#   .ci/postgres.sh url      the SQLAlchemy URL of that server (fails if it is not running)
#   .ci/postgres.sh status   exit 0 when it is running
#   .ci/postgres.sh stop     stop it and delete its files
#   .ci/postgres.sh pause    stop it, keeping its files; resume starts it again with its data
#
# It never touches a cluster that already exists on the machine (Debian's "main" on 5432): it
# runs its own cluster in QINGLIU_PG_DIR (default /tmp/qingliu-pg-$PORT) on QINGLIU_PG_PORT
# (default 54329), owned by the postgres user when run as root, by the caller otherwise.
# The role and database are both "qingliu" (password "qingliu").
#
# QINGLIU_PG_DURABLE=1 starts it with fsync and synchronous_commit on (production-like, for
# benchmarks); by default a test server runs with fsync=off, since its data is thrown away.
set -euo pipefail

PORT="${QINGLIU_PG_PORT:-54329}"
DIR="${QINGLIU_PG_DIR:-/tmp/qingliu-pg-$PORT}"
DATA="$DIR/data"
LOG="$DIR/server.log"
NAME=qingliu
URL="postgresql+psycopg://$NAME:$NAME@127.0.0.1:$PORT/$NAME"

die() { echo "postgres.sh: $*" >&2; exit 1; }

bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
    done
    return 1
}

install_server() {
    bindir >/dev/null && return 0
    [ "$(id -u)" = 0 ] || die "no PostgreSQL server found; install it: sudo apt-get install postgresql"
    echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # No default cluster: we run our own below (and a started "main" would only use memory).
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/qingliu.conf
    apt-get install -y -qq postgresql >/dev/null
    bindir >/dev/null || die "apt-get install postgresql did not bring initdb"
}

# Run a command as the cluster's owner: postgres when we are root (initdb refuses root).
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

running() {
    local bin
    bin="$(bindir)" || return 1
    [ -f "$DATA/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

# Start the cluster in $DATA (made by start) and wait until it accepts connections.
launch() {
    local bin="$1"
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if [ "${QINGLIU_PG_DURABLE:-0}" = 1 ]; then
        durability="-c fsync=on -c synchronous_commit=on"
    fi
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start -o \
        "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$DIR \
         -c max_connections=300 $durability" >/dev/null \
        || { cat "$LOG" >&2; die "the server did not start"; }
}

start() {
    install_server
    local bin
    bin="$(bindir)"
    if running; then
        echo "$URL"
        return 0
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
    as_owner "$bin/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
        >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    launch "$bin"
    as_owner "$bin/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE $NAME LOGIN CREATEDB PASSWORD '$NAME'" \
        -c "CREATE DATABASE $NAME OWNER $NAME" >/dev/null
    echo "$URL"
}

# Stop the server but keep its cluster, so that resume brings it back with its data (for the
# tests of a database outage: the server stopped under load and started again).
pause() {
    local bin
    bin="$(bindir)" || die "no PostgreSQL server found"
    running || die "not running; start it with: $0 start"
    as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
}

resume() {
    local bin
    bin="$(bindir)" || die "no PostgreSQL server found"
    [ -d "$DATA" ] || die "no cluster in $DATA; start one with: $0 start"
    running || launch "$bin"
    echo "$URL"
}

stop() {
    local bin
    if bin="$(bindir)" && [ -f "$DATA/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$DIR"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    pause) pause ;;
    resume) resume ;;
    url) running || die "not running; start it with: $0 start"; echo "$URL" ;;
    status) running ;;
    *) die "usage: $0 start|stop|pause|resume|url|status" ;;
esac
