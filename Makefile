# Everything a fresh machine needs is installed by these targets; each one is idempotent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NODE_STAMP := tests/oidc_server/node_modules/.package-lock.json
BENCH_STAMP := $(VENV)/.bench-stamp
RELEASE_STAMP := $(VENV)/.release-stamp

.PHONY: demo test test-scheduler fuzz lint sandbox bench bench-smoke install clean browser-test deploy-test matrix dist wheel-test

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

## The property tests (tests marked fuzz) with many more examples each (HYPOTHESIS_PROFILE=fuzz).
fuzz: $(STAMP) $(NODE_STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -m fuzz -p no:cacheprovider

## Catchup and `airflow backfill` of windowed and incremental DAGs under a real scheduler and api-server (~2 min).
test-scheduler: $(STAMP)
	$(BIN)/python -m pytest -m scheduler tests/transfers/test_windows_scheduler.py

$(BENCH_STAMP): $(STAMP)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,bench]'
	touch $(BENCH_STAMP)

## The pull against a hand-tuned loop, HttpOperator and dlt on a fast local server (bench/README.md).
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.plot --out bench/results

## The benchmark's CI smoke run: every competitor once at 10,000 records; fails only on wrong output.
bench-smoke: $(BENCH_STAMP)
	$(BIN)/python -m bench.run --quick --results bench/results/smoke.json

## A real multi-process Airflow (PostgreSQL, Redis, Celery x2, scheduler, dag-processor, triggerer,
## api-server) runs scheduled DAGs against the sandbox; installs Debian packages with apt first.
deploy-test: $(STAMP)
	scripts/ci/install-services.sh
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,deploy]'
	$(BIN)/python -m pytest tests_deploy -s -p no:cacheprovider

## Every supported Airflow minor (latest patch, dependencies of its day) and the lowest-direct
## floors, each in its own venv under .matrix/; prints a version -> result table.
matrix: $(STAMP)
	scripts/ci/matrix.sh

## The connection form in a real browser: Debian's chromium (apt), a real api-server, the sandbox.
browser-test: $(STAMP)
	bash scripts/ci/install-browser.sh
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,browser]'
	$(BIN)/python -m pytest tests_browser -p no:cacheprovider

$(RELEASE_STAMP): $(STAMP)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,release]'
	touch $(RELEASE_STAMP)

## The release artifacts in dist/: sdist and wheel (uv build, isolated), checked by twine --strict.
dist: $(RELEASE_STAMP)
	rm -rf dist
	$(BIN)/uv build --quiet --out-dir dist .
	$(BIN)/twine check --strict dist/*

## The built wheel as users install it: a fresh venv (not the checkout) with Airflow, rh-register,
## rh-sandbox and the example DAG under `airflow dags test` in a folder outside the checkout.
wheel-test: dist
	$(BIN)/python scripts/ci/wheel_test.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy airflow_provider_rh

clean:
	rm -rf $(VENV) .demo .matrix dist tests/oidc_server/node_modules
