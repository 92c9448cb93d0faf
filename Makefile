# Everyday commands; `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=
SETTINGS ?= config.settings.local

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Only manage.py gets the local settings: pytest must keep the test settings from pyproject.
MANAGE := DJANGO_SETTINGS_MODULE=$(SETTINGS) $(BIN)/python manage.py

.DEFAULT_GOAL := help
.PHONY: help install run serve migrate test bench fmt lint clean distclean

help:
	@echo "make run        install, migrate, seed demo data, serve on http://$(HOST):$(PORT)/ with the worker"
	@echo "make serve      production: collectstatic, migrate, gunicorn on HOST:PORT and the worker (WORKER=0: web only)"
	@echo "make test       the suite on SQLite, then on a throwaway PostgreSQL (ARGS=... for pytest)"
	@echo "make bench      figures: the API and admin under gunicorn on a throwaway PostgreSQL, 1k and 100k sessions"
	@echo "make install    create $(VENV) and install the project with its dev tools"
	@echo "make migrate    apply migrations to the local database"
	@echo "make fmt        ruff format and ruff check --fix"
	@echo "make lint       ruff check and ruff format --check"
	@echo "make clean      remove caches; make distclean also removes $(VENV)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies may have changed.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e ".[dev]"
	@touch $@

install: $(STAMP)

migrate: $(STAMP)
	$(MANAGE) migrate --noinput

run: migrate
	$(MANAGE) seed_demo --base-url http://$(HOST):$(PORT)
	@echo
	@echo "  Log in at  http://$(HOST):$(PORT)/admin/"
	@echo "  API docs   http://$(HOST):$(PORT)/api/docs/"
	@echo "  Worker     webhooks, CSV imports and daily housekeeping are run by the background worker started beside the server"
	@echo
	@# The worker (webhook deliveries, CSV imports) runs beside the server and stops with it.
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(MANAGE) run_worker & worker=$$!; \
	$(MANAGE) runserver $(HOST):$(PORT)

# Production settings: DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL come from the
# environment (README, "Run in production").
PROD := DJANGO_SETTINGS_MODULE=config.settings.production
# WORKER=0: the app server alone (run `manage.py run_worker` elsewhere; README).
WORKER ?= 1
serve: $(STAMP)
	$(PROD) $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(PROD) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(PROD) $(BIN)/python manage.py migrate --noinput
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	if [ "$(WORKER)" != 0 ]; then $(PROD) $(BIN)/python manage.py run_worker & worker=$$!; fi; \
	$(PROD) HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c config/gunicorn.conf.py

test: $(STAMP)
	$(BIN)/python scripts/run_tests.py $(ARGS)

# Figures, not assertions (scripts/bench.py --help); ARGS=... passes options, e.g. --sizes 1000.
bench: $(STAMP)
	$(BIN)/python scripts/bench.py $(ARGS)

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf .pytest_cache .ruff_cache *.egg-info test-artifacts
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
