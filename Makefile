# Masthead: `make run` serves the demo site, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell scripts/find-python)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
export MASTHEAD_DATA_DIR ?= $(CURDIR)/var

.PHONY: run dev test lint bench clean venv

$(BIN)/python:
	@test -n "$(PYTHON)" || { scripts/find-python; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

venv: $(VENV)/.installed

# Migrate, load the demo content into an empty database, collect static files, serve with gunicorn.
run: $(VENV)/.installed
	@echo "Data directory: $(MASTHEAD_DATA_DIR)"
	$(BIN)/masthead run --host $(HOST) --port $(PORT) --workers $(WORKERS)

dev: $(VENV)/.installed
	$(BIN)/masthead run --prepare-only
	MASTHEAD_DEBUG=1 $(BIN)/masthead runserver $(HOST):$(PORT)

test: $(VENV)/.installed-test
	MASTHEAD_DATA_DIR=$(CURDIR)/var/test $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench

bench: $(VENV)/.installed-bench
	MASTHEAD_DATA_DIR=$(CURDIR)/var/bench $(BIN)/python bench/pages.py $(BENCH_ARGS)
	MASTHEAD_DATA_DIR=$(CURDIR)/var/bench $(BIN)/python bench/screening.py
	MASTHEAD_DATA_DIR=$(CURDIR)/var/bench $(BIN)/python bench/search.py
	MASTHEAD_DATA_DIR=$(CURDIR)/var/bench $(BIN)/python bench/related.py
	MASTHEAD_DATA_DIR=$(CURDIR)/var/bench $(BIN)/python bench/hot.py
	MASTHEAD_DATA_DIR=$(CURDIR)/var/bench-quality $(BIN)/python bench/quality.py
	MASTHEAD_DATA_DIR=$(CURDIR)/var/bench $(BIN)/python bench/load.py
	MASTHEAD_DATA_DIR=$(CURDIR)/var/bench $(BIN)/python bench/mixed.py
	MASTHEAD_DATA_DIR=$(CURDIR)/var/bench $(BIN)/python bench/api.py

clean:
	rm -rf $(VENV) var build src/*.egg-info
