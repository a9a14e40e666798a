# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run test lint bench install install-test browser postgres migrations translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Serve the portal at http://127.0.0.1:8000 with demo data and the scheduler running.
run: install
	$(BIN)/portal demo
	$(BIN)/portal serve

## Install what the tests need (Python packages, Debian's Chromium) and run them all.
test: install-test browser postgres
	$(BIN)/ruff check portal tests
	$(BIN)/mypy
	PORTAL_TEST_POSTGRES_URL=$$(scripts/postgres-url $(PG_URL)) $(BIN)/pytest

## Benchmarks against real server processes on 127.0.0.1 (the scale sections use PostgreSQL too).
bench: install-test postgres
	@command -v wrk >/dev/null || { \
	  echo "installing Debian's wrk for the benchmarks"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	PORTAL_BENCH_SCALE_POSTGRES_URL=$${PORTAL_BENCH_SCALE_POSTGRES_URL:-$(PG_URL)} $(BIN)/python -m tests.bench.run

browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

postgres:
	@scripts/postgres-url $(PG_URL) >/dev/null || scripts/start-postgres

## After changing models: write the next migration.
migrations: install
	PORTAL_DATABASE_URL=sqlite:///tmp/portal-makemigrations.sqlite3 $(BIN)/tortoise -c portal.tortoise_cli.TORTOISE_ORM makemigrations

## After changing interface text: refresh the catalogs, then translate the new entries.
translations: install-test
	$(BIN)/pybabel extract -F babel.cfg -o portal/locale/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i portal/locale/messages.pot -d portal/locale --no-fuzzy-matching

clean:
	rm -rf $(VENV) var
