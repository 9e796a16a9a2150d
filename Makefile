# The two commands: `make run` and `make test`. Both set up .venv from pyproject.toml first.
PYTHON ?= python3
# Where `make run` listens: `make run PORT=8080`, or `HOST=0.0.0.0` to be reached from other machines.
HOST ?= 127.0.0.1
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Kintsugi needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/flask users ensure-admin
	$(BIN)/flask demo --offer
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

# The suite again against PostgreSQL (a database of its own, dropped afterwards).
test-postgres: $(STAMP)
	KINTSUGI_TEST_DATABASE_URL=$${KINTSUGI_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check app.py incidents integrations search tests benchmarks migrations
	$(BIN)/ruff format --check app.py incidents integrations search tests benchmarks migrations
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py

clean:
	rm -rf $(VENV) *.egg-info
