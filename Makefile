# Two commands do everything on a fresh machine:
#   make run    the dashboard on http://127.0.0.1:8000 (SQLite + embedded broker + simulator by default)
#   make test   the whole test suite (needs PostgreSQL and Redis on 127.0.0.1, see README.md)

# The first Python >= 3.12 found; Django 6 needs it.
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/letta_dashboard
TEST_BROKER_URL ?= redis://127.0.0.1:6379/14

.PHONY: run test lint bench bench-sync check-python browser-deps clean

check-python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Python 3.12 or newer is needed (Django 6). Found: $$(python3 --version 2>&1)."; \
	  echo "Install it, e.g. 'apt-get install python3.12 python3.12-venv' or 'pyenv install 3.13', then run make again."; \
	  exit 1; fi

$(STAMP): pyproject.toml | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py serve

# Chromium for the browser tests comes from Debian (Playwright cannot download browsers here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

test: $(STAMP) browser-deps
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var

# Diff engine speed on two ~1 MB requests against json.dumps + difflib in the same run (no database).
# bench-sync (PostgreSQL + simulator) stays a separate target.
bench: $(STAMP)
	$(BIN)/python -m tests.bench.bench_diff $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_compare_page $(BENCH_ARGS)

# Sync throughput and memory against baselines measured in the same run (PostgreSQL, simulator).
bench-sync: $(STAMP)
	$(BIN)/python -m tests.bench.bench_sync $(BENCH_ARGS)
