# The two commands a newcomer needs:
#   make run    serve the site on http://127.0.0.1:8000 (SQLite, reference data and illustrative roster loaded;
#               the roster only into a database that has none)
#   make test   lint, type-check, check migrations and run the whole test suite (SQLite, or PostgreSQL via DATABASE_URL)
# Both create the virtual environment and install the pinned requirements on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Running needs only requirements.txt; testing adds requirements-dev.txt. Both are pinned with
# hashes (pip refuses a file whose hash differs), compiled from the .in files by `make requirements`.
STAMP := $(VENV)/.requirements-installed
DEV_STAMP := $(VENV)/.dev-requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

.PHONY: run test lint typecheck data messages browser gettext schema requirements clean bench-import bench-preview bench-package bench-feed bench wrk

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	touch $(DEV_STAMP)

# `make run` is for a developer's machine: DEBUG on, the public development key, SQLite by default.
run: export DEBUG ?= 1
run: data
	$(BIN)/python manage.py build_data_package
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

data: export DEBUG ?= 1
data: $(STAMP) messages
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_reference_data
	$(BIN)/python manage.py load_illustrative_roster --if-absent

test: export DJANGO_SETTINGS_MODULE = registry.settings_test
test: $(DEV_STAMP) lint typecheck messages browser gettext
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium (never a downloaded browser). As root on Debian it is
# installed here; anywhere else this stops with the command to run.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk \
	      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk; }; \
	  else \
	    echo "The browser tests need Debian's Chromium at /usr/bin/chromium: sudo apt-get install chromium fonts-noto-cjk" >&2; exit 1; \
	  fi; \
	fi

# The catalogue test runs Django's makemessages, which needs GNU gettext's xgettext. As root on
# Debian it is installed here; anywhere else this stops with the command to run.
gettext:
	@if ! command -v xgettext >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext \
	      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext; }; \
	  else \
	    echo "The catalogue test needs GNU gettext: sudo apt-get install gettext" >&2; exit 1; \
	  fi; \
	fi

# Compile the translations (.po → .mo) with Babel, so no system gettext is needed.
messages: $(STAMP)
	$(BIN)/pybabel -q compile -d locale -D "django djangojs"

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy over counties/ and registry/ with the Django and DRF plugins (pyproject.toml's [tool.mypy]).
typecheck: $(DEV_STAMP)
	$(BIN)/mypy

# Regenerate the committed OpenAPI schema after changing the API (a test fails until you do).
schema: export DJANGO_SETTINGS_MODULE = registry.settings_test
schema: $(DEV_STAMP)
	$(BIN)/python manage.py spectacular --file openapi/v1.yaml --validate --fail-on-warn --lang en

# Recompile the pinned, hashed requirements after editing requirements.in or requirements-dev.in
# (existing pins are kept; `make requirements UPGRADE=--upgrade` moves them to the latest releases).
requirements: $(DEV_STAMP)
	$(PIP_COMPILE) $(UPGRADE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) $(UPGRADE) --output-file requirements-dev.txt requirements-dev.in

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache

# Time a 20,000-row designation and funding import (validate, then commit) and print peak memory.
# Uses a throwaway SQLite database unless DATABASE_URL names one it may fill.
bench-import: $(STAMP)
	$(BIN)/python bench/import_bench.py

# Time the admin's preview and confirmation of a file at the admin's limits (ADMIN_MAX_ROWS rows,
# IMPORT_MAX_BYTES) that rewrites every row's long source. Same database rule as bench-import.
bench-preview: $(STAMP)
	$(BIN)/python bench/preview_bench.py

# Time the data package's build (`build_data_package`) at the reference data with the illustrative
# roster (1x) and at ten times its records (10x), each in a fresh process, and print its peak
# memory; appends to bench/results/latest.md. Same database rule as bench-import.
bench-package: $(STAMP)
	$(BIN)/python bench/package_bench.py

# The read benchmark (bench/bench.py; the README says what it measures): the site under gunicorn
# with production settings beside a bare WSGI app serving the same bytes and Datasette serving
# the same SQLite file, measured with wrk; then cold timings on the reference data and on 10x.
# SQLite always; also PostgreSQL when DATABASE_URL names a scratch database (it is emptied).
# Writes bench/results/latest.md. Datasette goes into its own environment, never the app's.
DATASETTE_STAMP := bench/.venv-datasette/.installed

bench: $(STAMP) messages wrk $(DATASETTE_STAMP)
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/feed_bench.py
	$(BIN)/python bench/package_bench.py

# The change feed's page, cold, at 1x and after a million changes (bench/feed_bench.py); writes
# bench/results/feed-sqlite.md (or feed-postgresql.md). Same database rule as bench-import.
bench-feed: $(STAMP)
	$(BIN)/python bench/feed_bench.py

$(DATASETTE_STAMP): bench/requirements-datasette.txt
	test -x bench/.venv-datasette/bin/python || $(PYTHON) -m venv bench/.venv-datasette
	bench/.venv-datasette/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r bench/requirements-datasette.txt
	touch $(DATASETTE_STAMP)

# The load generator is Debian's wrk. As root on Debian it is installed here; anywhere else this
# stops with the command to run.
wrk:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk \
	      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }; \
	  else \
	    echo "The benchmark needs wrk: sudo apt-get install wrk" >&2; exit 1; \
	  fi; \
	fi
