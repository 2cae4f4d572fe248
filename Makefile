# Stratus: `make dev` runs the whole system locally, `make test` runs every suite. Both set up from scratch.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYENV_PY312 := $(shell pyenv root 2>/dev/null)/versions/3.12.1/bin/python3.12
PYTHON312 ?= $(if $(wildcard $(PYENV_PY312)),$(PYENV_PY312),python3.12)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)/functions:$(CURDIR)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
STAGE ?= dev
PORT ?= 8000
PYTEST_ARGS ?=

-include mk/*.mk

.PHONY: help venv dev test test-fast lint bench validate build deploy clean

help: ## Show the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

LAYER_REQUIREMENTS := $(wildcard layers/*/requirements.txt)

# requirements.lock (mk/package.mk) constrains the venv as it constrains every layer: tests run what deploys.
$(STAMP): pyproject.toml requirements.lock $(LAYER_REQUIREMENTS)
	@test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock $(addprefix -r ,$(LAYER_REQUIREMENTS)) ".[dev,local]"
	@touch $@

venv: $(STAMP) ## Create .venv with the layer's runtime and the dev dependencies

dev: $(STAMP) embedding-model ## Run the local stack on 127.0.0.1:$(PORT): embedded AWS + every service + WebSocket
	$(PY) -m stratus.local.devserver --port $(PORT)

test: $(STAMP) sam-venv embedding-model ## Run every suite (unit, contract, integration, e2e) offline
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## Unit tests only
	$(PY) -m pytest tests/unit -q $(PYTEST_ARGS)

lint: $(STAMP) ## ruff + mypy --strict
	$(VENV)/bin/ruff check layers functions tests bench scripts
	$(VENV)/bin/mypy layers/common/stratus functions

bench: $(STAMP) embedding-model ## Run every benchmark and print its figures
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean: ## Remove the virtualenvs, build output and local state
	rm -rf $(VENV) .venv-sam .venv-build .venv-lock .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
