# Two commands do everything on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONTENT ?= content
DB ?= newsgraph.db

.PHONY: serve test check lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(CONTENT): | $(STAMP)
	$(BIN)/newsgraph demo-content $(CONTENT) --count 500 --seed 1

serve: $(STAMP) | $(CONTENT)
	$(BIN)/newsgraph serve --content $(CONTENT) --db $(DB)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck

test: check
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.query

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
