#!/usr/bin/env bash
# Start, stop or inspect the servers Orderly needs (PostgreSQL behind PgBouncer, Redis,
# RabbitMQ, and Kafka for the event stream unless ORDERLY_KAFKA=off) as plain
# local processes on 127.0.0.1, with all data under
# $ORDERLY_STATE_DIR (default .local/, git-ignored; PostgreSQL's files move to
# /var/lib/orderly when the postgres user cannot enter that folder).
# Idempotent: `start` on a
# running stack only checks it. Used by `make run`, `make test` and CI alike.
#
#   scripts/services.sh start [postgres|pgbouncer|redis|rabbitmq|kafka] start what is not running, wait until ready
#   scripts/services.sh stop [postgres|pgbouncer|redis|rabbitmq|kafka]  stop all, or one
#   scripts/services.sh reset                        stop all and delete their data and secrets
#   scripts/services.sh status | env
#   scripts/services.sh rabbitmqctl ARGS...          rabbitmqctl against the local node
#
# First start generates the passwords and writes $ORDERLY_STATE_DIR/orderly.env,
# which config.py reads; nothing secret is ever committed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${ORDERLY_STATE_DIR:-$ROOT/.local}
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)

PG_PORT=${ORDERLY_PG_PORT:-55432}
PGBOUNCER_PORT=${ORDERLY_PGBOUNCER_PORT:-56432}
REDIS_PORT=${ORDERLY_REDIS_PORT:-56379}
REDIS_CACHE_PORT=${ORDERLY_REDIS_CACHE_PORT:-56380}
AMQP_PORT=${ORDERLY_AMQP_PORT:-55672}
RABBIT_MGMT_PORT=${ORDERLY_RABBIT_MGMT_PORT:-55673}
RABBIT_DIST_PORT=${ORDERLY_RABBIT_DIST_PORT:-55674}
EPMD_PORT=${ORDERLY_EPMD_PORT:-55675}
KAFKA_PORT=${ORDERLY_KAFKA_PORT:-59092}
KAFKA_CONTROLLER_PORT=${ORDERLY_KAFKA_CONTROLLER_PORT:-59093}
# ORDERLY_KAFKA=off: no broker (machines without Java); the app then runs with
# EVENT_STREAM_ENABLED=false.
KAFKA=${ORDERLY_KAFKA:-on}

PG_DIR=$STATE/postgres
# PostgreSQL runs as the postgres user, which cannot enter a checkout under a
# private folder (root's mode-700 home, say). Its files then live in
# /var/lib/orderly/<checkout id>/postgres, linked from .local/postgres; every
# command below uses the real path (the postgres user cannot follow the link).
PG_OUTSIDE=/var/lib/orderly/$(printf %s "$STATE" | sha256sum | cut -c1-16)/postgres
[ -L "$PG_DIR" ] && PG_DIR=$(readlink -f "$PG_DIR")
REDIS_DIR=$STATE/redis
REDIS_CACHE_DIR=$STATE/redis-cache
RABBIT_DIR=$STATE/rabbitmq
KAFKA_DIR=$STATE/kafka
SECRETS=$STATE/secrets
ENV_FILE=$STATE/orderly.env
ADMIN_ENV_FILE=$STATE/admin.env
FLOWER_ENV_FILE=$STATE/flower.env

