#!/usr/bin/env bash
# `make run`: the whole system on this machine. Ctrl-C stops everything.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export VENV_BIN=$ROOT/.venv/bin
export API_PORT=${API_PORT:-8000} FLOWER_PORT=${FLOWER_PORT:-5555}

# The ports of our own processes: said plainly now rather than as a process
# that supervisord restarts until it gives up.
for entry in "API_PORT:$API_PORT" "FLOWER_PORT:$FLOWER_PORT" "API_METRICS_PORT:${API_METRICS_PORT:-9101}" \
  "WORKER_METRICS_PORT:${WORKER_METRICS_PORT:-9102}" "RELAY_METRICS_PORT:${RELAY_METRICS_PORT:-9103}" \
  "WEBHOOKS_METRICS_PORT:${WEBHOOKS_METRICS_PORT:-9104}"; do
  name=${entry%%:*} port=${entry#*:}
  if [ "$port" != 0 ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "[run] port $port on 127.0.0.1 is in use by another program (ss -ltnp 'sport = :$port' shows which); stop it or set $name=..." >&2
    exit 1
  fi
done

scripts/services.sh start
trap 'echo; scripts/services.sh stop' EXIT

# Migrations run as the schema owner; the processes below get only the app's roles.
(set -a && . .local/admin.env && set +a && "$VENV_BIN/alembic" upgrade head)
# The dev tenant's key is kept (git-ignored, owner-only) and reused while it is
# valid; revoke it with `apikey revoke` and the next start makes a new one.
key_file=.local/dev-api-key
if [[ -s $key_file ]] && "$VENV_BIN/flask" --app web apikey verify <"$key_file" >/dev/null 2>&1; then
  key=$(<"$key_file")
else
  key=$("$VENV_BIN/flask" --app web apikey create --tenant dev 2>/dev/null | tail -n 1)
  (umask 077 && printf '%s\n' "$key" >"$key_file")
fi
flower_auth=$(grep '^FLOWER_BASIC_AUTH=' .local/flower.env | cut -d= -f2-)

cat <<INFO

  Orderly is starting.
    API      http://127.0.0.1:$API_PORT/api/v1     (health: /healthz, /readyz)
    API docs http://127.0.0.1:$API_PORT/api/v1/docs
    Flower   http://127.0.0.1:$FLOWER_PORT          (user:password  $flower_auth)
    RabbitMQ http://127.0.0.1:${ORDERLY_RABBIT_MGMT_PORT:-55673}  (management UI: orderly_admin, password in .local/admin.env)

  API key for tenant 'dev' (kept in $key_file and reused on the next start):
    $key

  Try:
    curl -i -X POST http://127.0.0.1:$API_PORT/api/v1/orders \\
      -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \\
      -d '{"currency":"USD","items":[{"sku":"A-1","quantity":2,"unit_price_cents":1250}]}'

  A process that dies is started again (see docs/operations.md).
  Ctrl-C stops the API, the worker, the relay, the webhook sender, the stream publisher, Flower and the servers.

INFO

# supervisord runs the Procfile's processes, restarts one that dies (backing
# off if it keeps dying) and stops them all on Ctrl-C. Their settings come
# from the environment, never from a command line or the generated file.
(umask 077 && "$VENV_BIN/python" scripts/supervisord_conf.py Procfile .local >.local/supervisord.conf)
set -a && . .local/orderly.env && set +a
"$VENV_BIN/supervisord" --configuration .local/supervisord.conf
