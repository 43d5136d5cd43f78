# Two commands matter: `make run` (the hub, embedded defaults) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint setup npm-tools clean

run: $(STAMP)
	$(BIN)/mcphub serve --insecure-no-auth

test: $(STAMP) npm-tools
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadfile --durations=15

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

npm-tools:
	cd tests/npm && npm ci --no-audit --no-fund --loglevel=error

clean:
	rm -rf $(VENV) tests/npm/node_modules