log() { printf '[services] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- install
install_missing() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
  command -v initdb >/dev/null || [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
  command -v pgbouncer >/dev/null || missing+=(pgbouncer)
  if [ "$KAFKA" = on ]; then
    command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null || missing+=(maven)
  fi
  if ((${#missing[@]})); then
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
pg_bin() { command -v "$1" 2>/dev/null || echo "/usr/lib/postgresql/15/bin/$1"; }

# What start cannot fix itself, said plainly before anything is started (each
# server's start also checks that its ports are free).
check_disk() {
  local free_mb
  free_mb=$(df -Pm "$STATE" | awk 'NR == 2 {print $4}')
  ((free_mb >= 1024)) || die "only ${free_mb} MB free under $STATE: PostgreSQL and RabbitMQ need at least 1 GB"
}
port_free() {  # port_free PORT VARIABLE: die when another program listens there
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    die "port $1 on 127.0.0.1 is in use by another program (ss -ltnp 'sport = :$1' shows which); stop it or choose another port with $2=..."
  fi
}

# ---------------------------------------------------------------- secrets
secret() {  # secret NAME: read or generate a random password
  local file=$SECRETS/$1
  if [ ! -s "$file" ]; then
    mkdir -p "$SECRETS" && chmod 700 "$SECRETS"
    # Hex (192 bits): a URL-safe secret may start with "-", which rabbitmqctl
    # add_user then reads as options (one fresh-clone CI run in 64 failed so).
    python3 -c 'import secrets; print(secrets.token_hex(24))' >"$file"
    chmod 600 "$file"
  fi
  cat "$file"
}

write_env_file() {
  local pg_pw owner_pw rabbit_pw rabbit_admin_pw flower_pw redis_pw redis_admin_pw
  pg_pw=$(secret postgres-orderly)
  owner_pw=$(secret postgres-orderly-owner)
  redis_pw=$(secret redis-orderly)
  redis_admin_pw=$(secret redis-admin)
  rabbit_pw=$(secret rabbitmq-orderly)
  rabbit_admin_pw=$(secret rabbitmq-admin)
  flower_pw=$(secret flower-admin)
  webhook_key=$(secret webhook-secrets-key)
  kafka_pw=$(secret kafka-orderly)
  umask 077
  cat >"$ENV_FILE" <<EOF
# Written by scripts/services.sh for the local stack; regenerated on start.
# The app's processes reach PostgreSQL through PgBouncer (transaction pooling).
DATABASE_URL=postgresql+psycopg://orderly:$pg_pw@127.0.0.1:$PGBOUNCER_PORT/orderly
TEST_DATABASE_URL=postgresql+psycopg://orderly:$pg_pw@127.0.0.1:$PGBOUNCER_PORT/orderly_test
REDIS_URL=redis://orderly:$redis_pw@127.0.0.1:$REDIS_PORT/0
TEST_REDIS_URL=redis://orderly:$redis_pw@127.0.0.1:$REDIS_PORT/1
CACHE_REDIS_URL=redis://orderly:$redis_pw@127.0.0.1:$REDIS_CACHE_PORT/0
TEST_CACHE_REDIS_URL=redis://orderly:$redis_pw@127.0.0.1:$REDIS_CACHE_PORT/1
BROKER_URL=amqp://orderly:$rabbit_pw@127.0.0.1:$AMQP_PORT/orderly
TEST_BROKER_URL=amqp://orderly:$rabbit_pw@127.0.0.1:$AMQP_PORT/orderly_test
FLOWER_ADDRESS=127.0.0.1
WEBHOOK_SECRETS_KEY=$webhook_key
EOF
  if [ "$KAFKA" = on ]; then
    cat >>"$ENV_FILE" <<EOF
KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT
KAFKA_USERNAME=orderly
KAFKA_PASSWORD=$kafka_pw
TEST_EVENT_STREAM_TOPIC=orderly_test.order-events
EOF
  else
    echo "EVENT_STREAM_ENABLED=false" >>"$ENV_FILE"
  fi
  # Flower's login, read by flowerconfig.py in Flower's process only.
  cat >"$FLOWER_ENV_FILE" <<EOF
# Written by scripts/services.sh: Flower's login (user:password).
FLOWER_BASIC_AUTH=admin:$flower_pw
EOF
  # What only the scripts and the tests may use (migrations, flushing and
  # pausing Redis): never loaded into the app's processes.
  cat >"$ADMIN_ENV_FILE" <<EOF
# Written by scripts/services.sh: the owner's and admin's credentials.
MIGRATION_DATABASE_URL=postgresql+psycopg://orderly_owner:$owner_pw@127.0.0.1:$PG_PORT/orderly
TEST_MIGRATION_DATABASE_URL=postgresql+psycopg://orderly_owner:$owner_pw@127.0.0.1:$PG_PORT/orderly_test
REDIS_ADMIN_URL=redis://admin:$redis_admin_pw@127.0.0.1:$REDIS_PORT/0
REDIS_CACHE_ADMIN_URL=redis://admin:$redis_admin_pw@127.0.0.1:$REDIS_CACHE_PORT/0
RABBITMQ_ADMIN_URL=http://orderly_admin:$rabbit_admin_pw@127.0.0.1:$RABBIT_MGMT_PORT
EOF
}

# ---------------------------------------------------------------- helpers
wait_port() {  # wait_port PORT SECONDS
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
# PID 1 here keeps exited children as zombies for a while: `kill -0` alone lies.
alive() {
  local pid=$1 state
  [ -n "$pid" ] && state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}
pidfile_alive() { [ -s "$1" ] && alive "$(head -n1 "$1")"; }
wait_dead() {  # wait_dead PID SECONDS
  local deadline=$((SECONDS + $2))
  while alive "$1"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# ---------------------------------------------------------------- PostgreSQL
# From "/": the postgres user may not be allowed into the current folder.
pg() { (cd / && runuser -u postgres -- "$@"); }
pg_running() { pidfile_alive "$PG_DIR/data/postmaster.pid"; }

# Before the first initdb: move the files out of a folder postgres cannot enter.
place_postgres_files() {
  [ -e "$PG_DIR" ] && return 0
  if runuser -u postgres -- test -x "$STATE"; then return 0; fi
  log "the postgres user cannot enter $STATE (a parent folder is private): PostgreSQL's files go to $PG_OUTSIDE, linked from $STATE/postgres"
  rm -f "$STATE/postgres"  # a link left behind by `make clean-state` of the other side
  mkdir -p "$PG_OUTSIDE" && chmod 755 "$(dirname "$PG_OUTSIDE")" "$(dirname "$(dirname "$PG_OUTSIDE")")"
  ln -s "$PG_OUTSIDE" "$STATE/postgres"
  PG_DIR=$PG_OUTSIDE
}

start_postgres() {
  pg_running || port_free "$PG_PORT" ORDERLY_PG_PORT
  place_postgres_files
  runuser -u postgres -- test -x "$PG_DIR" 2>/dev/null || [ ! -e "$PG_DIR" ] ||
    die "the postgres user cannot enter $PG_DIR (was the checkout moved into a private folder?); remove .local/postgres to start afresh"
  if [ ! -s "$PG_DIR/data/PG_VERSION" ]; then
    log "initialising PostgreSQL in $PG_DIR"
    mkdir -p "$PG_DIR/data" && chown -R postgres: "$PG_DIR" && chmod 700 "$PG_DIR/data"
    pg "$(pg_bin initdb)" -D "$PG_DIR/data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log"
  fi
  if ! pg_running; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    pg "$(pg_bin pg_ctl)" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DIR -c max_connections=200" \
      start >/dev/null
  fi
  # Two roles: orderly_owner owns the databases and runs the migrations;
  # orderly, the role the API, workers and relay use, may only read and write
  # rows (no DDL, no TRUNCATE, not a superuser).
  local pw owner_pw
  pw=$(secret postgres-orderly)
  owner_pw=$(secret postgres-orderly-owner)
  # The passwords reach psql on its standard input (printf is a shell builtin):
  # a program's arguments are readable by every local user in /proc.
  { printf "\\set pw '%s'\n\\set owner_pw '%s'\n" "$pw" "$owner_pw"; cat <<'SQL'; } |
SELECT format('CREATE ROLE orderly_owner LOGIN PASSWORD %L', :'owner_pw')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'orderly_owner') \gexec
ALTER ROLE orderly_owner PASSWORD :'owner_pw';
SELECT format('CREATE ROLE orderly LOGIN PASSWORD %L', :'pw')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'orderly') \gexec
ALTER ROLE orderly PASSWORD :'pw' NOSUPERUSER NOCREATEDB NOCREATEROLE;
ALTER ROLE orderly SET statement_timeout = '15s';
ALTER ROLE orderly SET lock_timeout = '5s';
ALTER ROLE orderly SET idle_in_transaction_session_timeout = '60s';
SELECT 'CREATE DATABASE orderly OWNER orderly_owner'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'orderly') \gexec
SELECT 'CREATE DATABASE orderly_test OWNER orderly_owner'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'orderly_test') \gexec
SQL
    pg psql -h "$PG_DIR" -p "$PG_PORT" -U postgres -q -v ON_ERROR_STOP=1 >/dev/null
  local db
  for db in orderly orderly_test; do
    pg psql -h "$PG_DIR" -p "$PG_PORT" -U postgres -d "$db" -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
-- Installs from before the split had the app role own everything.
REASSIGN OWNED BY orderly TO orderly_owner;
SELECT format('ALTER DATABASE %I OWNER TO orderly_owner', current_database()) \gexec
ALTER SCHEMA public OWNER TO orderly_owner;
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO orderly', current_database()) \gexec
GRANT USAGE ON SCHEMA public TO orderly;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO orderly;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO orderly;
-- The audit log stays append-only for the app (migration 0005), whatever the grant above gave.
SELECT 'REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM orderly'
  WHERE to_regclass('public.audit_events') IS NOT NULL \gexec
-- Tables the migrations create later get the same rights (in any schema).
ALTER DEFAULT PRIVILEGES FOR ROLE orderly_owner GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO orderly;
ALTER DEFAULT PRIVILEGES FOR ROLE orderly_owner GRANT USAGE, SELECT ON SEQUENCES TO orderly;
SQL
  done
}

stop_postgres() {
  pg_running || return 0
  # PG_STOP_MODE=immediate simulates a crash (the fault-injection tests use it).
  log "stopping PostgreSQL (${PG_STOP_MODE:-fast})"
  pg "$(pg_bin pg_ctl)" -D "$PG_DIR/data" -m "${PG_STOP_MODE:-fast}" -w -t 60 stop >/dev/null || true
}

# ---------------------------------------------------------------- PgBouncer
# Between every app process and PostgreSQL, in transaction pooling: a server
# connection is lent for one transaction, so hundreds of client connections
# (processes × pool sizes) share a few dozen server ones. What that rules out
# (session-level prepared statements, LISTEN, session advisory locks, SET
# outside a transaction) is in docs/scaling.md; the app's timeouts come from
# the role's settings, which apply to every server connection it opens.
# PgBouncer runs as the postgres user too (it refuses root): its files sit
# beside PostgreSQL's, wherever place_postgres_files put those.
pgbouncer_dir() { echo "$(dirname "$PG_DIR")/pgbouncer"; }
pgbouncer_running() { pidfile_alive "$(pgbouncer_dir)/pgbouncer.pid"; }

write_pgbouncer_config() {
  local pw dir
  pw=$(secret postgres-orderly)
  dir=$(pgbouncer_dir)
  mkdir -p "$dir"
  chown postgres: "$dir" && chmod 700 "$dir"
  # The app's password in clear, readable by the postgres user alone: PgBouncer
  # needs it to log in to PostgreSQL with SCRAM on the client's behalf.
  (umask 077 && printf '"orderly" "%s"\n' "$pw" >"$dir/userlist.txt")
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
orderly = host=127.0.0.1 port=$PG_PORT dbname=orderly
orderly_test = host=127.0.0.1 port=$PG_PORT dbname=orderly_test

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
; Clients: every app process's pool (docs/scaling.md has the budget).
max_client_conn = 2000
; Server connections per database, far below PostgreSQL's max_connections (200).
default_pool_size = 40
reserve_pool_size = 10
reserve_pool_timeout = 1
; The app sets its timeouts on the role; psycopg's "options" is not forwarded.
ignore_startup_parameters = options,extra_float_digits
; A client waits at most this long for a server connection (PostgreSQL down):
; its statement then fails like any database error, which the app retries.
query_wait_timeout = 10
server_connect_timeout = 5
server_login_retry = 1
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
  chown postgres: "$dir"/*
}

start_pgbouncer() {
  local dir
  dir=$(pgbouncer_dir)
  write_pgbouncer_config
  if pgbouncer_running; then
    kill -HUP "$(head -n1 "$dir/pgbouncer.pid")"  # reload: the password may be new
  else
    port_free "$PGBOUNCER_PORT" ORDERLY_PGBOUNCER_PORT
    log "starting PgBouncer on 127.0.0.1:$PGBOUNCER_PORT (transaction pooling)"
    pg pgbouncer --daemon "$dir/pgbouncer.ini"
  fi
  wait_port "$PGBOUNCER_PORT" 30 || die "PgBouncer did not open port $PGBOUNCER_PORT (see $dir/pgbouncer.log)"
}

stop_pgbouncer() {
  pgbouncer_running || return 0
  local pid
  pid=$(head -n1 "$(pgbouncer_dir)/pgbouncer.pid")
  log "stopping PgBouncer"
  kill -INT "$pid" 2>/dev/null || true  # SIGINT: stop now (SIGTERM waits for every client to leave)
  wait_dead "$pid" 30 || kill -9 "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- Redis
# Two Redis servers, because what they hold must be evicted differently
# (docs/security.md, "Redis under memory pressure"):
#   state (REDIS_URL, 64 MB, noeviction): rate-limit and failed-auth
#     counters, key revocation markers, tenant counts. Never evicted; at its
#     limit writes fail, and each user of it has a documented fallback.
#   cache (CACHE_REDIS_URL, 256 MB, volatile-lru): orders. Only plain cache
#     entries carry a TTL, and volatile-lru evicts only keys with one, so a
#     tombstone is never evicted (the relay deletes old ones).
# Neither keeps a snapshot or an AOF: a restart must not bring back stale entries.
redis_dir() { if [ "$1" = cache ]; then echo "$REDIS_CACHE_DIR"; else echo "$REDIS_DIR"; fi; }
redis_port() { if [ "$1" = cache ]; then echo "$REDIS_CACHE_PORT"; else echo "$REDIS_PORT"; fi; }
redis_running() { pidfile_alive "$(redis_dir "$1")/redis.pid"; }

# The app's user may run what a cache and a rate limiter need on keys under
# orderly:*, and publish / subscribe on channels under orderly:* (a finished
# job wakes the requests waiting on it), nothing else; `default` is off; admin is for the scripts. One
# file for both servers.
write_redis_acl() {
  local app_hash admin_hash
  app_hash=$(printf %s "$(secret redis-orderly)" | sha256sum | cut -d' ' -f1)
  admin_hash=$(printf %s "$(secret redis-admin)" | sha256sum | cut -d' ' -f1)
  (
    umask 077
    printf '%s\n' \
      "user default off" \
      "user admin on #$admin_hash ~* &* +@all" \
      "user orderly on #$app_hash resetchannels ~orderly:* &orderly:* -@all +@read +@write +@scripting +@connection -@dangerous +select +publish +subscribe +unsubscribe" \
      >"$REDIS_DIR/users.acl"
  )
}
# redis_cli state|cache ARGS: the password goes in redis-cli's environment
# (REDISCLI_AUTH), which only its own user can read, not on its command line.
redis_cli() {
  local port
  port=$(redis_port "$1")
  shift
  REDISCLI_AUTH=$(secret redis-admin) redis-cli -p "$port" --user admin --no-auth-warning "$@"
}

start_redis() {  # start_redis state|cache
  local name=$1 dir port policy memory
  dir=$(redis_dir "$name")
  port=$(redis_port "$name")
  if [ "$name" = cache ]; then policy=volatile-lru memory=256mb; else policy=noeviction memory=64mb; fi
  mkdir -p "$dir"
  # (redis-cli falls back to the default user when AUTH fails: ask who we are.)
  if redis_running "$name" && [ "$(redis_cli "$name" acl whoami 2>/dev/null)" != admin ]; then
    log "restarting Redis ($name) to load its users"  # started before it had an ACL file
    local pid
    pid=$(cat "$dir/redis.pid")
    kill "$pid" 2>/dev/null || true
    wait_dead "$pid" 30 || kill -9 "$pid" 2>/dev/null || true
  fi
  if ! redis_running "$name"; then
    if [ "$name" = cache ]; then port_free "$port" ORDERLY_REDIS_CACHE_PORT; else port_free "$port" ORDERLY_REDIS_PORT; fi
    log "starting Redis ($name) on 127.0.0.1:$port"
    redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
      --save '' --appendonly no --maxmemory "$memory" --maxmemory-policy "$policy" \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
      --dir "$dir" --aclfile "$REDIS_DIR/users.acl"
  else
    redis_cli "$name" acl load >/dev/null  # a running Redis takes the current users
    # An older install ran one Redis with allkeys-lru: set the policy now.
    redis_cli "$name" config set maxmemory-policy "$policy" >/dev/null
    redis_cli "$name" config set maxmemory "$memory" >/dev/null
  fi
  wait_port "$port" 30 || die "Redis ($name) did not open port $port"
  local deadline=$((SECONDS + 30))
  until [ "$(redis_cli "$name" acl whoami 2>/dev/null)" = admin ]; do
    ((SECONDS < deadline)) || die "Redis ($name) does not answer the admin user (see $dir/redis.log)"
    sleep 0.1
  done
}

start_redises() {
  mkdir -p "$REDIS_DIR"
  write_redis_acl
  start_redis state
  start_redis cache
}

stop_redis() {  # stop_redis state|cache
  redis_running "$1" || return 0
  log "stopping Redis ($1)"
  local pid
  pid=$(cat "$(redis_dir "$1")/redis.pid")
  redis_cli "$1" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  wait_dead "$pid" 30 || kill -9 "$pid" 2>/dev/null || true
}
stop_redises() { stop_redis cache; stop_redis state; }

# ---------------------------------------------------------------- RabbitMQ
rabbit_env() {
  export HOME=$RABBIT_DIR
  export RABBITMQ_NODENAME=orderly@localhost RABBITMQ_USE_LONGNAME=false
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$AMQP_PORT
  export RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT
  export RABBITMQ_CONFIG_FILE=$RABBIT_DIR/rabbitmq.conf
  export RABBITMQ_ENABLED_PLUGINS_FILE=$RABBIT_DIR/enabled_plugins
  export RABBITMQ_MNESIA_BASE=$RABBIT_DIR/mnesia RABBITMQ_LOG_BASE=$RABBIT_DIR/log
  export RABBITMQ_PID_FILE=$RABBIT_DIR/rabbitmq.pid
  export RABBITMQ_CONF_ENV_FILE=$RABBIT_DIR/rabbitmq-env.conf
  export ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1
  # A VM that dies (rabbitmqctl's included) dumps into its working directory.
  export ERL_CRASH_DUMP=$RABBIT_DIR/log/erl_crash.dump
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_DIST_PORT_MIN=$((RABBIT_DIST_PORT + 10)) RABBITMQ_CTL_DIST_PORT_MAX=$((RABBIT_DIST_PORT + 20))
}
rabbitmqctl() { (rabbit_env && /usr/lib/rabbitmq/bin/rabbitmqctl -n orderly@localhost "$@"); }
rabbit_running() { pidfile_alive "$RABBIT_DIR/rabbitmq.pid"; }

start_rabbitmq() {
  mkdir -p "$RABBIT_DIR/log" "$RABBIT_DIR/mnesia"
  cat >"$RABBIT_DIR/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBIT_MGMT_PORT
loopback_users.guest = true
EOF
  echo '[rabbitmq_management].' >"$RABBIT_DIR/enabled_plugins"
  : >"$RABBIT_DIR/rabbitmq-env.conf"
  if ! rabbit_running; then
    port_free "$AMQP_PORT" ORDERLY_AMQP_PORT
    port_free "$RABBIT_MGMT_PORT" ORDERLY_RABBIT_MGMT_PORT
    port_free "$RABBIT_DIST_PORT" ORDERLY_RABBIT_DIST_PORT
    log "starting RabbitMQ on 127.0.0.1:$AMQP_PORT (management on $RABBIT_MGMT_PORT)"
    # Redirect the whole subshell: no process of the broker may keep the
    # caller's stdout open (a pipe reader would wait for it forever).
    (rabbit_env && setsid /usr/lib/rabbitmq/bin/rabbitmq-server &) >"$RABBIT_DIR/log/console.log" 2>&1 </dev/null
    wait_port "$AMQP_PORT" 90 || die "RabbitMQ did not open port $AMQP_PORT (see $RABBIT_DIR/log)"
  fi
  rabbitmqctl await_startup --timeout 60 >/dev/null
  # Passwords go to rabbitmqctl on its standard input, never as arguments.
  local users
  users=$(rabbitmqctl list_users --quiet)
  grep -q '^orderly\b' <<<"$users" || secret rabbitmq-orderly | rabbitmqctl add_user orderly >/dev/null
  secret rabbitmq-orderly | rabbitmqctl change_password orderly >/dev/null
  # The operators' login for the management UI (in admin.env only); the
  # built-in guest administrator is deleted.
  grep -q '^orderly_admin\b' <<<"$users" || secret rabbitmq-admin | rabbitmqctl add_user orderly_admin >/dev/null
  secret rabbitmq-admin | rabbitmqctl change_password orderly_admin >/dev/null
  rabbitmqctl set_user_tags orderly_admin administrator >/dev/null
  if grep -q '^guest\b' <<<"$users"; then rabbitmqctl delete_user guest >/dev/null; fi
  # A bounded command queue: past the limit RabbitMQ refuses (nacks) new
  # messages, and the API answers 503, instead of dropping the oldest ones.
  local limit='{"max-length":'"${COMMAND_QUEUE_MAX_LENGTH:-100000}"',"overflow":"reject-publish"}'
  for vhost in orderly orderly_test orderly_faults orderly_bench; do
    rabbitmqctl add_vhost "$vhost" >/dev/null 2>&1 || true
    rabbitmqctl set_permissions -p "$vhost" orderly '.*' '.*' '.*' >/dev/null
    rabbitmqctl set_policy -p "$vhost" --apply-to queues commands-limit '^orderly\.commands$' "$limit" >/dev/null
  done
  # The app's user: no management tag, so no HTTP API; it declares its own
  # queues (Celery needs configure rights) in its vhosts and nothing else.
  rabbitmqctl set_user_tags orderly >/dev/null
  for vhost in orderly orderly_test orderly_faults orderly_bench; do
    rabbitmqctl set_permissions -p "$vhost" orderly_admin '.*' '.*' '.*' >/dev/null
  done
}

stop_rabbitmq() {
  if rabbit_running; then
    log "stopping RabbitMQ"
    local pid
    pid=$(cat "$RABBIT_DIR/rabbitmq.pid")
    rabbitmqctl stop >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    wait_dead "$pid" 60 || kill -9 "$pid" 2>/dev/null || true
  fi
  # epmd outlives the broker.
  (rabbit_env && epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1) || true
}

# ---------------------------------------------------------------- Kafka
# A single node in KRaft mode (broker and controller in one JVM), its jars
# from Maven Central (deploy/kafka/pom.xml), SASL PLAIN on the client
# listener with generated passwords; both listeners on loopback only.
kafka_running() { pidfile_alive "$KAFKA_DIR/kafka.pid"; }

fetch_kafka_jars() {
  local stamp=$KAFKA_DIR/libs/.pom.sha256 wanted
  wanted=$(sha256sum "$ROOT/deploy/kafka/pom.xml" | cut -c1-64)
  if [ -s "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then return; fi
  log "fetching Kafka's jars from Maven Central (deploy/kafka/pom.xml)"
  rm -rf "$KAFKA_DIR/libs" && mkdir -p "$KAFKA_DIR/libs"
  (cd "$KAFKA_DIR" && mvn -q -B -f "$ROOT/deploy/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_DIR/libs" >"$KAFKA_DIR/mvn.log" 2>&1) ||
    die "Maven could not fetch Kafka (see $KAFKA_DIR/mvn.log)"
  echo "$wanted" >"$stamp"
}

write_kafka_config() {
  local broker_pw app_pw
  broker_pw=$(secret kafka-broker)
  app_pw=$(secret kafka-orderly)
  (umask 077 && cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by scripts/services.sh on each start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_PLAINTEXT
controller.listener.names=CONTROLLER
sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="$broker_pw" user_broker="$broker_pw" user_orderly="$app_pw";
log.dirs=$KAFKA_DIR/data
num.partitions=6
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# One local node on a small machine it shares: few threads (the defaults
# are sized for a dedicated broker).
num.network.threads=2
num.io.threads=2
background.threads=2
EOF
  )
}

start_kafka() {
  if [ "$KAFKA" != on ]; then log "Kafka off (ORDERLY_KAFKA=off)"; return; fi
  if kafka_running; then return; fi
  port_free "$KAFKA_PORT" ORDERLY_KAFKA_PORT
  port_free "$KAFKA_CONTROLLER_PORT" ORDERLY_KAFKA_CONTROLLER_PORT
  mkdir -p "$KAFKA_DIR/log"
  fetch_kafka_jars
  write_kafka_config
  local classpath="$KAFKA_DIR/libs/*"
  local java_opts=(-Xms256m -Xmx512m -Djava.net.preferIPv4Stack=true -Dkafka.logs.dir="$KAFKA_DIR/log"
    -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.properties")
  if [ ! -s "$KAFKA_DIR/data/meta.properties" ]; then
    log "formatting Kafka's storage"
    local cluster_id
    cluster_id=$(java -cp "$classpath" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    java "${java_opts[@]}" -cp "$classpath" kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$KAFKA_DIR/server.properties" >"$KAFKA_DIR/log/format.log" 2>&1 ||
      die "formatting Kafka's storage failed (see $KAFKA_DIR/log/format.log)"
  fi
  log "starting Kafka on 127.0.0.1:$KAFKA_PORT"
  nohup java "${java_opts[@]}" -cp "$classpath" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >"$KAFKA_DIR/log/stdout.log" 2>&1 &
  echo $! >"$KAFKA_DIR/kafka.pid"
  wait_port "$KAFKA_PORT" 90 || die "Kafka did not open port $KAFKA_PORT (see $KAFKA_DIR/log)"
}

stop_kafka() {
  if kafka_running; then
    log "stopping Kafka"
    local pid
    pid=$(cat "$KAFKA_DIR/kafka.pid")
    kill "$pid" 2>/dev/null || true
    wait_dead "$pid" 60 || kill -9 "$pid" 2>/dev/null || true
  fi
}

# ---------------------------------------------------------------- commands
status() {
  local rc=0
  if pg_running; then echo "postgres  up    127.0.0.1:$PG_PORT"; else echo "postgres  down"; rc=1; fi
  if pgbouncer_running; then echo "pgbouncer up    127.0.0.1:$PGBOUNCER_PORT (transaction pooling)"; else echo "pgbouncer down"; rc=1; fi
  if redis_running state; then echo "redis     up    127.0.0.1:$REDIS_PORT (state)"; else echo "redis     down (state)"; rc=1; fi
  if redis_running cache; then echo "redis     up    127.0.0.1:$REDIS_CACHE_PORT (cache)"; else echo "redis     down (cache)"; rc=1; fi
  if rabbit_running; then echo "rabbitmq  up    127.0.0.1:$AMQP_PORT (management http://127.0.0.1:$RABBIT_MGMT_PORT)"; else echo "rabbitmq  down"; rc=1; fi
  if [ "$KAFKA" != on ]; then echo "kafka     off"
  elif kafka_running; then echo "kafka     up    127.0.0.1:$KAFKA_PORT"; else echo "kafka     down"; rc=1; fi
  return $rc
}

case "${1:-}" in
  start)
    [ "$(id -u)" = 0 ] || die "run as root (PostgreSQL and RabbitMQ are started as their own users' files)"
    install_missing
    check_disk
    case "${2:-all}" in
      all)
        start_postgres
        start_pgbouncer
        start_redises
        start_rabbitmq
        start_kafka
        write_env_file
        log "all servers ready; settings in $ENV_FILE"
        ;;
      postgres) start_postgres ;;
      pgbouncer) start_pgbouncer ;;
      redis) start_redises ;;
      rabbitmq) start_rabbitmq ;;
      kafka) start_kafka ;;
      *) die "unknown server '${2}': postgres, pgbouncer, redis, rabbitmq or kafka" ;;
    esac
    ;;
  stop)
    case "${2:-all}" in
      all) stop_kafka; stop_rabbitmq; stop_redises; stop_pgbouncer; stop_postgres ;;
      postgres) stop_postgres ;;
      pgbouncer) stop_pgbouncer ;;
      redis) stop_redises ;;
      rabbitmq) stop_rabbitmq ;;
      kafka) stop_kafka ;;
      *) die "unknown server '${2}': postgres, pgbouncer, redis, rabbitmq or kafka" ;;
    esac
    ;;
  reset)
    stop_kafka; stop_rabbitmq; stop_redises; stop_pgbouncer; stop_postgres
    log "deleting $STATE (data, logs, generated secrets, the dev API key) and $PG_DIR"
    rm -rf "$PG_DIR" "$(pgbouncer_dir)" "${PG_OUTSIDE%/postgres}" "$STATE"
    ;;
  status) status ;;
  env) write_env_file && cat "$ENV_FILE" ;;
  rabbitmqctl) shift; rabbitmqctl "$@" ;;
  *) echo "usage: $0 start [postgres|pgbouncer|redis|rabbitmq|kafka] | stop [postgres|pgbouncer|redis|rabbitmq|kafka] | reset | status | env | rabbitmqctl ARGS..." >&2; exit 2 ;;
esac
