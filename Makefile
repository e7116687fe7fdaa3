# The two commands of the README: `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export QINGLIU_CONFIG ?= config

.PHONY: install run test lint typecheck pytest clean

$(BIN)/qingliu: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/qingliu

install: $(BIN)/qingliu

run: install
	$(BIN)/qingliu load workflows/
	$(BIN)/qingliu validate workflows/

test: install lint typecheck pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check engine handlers tests bench

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
