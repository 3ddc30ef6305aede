# One entry point for people and CI. `make run` and `make test` do all set-up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Test services (real PostgreSQL and Redis); override from the environment.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/openmrcs
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_WORKERS ?= auto
TEST_ENV := DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL)

.PHONY: help run test lint fmt typecheck migrate seed worker beat install install-dev check-services deploy-check security clean bench bench-data

help:
	@echo "make run    - set up .venv, migrate, seed demo data and serve on $(HOST):$(PORT)"
	@echo "make test   - lint, types, migrations check, deploy check and the full test suite"
	@echo "make security - bandit over apps and config, pip-audit over the runtime pins"
	@echo "make lint | fmt | migrate | seed | worker | beat"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-base: $(PY) requirements/base.txt
	$(BIN)/pip install --quiet -r requirements/base.txt
	@touch $@

$(VENV)/.installed-dev: $(PY) requirements/base.txt requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	@touch $@ $(VENV)/.installed-base

install: $(VENV)/.installed-base
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

seed: install
	$(PY) manage.py seed

run: migrate seed
	$(PY) manage.py runserver $(HOST):$(PORT)

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

check-services: install-dev
	@$(TEST_ENV) $(PY) scripts/check_services.py

deploy-check: install-dev
	@DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=deploy-check-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
		DJANGO_ALLOWED_HOSTS=openmrcs.example.com $(PY) manage.py check --deploy --fail-level WARNING

# Static security analysis and known-vulnerable dependencies (docs: scripts/pip_audit_gate.py).
# Bandit's notes about nosec markers on multi-line statements are informational; they are dropped.
security: install-dev
	$(BIN)/bandit -q -r apps config -c pyproject.toml 2> >(grep -v "nosec encountered" >&2)
	$(PY) scripts/pip_audit_gate.py -r requirements/base.txt

test: lint check-services deploy-check security
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Benchmark (docs/benchmark.md): its own database and Redis db; BENCH_ARGS passes options.
BENCH_TIER ?= S
BENCH_SEED ?= 42
bench-data: install
	$(PY) scripts/bench/run.py data --tier $(BENCH_TIER) --seed $(BENCH_SEED)

bench: install
	$(PY) scripts/bench/run.py run --seed $(BENCH_SEED) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache staticfiles
