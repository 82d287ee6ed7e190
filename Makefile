# lfv-monitor: every target creates .venv/ and installs the pinned dependencies itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml requirements/constraints.txt | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint unit integration soak clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP) ## Create .venv with the pinned dependencies

demo: $(STAMP) ## Run the product on its embedded local stack
	$(BIN)/lfv-monitor demo

test: lint unit integration ## Run every check (what CI runs)

lint: $(STAMP) ## ruff (lint + format) and mypy --strict on src/
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/mypy

unit: $(STAMP) ## Unit tests: fast, no network
	$(BIN)/pytest -q tests/unit

integration: $(STAMP) ## Integration tests: real HTTP to the simulator and moto on 127.0.0.1
	$(BIN)/pytest -q tests/integration

SEED   ?= 1
CYCLES ?= 500
soak: $(STAMP) ## Seeded fault soak (SEED=1 CYCLES=500); CI runs 50 cycles in `make integration`
	$(BIN)/python -m lfv_monitor.testing.soak --seed $(SEED) --cycles $(CYCLES)

clean: ## Remove the venv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
