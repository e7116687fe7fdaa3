# The two commands of the README: `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export QINGLIU_CONFIG ?= config
# A home exported in the shell (docs/deployment.md) is not this checkout's: `make run` and the
# tests use the repository's own config/ and workflows/.
unexport QINGLIU_HOME

.PHONY: install run test test-postgres lint typecheck pytest docs screenshots bench wheelhouse clean

# Tests marked `postgres` need a server: they run only when QINGLIU_TEST_DATABASE names one.
PYTEST_MARK := $(if $(filter postgresql%,$(QINGLIU_TEST_DATABASE)),,-m "not postgres")

$(BIN)/qingliu: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/qingliu

install: $(BIN)/qingliu

# The demo city is loaded once (its console users and their passwords are printed then).
run: install
	$(BIN)/qingliu validate workflows/
	$(BIN)/qingliu load workflows/
	$(BIN)/qingliu demo
	$(BIN)/qingliu serve $(SERVE_ARGS)

test: install lint typecheck pytest

lint:
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --no-cache --check engine handlers tests bench

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest $(PYTEST_MARK) $(PYTEST_ARGS)

# The whole suite on PostgreSQL: the server in QINGLIU_TEST_DATABASE, or else the one that
# `.ci/postgres.sh start` runs (see docs/postgresql.md).
test-postgres: install
	@url="$${QINGLIU_TEST_DATABASE:-$$(.ci/postgres.sh url)}" && \
		QINGLIU_TEST_DATABASE="$$url" $(BIN)/pytest $(PYTEST_ARGS)

# Generated documentation: the catalogue of guards and actions (a test keeps it current).
docs: install
	$(BIN)/qingliu handlers --markdown > docs/handlers.md

# The console's pictures in docs/console/ (docs/console.md), taken by its browser tests.
screenshots: install
	QINGLIU_SCREENSHOTS=1 $(BIN)/pytest -m "not postgres" tests/console tests/public

# The benchmark suite (bench/suite.py, ~30 minutes; BENCH_ARGS=--quick for a smoke run) with the
# `bench` extra: the reference engines it compares against and a profiler.
bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench.suite $(BENCH_ARGS)

# Every wheel an installation needs, for a machine without registry access (docs/deployment.md):
# qingliu itself, its dependencies and those of the dev and bench extras, and the build tools
# of an editable install. Then: pip install --no-index --find-links wheelhouse 'qingliu[dev]'
WHEELHOUSE ?= wheelhouse
wheelhouse: install
	$(BIN)/pip wheel --quiet --wheel-dir $(WHEELHOUSE) '.[dev,bench]' 'setuptools>=68' wheel pip

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
