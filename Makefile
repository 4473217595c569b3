# Everything a fresh machine needs is installed by these targets; each one is idempotent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NODE_STAMP := tests/oidc_server/node_modules/.package-lock.json

.PHONY: demo test lint sandbox bench install clean browser-test

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test]'
	touch $(STAMP)

$(NODE_STAMP): tests/oidc_server/package-lock.json
	cd tests/oidc_server && npm ci --no-audit --no-fund --loglevel=error

## The main job: start the sandbox, run an example DAG against it with a real Airflow, show the data.
demo: $(STAMP)
	$(BIN)/python scripts/demo.py

## Start the sandbox in the foreground (Ctrl-C to stop).
sandbox: $(STAMP)
	$(BIN)/rh-sandbox

## The whole test suite (unit, OIDC provider, sandbox, real Airflow, S3 on moto).
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest

## The operator's pull against a hand-written HTTP loop (speed and memory).
bench: $(STAMP)
	$(BIN)/python benchmarks/pull_vs_loop.py

## The connection form in a real browser: Debian's chromium (apt), a real api-server, the sandbox.
browser-test: $(STAMP)
	bash scripts/ci/install-browser.sh
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,browser]'
	$(BIN)/python -m pytest tests_browser -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy airflow_provider_rh

clean:
	rm -rf $(VENV) .demo tests/oidc_server/node_modules
