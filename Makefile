# Two commands do everything on a fresh machine:
#   make run    the dashboard on http://127.0.0.1:8000 (SQLite + embedded broker + simulator by default)
#   make test   the whole test suite (needs PostgreSQL and Redis on 127.0.0.1, see README.md)

# The first Python >= 3.12 found; Django 6 needs it.
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs what the product needs; `make test` and `make lint` add the test tools.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/letta_dashboard
TEST_BROKER_URL ?= redis://127.0.0.1:6379/14
# Test processes (pytest-xdist). Each has its own PostgreSQL database (test_<name>_gw0, _gw1...) and
# Redis database (TEST_BROKER_URL's, then the next ones: tests/parallel_workers.py). 0: one process.
TEST_WORKERS ?= 2
TEST_DIST ?= worksteal

.PHONY: run test lint bench bench-sync check-python browser-deps clean

check-python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Python 3.12 or newer is needed (Django 6). Found: $$(python3 --version 2>&1)."; \
	  echo "Install it, e.g. 'apt-get install python3.12 python3.12-venv' or 'pyenv install 3.13', then run make again."; \
	  exit 1; fi

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(TEST_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/python manage.py serve

# Chromium for the browser tests comes from Debian (Playwright cannot download browsers here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi; }

test: $(TEST_STAMP) browser-deps
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist $(TEST_DIST) $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) var

# Timings live here, never in tests (docs/benchmarks.md has today's figures):
# - diff engine and compare page on two ~1 MB requests, against json.dumps + difflib (no database);
# - a review queue's agreement over 10,000 reviews, against reading its rows and against
#   krippendorff.alpha on a reviewers x steps matrix (its own PostgreSQL database, left as it was);
# - every page over real HTTP (gunicorn) against its own bare SQL, cold and warm, bytes sent, EXPLAIN
#   with a flag for a Seq Scan, on a database seeded with `manage.py seed_steps --count 1000000`:
#     make bench BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/letta_bench_1m
#     make bench BENCH_DATABASE_URL=... BENCH_ARGS="--only list,search --repeat 3 --json bench.json"
#   Without BENCH_DATABASE_URL the page bench says how to run it and is skipped.
# - capacity: 10, 20, then 50 signed-in reviewers each doing about one thing a second for 90 s (lists,
#   step pages, compares, the overview, votes) against gunicorn as `make run` serves it, p50/p95/p99
#   per kind against the goals, a baseline in the same run and the web's CPU per request
#   (BENCH_ARGS="--reviewers 20 --seconds 30" for a shorter one, "--capacity-json out.json" keeps the
#   figures). It clears the votes it casts. Same BENCH_DATABASE_URL, skipped without it.
# - then the sync against the simulator at a tenth of BENCH_SYNC_STEPS and at BENCH_SYNC_STEPS (100,000
#   by default: about 45 minutes here; BENCH_SYNC_STEPS=0 skips it, `make bench-sync` runs it alone).
BENCH_SYNC_STEPS ?= 100000
bench: $(TEST_STAMP)
	$(BIN)/python -m tests.bench.bench_diff $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_compare_page $(BENCH_ARGS)
	$(BIN)/python -m tests.bench.bench_agreement $(BENCH_ARGS)
	BENCH_DATABASE_URL="$(BENCH_DATABASE_URL)" $(BIN)/python -m tests.bench.bench_pages $(BENCH_ARGS)
	BENCH_DATABASE_URL="$(BENCH_DATABASE_URL)" $(BIN)/python -m tests.bench.bench_capacity $(BENCH_ARGS)
	BENCH_DATABASE_URL="$(BENCH_DATABASE_URL)" $(BIN)/python -m tests.bench.bench_review
	BENCH_DATABASE_URL="$(BENCH_DATABASE_URL)" $(BIN)/python -m tests.bench.bench_review_keyboard
	@if [ "$(BENCH_SYNC_STEPS)" != 0 ]; then $(BIN)/python -m tests.bench.bench_sync --steps $(BENCH_SYNC_STEPS); fi

# Sync throughput against the simulator's raw serving rate, and memory, at a tenth of --steps and at
# --steps (PostgreSQL, simulator): one process, then the scale-out case (--workers 2: two sync worker
# processes as docker-compose runs them, sharing PostgreSQL and Redis; CELERY_BROKER_URL must name a
# Redis), with "fetched exactly once" from the simulator's tally and the mirror checked for exactness.
# Quick by default (500 and 5000 steps); the issue's figures:
#   make bench-sync BENCH_ARGS="--steps 100000"
#   make bench-sync BENCH_ARGS="--steps 10000 --only-large --workers 1,2"
# It empties its database: BENCH_SYNC_DATABASE_URL (default letta_dashboard_bench), never the seeded one.
bench-sync: $(TEST_STAMP)
	$(BIN)/python -m tests.bench.bench_sync $(BENCH_ARGS)
