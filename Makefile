# The commands the README names. Targets install what they need on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# The venv's own pip: Python 3.11's bundled 23.x cannot install `name @ git+file://` requirements.
PIP_VERSION := 26.3
ENV ?= dev

# Node 22 from node_modules (the npm package `node`) runs jsii and the CDK CLI.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export PYTHONDONTWRITEBYTECODE := 1

PY_DEPS := $(VENV)/.installed
NODE_DEPS := node_modules/.installed

$(PY_DEPS): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check pip==$(PIP_VERSION)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: help
help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

.PHONY: install
install: $(PY_DEPS) $(NODE_DEPS) ## Create .venv and node_modules

.PHONY: synth
synth: install ## Synthesize Dev, Staging and Prod into cdk.out (cdk-nag gates included)
	npx cdk synth '**' --quiet

.PHONY: local
local: install ## Deploy one environment (ENV=dev|staging|prod) into the embedded emulated cloud and drive every pattern
	$(PY) -m serverless_patterns.local --env $(ENV)

.PHONY: bench
bench: install ## Cold starts, synth time, asset sizes, warm overhead as ratios; writes bench/results.json (minutes; not in make test)
	$(PY) -m bench

.PHONY: cost
cost: install ## Monthly cost estimate of ENV=dev|staging|prod|all from its template (PROFILE=my-traffic.json to override)
	$(PY) -m serverless_patterns.cost --env $(ENV) $(if $(PROFILE),--profile $(PROFILE))

.PHONY: lint
lint: $(PY_DEPS) ## ruff (lint + format check) and mypy --strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: format
format: $(PY_DEPS) ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: test
test: install lint ## Lint, type-check and run every test
	$(PY) -m pytest

.PHONY: snapshot-update
snapshot-update: install ## Rewrite the template snapshots after an intended change
	$(PY) -m pytest tests/infrastructure --snapshot-update

.PHONY: diagrams
diagrams: install ## Redraw docs/diagrams/*.png from the synthesized Prod stage (needs Graphviz: apt-get install graphviz)
	$(PY) scripts/diagrams.py --env prod --out docs/diagrams

.PHONY: clean
clean: ## Remove build output (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
