# The two commands a newcomer needs:
#   make run    serve the site on http://127.0.0.1:8000 (SQLite, reference data and illustrative roster loaded)
#   make test   lint, check migrations and run the whole test suite (SQLite, or PostgreSQL via DATABASE_URL)
# Both create the virtual environment and install the pinned requirements on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint data messages schema clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# `make run` is for a developer's machine: DEBUG on, the public development key, SQLite by default.
run: export DEBUG ?= 1
run: data
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

data: export DEBUG ?= 1
data: $(STAMP) messages
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_reference_data
	$(BIN)/python manage.py load_illustrative_roster

test: export DJANGO_SETTINGS_MODULE = registry.settings_test
test: $(STAMP) lint messages
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Compile the translations (.po → .mo) with Babel, so no system gettext is needed.
messages: $(STAMP)
	$(BIN)/pybabel -q compile -d locale -D django

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Regenerate the committed OpenAPI schema after changing the API (a test fails until you do).
schema: export DJANGO_SETTINGS_MODULE = registry.settings_test
schema: $(STAMP)
	$(BIN)/python manage.py spectacular --file openapi/v1.yaml --validate --fail-on-warn --lang en

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
