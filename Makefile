# lfv-monitor: every target creates .venv/ and installs the pinned dependencies itself.
PYTHON ?= python3
# The files below are read through ROOT: `sam build` runs build-PollerFunction from a copy of src/.
ROOT   := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cd $(ROOT) && cat pyproject.toml requirements/constraints.txt | cksum | cut -d' ' -f1)
# Every distribution `pip install 'lfv-monitor[local]'` needs (and the build backend), so the
# install test builds the wheel and installs it into clean venvs with --no-index.
WHEELHOUSE       := $(VENV)/wheelhouse
WHEELHOUSE_STAMP := $(WHEELHOUSE)/.complete-$(shell cd $(ROOT) && cat pyproject.toml requirements/constraints.txt | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint template cfn-lint sam-validate checkov unit integration clean \
	package sam lambda-runtime wheelhouse openapi bench bench-smoke soak

# Template checkers live in their own venvs: aws-sam-cli and checkov pin boto3, pydantic and
# cfn-lint versions of their own. Every package is pinned in requirements/tools-*.txt.
# lambda-runtime holds only what Lambda gives the poller (runtime boto3, the Powertools layer).
TOOLS         := .venv-tools
tool_stamp     = $(TOOLS)/$(1)/.installed-$(shell cksum < $(ROOT)requirements/tools-$(1).txt | cut -d' ' -f1)
SAM_STAMP     := $(call tool_stamp,sam)
CHECKOV_STAMP := $(call tool_stamp,checkov)
RUNTIME_STAMP := $(call tool_stamp,lambda-runtime)

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

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

$(RUNTIME_STAMP):
	$(call tool_venv,lambda-runtime)

sam: $(SAM_STAMP) ## Install the pinned AWS SAM CLI in .venv-tools/sam
lambda-runtime: $(RUNTIME_STAMP) ## Install the emulated Lambda runtime + layer in .venv-tools/lambda-runtime

venv: $(STAMP) ## Create .venv with the pinned dependencies

$(WHEELHOUSE_STAMP): $(STAMP)
	$(BIN)/python -m pip download --quiet --disable-pip-version-check -d $(WHEELHOUSE) \
		-c requirements/constraints.txt '.[local]' setuptools==80.9.0
	@rm -f $(WHEELHOUSE)/.complete-* && touch $@

wheelhouse: $(WHEELHOUSE_STAMP) ## Download what the install test installs offline: .venv/wheelhouse

demo: $(STAMP) ## Run the product on its embedded local stack
	$(BIN)/lfv-monitor demo

test: lint template unit integration ## Run every check (what CI runs)

lint: $(STAMP) ## ruff (lint + format) and mypy --strict on src/
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks
	$(BIN)/mypy

template: cfn-lint sam-validate checkov ## Check template.yaml: cfn-lint, sam validate --lint, checkov

# events/schema-registry.yaml is template.yaml's nested stack (the schema registry);
# member-role.yaml is deployed in each member account (issue 15).
cfn-lint: $(STAMP) ## cfn-lint on template.yaml, its nested stack and member-role.yaml
	$(BIN)/cfn-lint template.yaml events/schema-registry.yaml member-role.yaml

# --lint runs cfn-lint offline; the region is only for the lint's region-specific rules.
sam-validate: $(SAM_STAMP) ## sam validate --lint (offline, no credentials)
	SAM_CLI_TELEMETRY=0 $(TOOLS)/sam/bin/sam validate --lint --region us-east-1 --template-file template.yaml

# Suppressions sit next to the resource they concern (Metadata.checkov.skip, with a comment).
checkov: $(CHECKOV_STAMP) ## checkov on template.yaml, its nested stack and member-role.yaml (offline)
	$(TOOLS)/checkov/bin/checkov --skip-download --quiet --compact --framework cloudformation --file template.yaml \
		--file events/schema-registry.yaml --file member-role.yaml

package: $(STAMP) $(SAM_STAMP) ## Build the poller's Lambda package (sam build) and zip it: build/poller.zip
	$(BIN)/python scripts/package_function.py --sam $(TOOLS)/sam/bin/sam --zip build/poller.zip

# `sam build` calls build-<Function> (template.yaml: BuildMethod makefile) from a copy of src/
# with ARTIFACTS_DIR set. One rule for every function: the package is its handler's import
# closure within lfv_monitor plus the carried model (lfv_monitor/data/**), nothing else
# (scripts/build_function.py, standard library only: it also runs in `sam build --use-container`,
# where the Makefile's folder is mounted too). The handlers are the template's `Handler:` values;
# tests/integration/test_packaging.py fails if a package is not its handler's closure.
FUNCTION_HANDLERS := PollerFunction=lfv_monitor.handlers.poll \
	JobStartedFunction=lfv_monitor.handlers.poll \
	AuditApiFunction=lfv_monitor.handlers.api \
	DispatcherFunction=lfv_monitor.handlers.dispatch
FUNCTIONS := $(foreach pair,$(FUNCTION_HANDLERS),$(firstword $(subst =, ,$(pair))))
handler_of = $(word 2,$(subst =, ,$(filter $(1)=%,$(FUNCTION_HANDLERS))))

.PHONY: $(addprefix build-,$(FUNCTIONS))
$(addprefix build-,$(FUNCTIONS)): build-%:
	$(PYTHON) "$(ROOT)scripts/build_function.py" $(call handler_of,$*) "$(ARTIFACTS_DIR)"

unit: $(STAMP) ## Unit tests: fast, no network
	$(BIN)/pytest -q tests/unit

# The packaging and deployment tests build the package with .venv-tools/sam and run it in
# .venv-tools/lambda-runtime (the fixtures also call these targets; made once, then reused).
integration: $(STAMP) $(SAM_STAMP) $(RUNTIME_STAMP) $(WHEELHOUSE_STAMP) ## Integration tests: real HTTP to the simulator and moto on 127.0.0.1
	$(BIN)/pytest -q tests/integration

openapi: $(STAMP) ## Regenerate docs/openapi.json from the API handler's routes
	$(BIN)/python scripts/generate_openapi.py

bench: $(STAMP) ## Fleet benchmarks S, M, L and the 20-target fleet (takes minutes); writes benchmarks/results/
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.targets --targets 20

bench-smoke: $(STAMP) ## Fleet S only, P1 and P2 counts checked exactly (make test runs it too)
	$(BIN)/python -m benchmarks.run --smoke

SEED   ?= 1
CYCLES ?= 500
soak: $(STAMP) ## Seeded fault soak (SEED=1 CYCLES=500); CI runs 50 cycles in `make integration`
	$(BIN)/python -m lfv_workbench.soak --seed $(SEED) --cycles $(CYCLES)

clean: ## Remove the venv and caches
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
