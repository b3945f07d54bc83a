#!/usr/bin/env bash
# `make test`: lint, start the servers, reset the test database, run pytest.
# The tests start their own API (gunicorn) and Celery worker against the
# orderly_test database, Redis db 1 and the orderly_test vhost.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=$ROOT/.venv/bin

"$BIN/ruff" check .
"$BIN/ruff" format --check .
"$BIN/mypy"

scripts/services.sh start
# A headless browser and its driver for the docs page and Flower tests
# (test_docs_page.py, test_flower_browser.py), wrk for the benchmark's smoke
# test, strace for test_command_lines.py, and Prometheus (prometheus,
# promtool) for test_dashboards.py, without its recommended extras.
missing=() missing_bare=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v wrk >/dev/null || missing+=(wrk)
command -v strace >/dev/null || missing+=(strace)
command -v promtool >/dev/null || missing_bare+=(prometheus)
if ((${#missing[@]} + ${#missing_bare[@]})); then
  echo "[test] installing ${missing[*]} ${missing_bare[*]} with apt-get" >&2
  apt-get update -qq
  if ((${#missing[@]})); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if ((${#missing_bare[@]})); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_bare[@]}" >/dev/null
  fi
fi
# CI leaves nothing behind; locally the servers stay up for the next run.
if [ "${CI:-}" = true ]; then trap 'scripts/services.sh stop' EXIT; fi

# config.py reads .local/orderly.env; ORDERLY_TESTING selects its TEST_* URLs.
# The schema owner's and Redis admin's credentials (.local/admin.env) are for
# the set-up below and for tests that pause or flush servers.
export ORDERLY_TESTING=1
set -a && . .local/admin.env && set +a

# A fresh schema each run, built by the migrations themselves (as the schema
# owner; the app's role gets its rights from the default privileges).
"$BIN/python" - <<'PY'
import sqlalchemy as sa
import config
engine = sa.create_engine(config.current().migration_database_url)
with engine.begin() as conn:
    conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public; GRANT USAGE ON SCHEMA public TO orderly"))
PY
"$BIN/alembic" upgrade head
"$BIN/python" -c "import os, redis; [redis.Redis.from_url(os.environ[n], db=1).flushdb() for n in ('REDIS_ADMIN_URL', 'REDIS_CACHE_ADMIN_URL')]"

"$BIN/pytest" "$@"
