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
.PHONY: help install run serve serve-install migrate test bench fuzz fmt lint docs docs-serve lock clean distclean

help:
	@echo "make run        install, migrate, seed demo data, serve on http://$(HOST):$(PORT)/ with the worker"
	@echo "make serve      production: collectstatic, migrate, gunicorn (ASGI workers) on HOST:PORT and the worker (WORKER=0: web only)"
	@echo "make test       the suite on SQLite and on a throwaway PostgreSQL, side by side (ARGS=... for pytest)"
	@echo "make bench      figures against floors outside the product: API and admin (1k, 100k sessions), event day, attendees, solver"
	@echo "make fuzz       schemathesis, every check and phase, over the API of FUZZ_URL (default: a throwaway server)"
	@echo "make install    create $(VENV) and install the project with its dev tools, from the lock"
	@echo "make migrate    apply migrations to the local database"
	@echo "make fmt        ruff format and ruff check --fix"
	@echo "make lint       ruff check, ruff format --check and the import contracts (lint-imports)"
	@echo "make docs       build the docs site strictly into site/ (make docs-serve: live on :8001)"
	@echo "make lock       recompile requirements/*.txt from pyproject.toml (ARGS=--upgrade: newest)"
	@echo "make clean      remove caches; make distclean also removes $(VENV)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies may have changed. The lock has every package with its
# hash; the project itself runs from this checkout (manage.py), so nothing more is installed.
PIP := -m pip install --disable-pip-version-check --quiet
$(STAMP): pyproject.toml requirements/dev.txt | $(BIN)/python
	$(BIN)/python $(PIP) --require-hashes -r requirements/dev.txt
	@touch $@

install: $(STAMP)

migrate: $(STAMP)
	$(MANAGE) migrate --noinput

# Links in messages (the worker writes them, outside any request) name the server that runs.
DJANGO_SITE_URL ?= http://$(HOST):$(PORT)
RUN_MANAGE := DJANGO_SITE_URL=$(DJANGO_SITE_URL) $(MANAGE)

run: migrate
	$(RUN_MANAGE) seed_demo --base-url $(DJANGO_SITE_URL)
	@echo
	@echo "  Log in at  http://$(HOST):$(PORT)/admin/"
	@echo "  API docs   http://$(HOST):$(PORT)/api/docs/"
	@echo "  Worker     webhooks, emails (printed here), CSV imports and daily housekeeping are run by the background worker started beside the server"
	@echo
	@# The worker (webhook deliveries, CSV imports) runs beside the server and stops with it.
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(RUN_MANAGE) run_worker & worker=$$!; \
	$(RUN_MANAGE) runserver $(HOST):$(PORT)

# Production settings: DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL come from the
# environment (README, "Run in production").
PROD := DJANGO_SETTINGS_MODULE=config.settings.production
# WORKER=0: the app server alone (run `manage.py run_worker` elsewhere; README).
WORKER ?= 1
# A virtualenv of its own with the runtime lock only: no test, lint or docs tools.
SERVE_VENV ?= .venv-serve
SERVE_BIN := $(SERVE_VENV)/bin
SERVE_STAMP := $(SERVE_VENV)/.installed
$(SERVE_BIN)/python:
	$(PYTHON) -m venv $(SERVE_VENV)
$(SERVE_STAMP): pyproject.toml requirements/prod.txt | $(SERVE_BIN)/python
	$(SERVE_BIN)/python $(PIP) --require-hashes -r requirements/prod.txt
	@touch $@

serve-install: $(SERVE_STAMP)

serve: $(SERVE_STAMP)
	$(PROD) $(SERVE_BIN)/python manage.py check --deploy --fail-level WARNING
	$(PROD) $(SERVE_BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(PROD) $(SERVE_BIN)/python manage.py migrate --noinput
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	if [ "$(WORKER)" != 0 ]; then $(PROD) $(SERVE_BIN)/python manage.py run_worker & worker=$$!; fi; \
	$(PROD) HOST=$(HOST) PORT=$(PORT) $(SERVE_BIN)/gunicorn -c config/gunicorn.conf.py

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
	$(BIN)/lint-imports

# A long schemathesis run over the served schema (scripts/fuzz.sh says its settings).
fuzz: migrate
	BIN=$(BIN) scripts/fuzz.sh

# The OpenAPI document in the site is written from the code at each build.
docs: $(STAMP)
	$(MANAGE) spectacular --file docs/integrators/openapi.yaml
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	@echo "docs built in site/ (open site/index.html)"

docs-serve: $(STAMP)
	$(MANAGE) spectacular --file docs/integrators/openapi.yaml
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

# The lock: hashes of every package, for this Python. After a change to the dependencies in
# pyproject.toml run `make lock`; to move every package to its newest allowed release,
# `make lock ARGS=--upgrade` (or ARGS="--upgrade-package django").
COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links $(ARGS)
lock: $(BIN)/python
	@$(BIN)/python -m pip show pip-tools >/dev/null 2>&1 || $(BIN)/python $(PIP) pip-tools
	$(COMPILE) --output-file requirements/prod.txt pyproject.toml
	$(COMPILE) --extra dev --output-file requirements/dev.txt pyproject.toml

clean:
	rm -rf .pytest_cache .ruff_cache *.egg-info test-artifacts site build
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(SERVE_VENV)
