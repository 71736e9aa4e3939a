#!/usr/bin/env bash
# Make PostgreSQL and Redis reachable for Breeze: use running servers; otherwise start installed
# ones; otherwise install them with apt-get and start them. Then make sure the database exists.
# Only local addresses are managed: a DATABASE_URL or REDIS_URL pointing elsewhere is left alone.
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgres://breeze:breeze@127.0.0.1:5432/breeze}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

say() { printf '\033[1;34m[services]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

is_local() { case "$1" in *@127.0.0.1*|*@localhost*|*//127.0.0.1*|*//localhost*) return 0;; *) return 1;; esac; }

port_open() {  # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && exec 3>&- && return 0
  return 1
}

wait_for_port() {  # host port name
  for _ in $(seq 1 30); do port_open "$1" "$2" && return 0; sleep 1; done
  say "$3 did not start listening on $1:$2"; return 1
}

apt_install() {
  say "installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if port_open 127.0.0.1 5432; then return 0; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    command -v apt-get >/dev/null || { say "PostgreSQL is not running and apt-get is unavailable: install PostgreSQL 15+ and start it"; exit 1; }
    apt_install postgresql
  fi
  local version; version="$(ls /etc/postgresql | sort -V | tail -1)"
  say "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for_port 127.0.0.1 5432 PostgreSQL
}

psql_admin() {  # runs SQL as the postgres superuser: peer auth as root, else trust over TCP
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 && runuser -u postgres -- psql -XtAc "select 1" >/dev/null 2>&1; then
    runuser -u postgres -- psql -XtA "$@"
  else
    psql -XtA -h 127.0.0.1 -U postgres "$@"
  fi
}

ensure_database() {
  # postgres://user:password@host:port/name
  local rest="${DATABASE_URL#*://}"
  local creds="${rest%%@*}" location="${rest#*@}"
  local user="${creds%%:*}" password="${creds#*:}"
  local name="${location#*/}"; name="${name%%\?*}"
  if [ "$(psql_admin -c "select 1 from pg_roles where rolname='$user'")" != 1 ]; then
    say "creating database role $user"
    psql_admin -c "create role \"$user\" login createdb password '$password'" >/dev/null
  fi
  if [ "$(psql_admin -c "select 1 from pg_database where datname='$name'")" != 1 ]; then
    say "creating database $name"
    psql_admin -c "create database \"$name\" owner \"$user\"" >/dev/null
  fi
}

ensure_redis() {
  if port_open 127.0.0.1 6379; then return 0; fi
  if ! command -v redis-server >/dev/null; then
    command -v apt-get >/dev/null || { say "Redis is not running and apt-get is unavailable: install Redis 7 and start it"; exit 1; }
    apt_install redis-server
  fi
  say "starting Redis"
  mkdir -p /tmp/breeze-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/breeze-redis --logfile /tmp/breeze-redis/redis.log
  wait_for_port 127.0.0.1 6379 Redis
}

if is_local "$DATABASE_URL"; then ensure_postgres; ensure_database; else say "DATABASE_URL is remote; not managing PostgreSQL"; fi
if is_local "$REDIS_URL"; then ensure_redis; else say "REDIS_URL is remote; not managing Redis"; fi
say "PostgreSQL and Redis are reachable"
