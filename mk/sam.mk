# SAM CLI targets, included by the main Makefile.
# aws-sam-cli pins clash with the project's dependencies, so it lives in its own venv (.venv-sam).

SAM_VERSION ?= 1.170.0
SAM_VENV ?= .venv-sam
SAM_STAMP := $(SAM_VENV)/.sam-$(SAM_VERSION).stamp
PYENV_312_BIN := $(shell pyenv root 2>/dev/null)/versions/3.12.1/bin
SAM_PYTHON ?= $(shell if [ -x "$(PYENV_312_BIN)/python3.12" ]; then echo "$(PYENV_312_BIN)/python3.12"; else echo python3.12; fi)
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
# sam build resolves the python3.12 runtime from PATH; the bare pyenv shim can refuse, so put 3.12 first.
SAM_BUILD_PATH := $(if $(wildcard $(PYENV_312_BIN)),$(PYENV_312_BIN):)$(PATH)
STAGE ?= dev

.PHONY: sam-venv validate build deploy

sam-venv: $(SAM_STAMP) ## Create .venv-sam with aws-sam-cli $(SAM_VERSION) (its pins clash with ours)

$(SAM_STAMP):
	$(SAM_PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet "aws-sam-cli==$(SAM_VERSION)"
	touch $@

validate: $(STAMP) $(SAM_STAMP) ## cfn-lint + sam validate --lint on template.yaml (offline)
	.venv/bin/cfn-lint template.yaml
	$(SAM) validate --lint --region us-east-1

# --no-cached: sam's cache keys a layer on its folder only, not on requirements.lock or scripts/build_layer.py.
build: $(SAM_STAMP) ## sam build: layers from requirements.lock, one service per function (python3.12 from pyenv)
	PATH="$(SAM_BUILD_PATH)" $(SAM) build --no-cached

deploy: build ## sam deploy --config-env $(STAGE) (samconfig.toml; region from your AWS profile)
	$(SAM) deploy --config-env $(STAGE)
