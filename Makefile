# Breeze developer commands. `make run` starts everything; `make test` runs every quality gate.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PYTHONUNBUFFERED := 1

.PHONY: run test install services migrate demo lint format typecheck migrations-check pytest procs

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint requirements.lock --editable '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

services:
	@bash scripts/ensure_services.sh

migrate: install services
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py setup_demo

# BREEZE_PROVIDER_SANDBOX=1 adds the Procfile's `sandbox` process: local Twilio, Plivo, Exotel
# and Daily APIs that the adapters dial through (docs/providers.md, "Provider sandbox").
PROCESSES := web worker beat voice demo
ifneq ($(filter 1 true yes on TRUE True YES ON,$(BREEZE_PROVIDER_SANDBOX)),)
PROCESSES += sandbox
endif

## Start the whole stack: Daphne (HTTP + websockets), Celery worker, Celery beat, voice pool.
run: demo
	@echo "Starting web, worker, beat and voice (Ctrl-C stops them all)."
	$(BIN)/honcho start --procfile Procfile $(PROCESSES)

## Every quality gate: lint, format, types, migrations, tests.
test: install services lint typecheck migrations-check pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck:
	$(BIN)/mypy .

migrations-check:
	DJANGO_SETTINGS_MODULE=breeze.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

pytest:
	$(BIN)/pytest $(PYTEST_ARGS)
