# The front door. `make run` and `make test` each do all of their own set-up.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test unit lint fmt bench lock services-start services-stop services-status reset up down

# A virtualenv with exactly the locked requirements (runtime and development),
# every package checked against its hash; rebuilt when they change.
$(BIN)/.installed: requirements.txt requirements-dev.txt
	@# Debian's python3 creates no virtualenv without python3-venv (ensurepip).
	@python3 -c 'import ensurepip, venv' 2>/dev/null || { echo '[make] installing python3 and python3-venv with apt-get'; apt-get update -qq && apt-get install -y -qq python3 python3-venv; }
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	touch $@

# Regenerate the lock files from requirements.in / requirements-dev.in with
# pip-tools (in a throwaway virtualenv): versions already locked stay unless
# you pass PIP_COMPILE_ARGS=--upgrade (or --upgrade-package NAME).
lock:  ## Re-lock requirements*.txt (exact versions and hashes) with pip-compile
	python3 -m venv .local/pip-tools && .local/pip-tools/bin/pip install --quiet pip-tools==7.6.2
	for name in requirements requirements-dev; do \
	  .local/pip-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	    --no-emit-index-url --no-emit-find-links $(PIP_COMPILE_ARGS) -o $$name.txt $$name.in || exit 1; \
	done

run: $(BIN)/.installed  ## Start servers, migrate, then API, worker and Flower (Ctrl-C stops all)
	scripts/run.sh

test: $(BIN)/.installed  ## Lint, then the whole test suite against real servers
	scripts/test.sh

# No server is needed, nor started: the settings point nowhere, so a test
# that tried to connect would fail rather than use the local stack.
UNIT_ENV := ORDERLY_TESTING=1 TEST_DATABASE_URL=postgresql+psycopg://unit@127.0.0.1:9/none \
	TEST_REDIS_URL=redis://127.0.0.1:9/0 TEST_BROKER_URL=amqp://unit@127.0.0.1:9//

unit: $(BIN)/.installed  ## The tests that need no server (use cases on fakes, parsing, layout): seconds
	$(UNIT_ENV) $(BIN)/pytest -q tests/unit

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

services-start:
	scripts/services.sh start
services-stop:
	scripts/services.sh stop
services-status:
	scripts/services.sh status
# docker-compose (machines with a Docker engine): .env is made once from
# .env.example with generated passwords.
up:  ## docker compose: build and start everything in the background
	python3 deploy/make_env.py .env.example .env
	docker compose up --detach --build
	@echo "docker compose ps shows each service's health; docker compose logs -f follows them"
down:  ## docker compose: stop and remove the containers (volumes kept)
	docker compose down

reset:  ## Stop the local servers and delete their data, logs and generated secrets
	scripts/services.sh reset

# The benchmark's own extras (chart, profiler), on top of the app's pins.
$(BIN)/.bench-installed: bench/requirements.txt $(BIN)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench: $(BIN)/.bench-installed  ## Orderly beside its floors on this machine (BENCH_ARGS="--repeats 3 --profile ...")
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	scripts/services.sh start
	(set -a && . .local/admin.env && ORDERLY_TESTING=1 $(BIN)/alembic upgrade head)  # the test database's schema
	ORDERLY_TESTING=1 $(BIN)/python -m bench.run $(BENCH_ARGS)
