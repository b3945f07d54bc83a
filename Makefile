# The front door. `make run` and `make test` each do all of their own set-up.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint fmt bench services-start services-stop services-status clean-state

# A virtualenv with exactly the pinned requirements; rebuilt when they change.
$(BIN)/.installed: requirements.txt
	@command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 python3-venv; }
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: $(BIN)/.installed  ## Start servers, migrate, then API, worker and Flower (Ctrl-C stops all)
	scripts/run.sh

test: $(BIN)/.installed  ## Lint, then the whole test suite against real servers
	scripts/test.sh

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

bench: $(BIN)/.installed  ## Throughput and latency of the pipeline on this machine
	scripts/services.sh start
	ORDERLY_TESTING=1 $(BIN)/python -m bench.run $(BENCH_ARGS)
