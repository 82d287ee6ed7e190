# lfv-monitor: every target creates .venv/ and installs the pinned dependencies itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements/constraints.txt | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint template cfn-lint sam-validate checkov unit integration clean

# Template checkers live in their own venvs: aws-sam-cli and checkov pin boto3, pydantic and
# cfn-lint versions of their own. Every package is pinned in requirements/tools-*.txt.
TOOLS         := .venv-tools
SAM_STAMP     := $(TOOLS)/sam/.installed-$(shell cksum < requirements/tools-sam.txt | cut -d' ' -f1)
CHECKOV_STAMP := $(TOOLS)/checkov/.installed-$(shell cksum < requirements/tools-checkov.txt | cut -d' ' -f1)

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

define tool_venv
	@test -x $(TOOLS)/$(1)/bin/python || $(PYTHON) -m venv $(TOOLS)/$(1)
	$(TOOLS)/$(1)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(TOOLS)/$(1)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/tools-$(1).txt
	@rm -f $(TOOLS)/$(1)/.installed-* && touch $@
endef

$(SAM_STAMP):
	$(call tool_venv,sam)

$(CHECKOV_STAMP):
	$(call tool_venv,checkov)

venv: $(STAMP) ## Create .venv with the pinned dependencies

demo: $(STAMP) ## Run the product on its embedded local stack
	$(BIN)/lfv-monitor demo

test: lint template unit integration ## Run every check (what CI runs)

lint: $(STAMP) ## ruff (lint + format) and mypy --strict on src/
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

template: cfn-lint sam-validate checkov ## Check template.yaml: cfn-lint, sam validate --lint, checkov

cfn-lint: $(STAMP) ## cfn-lint on template.yaml
	$(BIN)/cfn-lint template.yaml

# --lint runs cfn-lint offline; the region is only for the lint's region-specific rules.
sam-validate: $(SAM_STAMP) ## sam validate --lint (offline, no credentials)
	SAM_CLI_TELEMETRY=0 $(TOOLS)/sam/bin/sam validate --lint --region us-east-1 --template-file template.yaml

# Suppressions sit next to the resource they concern (Metadata.checkov.skip, with a comment).
checkov: $(CHECKOV_STAMP) ## checkov on template.yaml (offline)
	$(TOOLS)/checkov/bin/checkov --skip-download --quiet --compact --framework cloudformation --file template.yaml

unit: $(STAMP) ## Unit tests: fast, no network
	$(BIN)/pytest -q tests/unit

integration: $(STAMP) ## Integration tests: real HTTP to the simulator and moto on 127.0.0.1
	$(BIN)/pytest -q tests/integration

clean: ## Remove the venv and caches
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
