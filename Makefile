# Two commands do everything on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONTENT ?= content
DB ?= newsgraph.db

.PHONY: serve test check lint typecheck layers bench clean browser http-audit clients

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(CONTENT): | $(STAMP)
	$(BIN)/newsgraph demo-content $(CONTENT) --count 500 --seed 1 --entries 6

serve: $(STAMP) | $(CONTENT)
	$(BIN)/newsgraph serve --content $(CONTENT) --db $(DB)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The layering contracts of pyproject.toml's [tool.importlinter].
layers: $(STAMP)
	$(BIN)/lint-imports

check: lint typecheck layers

test: check browser http-audit clients
	$(BIN)/pytest

# The demo page's browser test needs Debian's chromium + chromium-driver. Installed when missing
# and we can (root with apt-get); otherwise that one test is skipped, with this notice. In CI
# (CI=true) a missing browser is an error, never a skip.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver \
			&& exit 0; \
	fi; \
	if [ "$$CI" = true ]; then \
		echo "ERROR: chromium/chromedriver missing and cannot be installed (CI=true)" >&2; exit 1; \
	fi; \
	echo "NOTICE: chromium/chromedriver missing and cannot be installed here (needs root and"; \
	echo "NOTICE: apt-get); tests/test_demo_page.py will be SKIPPED."

# Node projects under tests/ (tests/test_http_audit.py runs graphql-http's own audits;
# tests/test_clients.py runs Apollo Client and urql): `npm ci` into each from its committed lock
# file. Node and npm come from Debian when missing and we are root with apt-get; otherwise those
# tests are skipped (an error in CI).
http-audit: tests/http_audit/node_modules/.package-lock.json
clients: tests/clients/node_modules/.package-lock.json

tests/%/node_modules/.package-lock.json: tests/%/package-lock.json
	@if ! command -v npm >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm; \
	fi; \
	if command -v npm >/dev/null 2>&1; then \
		cd tests/$* && npm ci --no-audit --no-fund --loglevel=error; \
	elif [ "$$CI" = true ]; then \
		echo "ERROR: npm missing and cannot be installed (CI=true)" >&2; exit 1; \
	else \
		echo "NOTICE: node/npm missing; the tests using tests/$* will be SKIPPED."; \
	fi

# bench.spike drives its load with wrk (Debian's package): installed when missing and we can.
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; } || true
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.query
	$(BIN)/python -m bench.live
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.spike
	$(BIN)/python -m bench.replicas
	$(BIN)/python -m bench.fanout

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
