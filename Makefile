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

npm-tools: tests/npm/node_modules/.installed

# `npm install` (not `npm ci`) because the lock omits other platforms' optional packages.
tests/npm/node_modules/.installed: tests/npm/package.json tests/npm/package-lock.json
	cd tests/npm && npm install --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) tests/npm/node_modules
