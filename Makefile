# CityDiplo: `make run` serves the catalogue, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEV := DEBUG=1
PORT ?= 8000

.PHONY: install run serve migrate load test test-fast lint format check-migrations import-wikipedia bench backup restore clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet ".[dev]"
	touch $@

# Test-only JavaScript (axe-core for the accessibility audit), pinned in package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

install: $(VENV)/.installed

migrate: install
	$(DEV) $(BIN)/python manage.py migrate --noinput

load: migrate
	$(DEV) $(BIN)/python manage.py load_catalogue

run: load
	$(DEV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install node_modules/.installed
	$(DEV) $(BIN)/python -m pytest -n 2

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-migrations: install
	$(DEV) $(BIN)/python manage.py makemigrations --check --dry-run

WIKIPEDIA_CSV ?= ../shared/data/twin_cities_wikipedia.csv

import-wikipedia: migrate
	$(DEV) $(BIN)/python manage.py import_twinnings $(WIKIPEDIA_CSV)

# CityDiplo against Datasette on the imported world (needs wrk: apt-get install wrk).
bench: install
	$(BIN)/python -m pip install --quiet ".[bench]"
	$(BIN)/python bench/serve_and_measure.py

# Backups: the whole database (catalogue, users, groups, history) as compressed JSON.
# Production: run with the same DATABASE_URL/SECRET_KEY environment as the app.
BACKUP ?= backups/citydiplo-$(shell date -u +%Y%m%dT%H%M%SZ).json.gz
OPS_ENV := DEBUG=$${DEBUG:-1}

backup: install
	mkdir -p $(dir $(BACKUP))
	$(OPS_ENV) $(BIN)/python manage.py backup $(BACKUP)

restore: install
	@test -n "$(FILE)" || (echo "usage: make restore FILE=backups/citydiplo-....json.gz" && exit 2)
	$(OPS_ENV) $(BIN)/python manage.py migrate --noinput
	$(OPS_ENV) $(BIN)/python manage.py restore $(FILE)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
