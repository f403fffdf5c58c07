# The commands the README names. Targets install what they need on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# The venv's own pip: Python 3.11's bundled 23.x cannot install `name @ git+file://` requirements.
PIP_VERSION := 26.3
ENV ?= dev
# make serve: the API's port and the emulated AWS endpoint's port.
PORT ?= 8080
AWS_PORT ?= 4566
# make test: pytest workers, one per core up to this many (each deploys the local cloud of its own).
TEST_WORKERS ?= 4

# The CDK stage of each ENV (serverless_patterns/stacks/environments.py; tests/infrastructure/test_workflows.py
# keeps them equal). diff and deploy select '<Stage>/*'.
STAGE_dev := Dev
STAGE_staging := Staging
STAGE_prod := Prod
STAGE = $(STAGE_$(ENV))
# diff/deploy: CDK_APP=<cloud assembly directory> uses an assembly synthesized before (CI deploys the one it diffed);
# CDK_ARGS are passed on to the CDK CLI; FAIL_ON makes diff exit 1 on a kind of change.
CDK_APP ?=
CDK_ARGS ?=
FAIL_ON ?= never
REQUIRE_APPROVAL ?= broadening

# Node 22 from node_modules (the npm package `node`) runs jsii and the CDK CLI.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export PYTHONDONTWRITEBYTECODE := 1

PY_DEPS := $(VENV)/.installed
NODE_DEPS := node_modules/.installed
# checkov in a virtualenv of its own: it pins a boto3 the test virtualenv cannot share.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_DEPS := $(CHECKOV_VENV)/.installed
# make bench: cold starts on the functions' runtime Python (lambda_code.PYTHON_RUNTIME), from PATH or pyenv, in a
# virtualenv of only the runtime's SDK and the Powertools layer's packages (requirements-dev.txt's pins, no extras).
# Without that Python they run on the development interpreter, and bench/results.json says so.
LAMBDA_PYTHON_VERSION := 3.13
LAMBDA_VENV := $(VENV)/lambda
ifneq ($(filter bench,$(MAKECMDGOALS)),)
LAMBDA_PYTHON ?= $(firstword $(foreach candidate,python$(LAMBDA_PYTHON_VERSION) \
	$(wildcard $(shell pyenv root 2>/dev/null)/versions/$(LAMBDA_PYTHON_VERSION).*/bin/python$(LAMBDA_PYTHON_VERSION)),\
	$(shell $(candidate) -c 'import sys; print(sys.executable)' 2>/dev/null)))
LAMBDA_DEPS := $(if $(LAMBDA_PYTHON),$(LAMBDA_VENV)/.installed)
endif
LAMBDA_PACKAGES = $(shell sed -nE 's/^(boto3|aws-lambda-powertools|pydantic)(\[[^]]*\])?(==[^ ;#]+).*/\1\3/p' requirements-dev.txt)

$(PY_DEPS): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check pip==$(PIP_VERSION)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(CHECKOV_DEPS): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-checkov.txt
	touch $@

$(LAMBDA_VENV)/.installed: requirements-dev.txt
	test -x $(LAMBDA_VENV)/bin/python || $(LAMBDA_PYTHON) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/python -m pip install -q --disable-pip-version-check $(LAMBDA_PACKAGES)
	touch $@

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: help
help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

.PHONY: install
install: $(PY_DEPS) $(NODE_DEPS) $(CHECKOV_DEPS) ## Create .venv (checkov in .venv/checkov) and node_modules

.PHONY: synth
synth: install ## Synthesize Dev, Staging and Prod into cdk.out (cdk-nag gates included)
	npx cdk synth '**' --quiet

.PHONY: check-env
check-env:
	$(if $(STAGE),,$(error unknown ENV=$(ENV); choose dev, staging or prod))

.PHONY: diff
diff: check-env install ## What deploying ENV=dev|staging|prod would change (AWS credentials; CDK_ARGS='--method template' reads only)
	npx cdk diff '$(STAGE)/*' -c env=$(ENV) $(if $(CDK_APP),--app '$(CDK_APP)') --fail-on $(FAIL_ON) $(CDK_ARGS)

.PHONY: deploy
deploy: check-env install ## Deploy ENV=dev|staging|prod (AWS credentials; REQUIRE_APPROVAL=broadening asks before widening permissions)
	npx cdk deploy '$(STAGE)/*' -c env=$(ENV) $(if $(CDK_APP),--app '$(CDK_APP)') --require-approval $(REQUIRE_APPROVAL) $(CDK_ARGS)

.PHONY: destroy
destroy: check-destroy install ## Destroy the Dev stage (ENV=dev only: Staging and Prod are never destroyed from here)
	npx cdk destroy 'Dev/*' -c env=dev $(CDK_ARGS)

.PHONY: check-destroy
check-destroy:
	$(if $(filter dev,$(ENV)),,$(error make destroy refuses ENV=$(ENV): only ENV=dev is destroyed from here))

.PHONY: bootstrap-ci
bootstrap-ci: check-repository install ## Deploy CI's trust (GitHub OIDC provider, deploy and diff roles) into your credentials' account: REPOSITORY=owner/name; DRY_RUN=1 only synthesizes
	npx cdk $(if $(DRY_RUN),synth --quiet,deploy) CiBootstrap -c ci_bootstrap=true -c repository=$(REPOSITORY) \
		$(if $(CI_ENVIRONMENTS),-c ci_environments=$(CI_ENVIRONMENTS)) $(if $(OIDC_PROVIDER_ARN),-c oidc_provider_arn=$(OIDC_PROVIDER_ARN)) $(CDK_ARGS)

.PHONY: check-repository
check-repository:
	$(if $(REPOSITORY),,$(error make bootstrap-ci needs REPOSITORY=<owner>/<name>, the GitHub repository whose workflows deploy))

.PHONY: local
local: install ## Deploy one environment (ENV=dev|staging|prod) into the embedded emulated cloud and drive every pattern
	$(VENV)/bin/serverless-patterns local --env $(ENV)

.PHONY: serve
serve: install ## The local dev server: ENV's API on http://127.0.0.1:$(PORT)/<stage>/, the emulated AWS on :$(AWS_PORT); Ctrl-C stops
	$(VENV)/bin/serverless-patterns serve --env $(ENV) --port $(PORT) --aws-port $(AWS_PORT) $(if $(VERBOSE),--verbose)

.PHONY: bench
bench: install $(LAMBDA_DEPS) ## Cold starts, synth time, asset sizes, warm overhead as ratios; writes bench/results.json (minutes; not in make test)
	$(PY) -m bench $(if $(LAMBDA_DEPS),--lambda-python $(CURDIR)/$(LAMBDA_VENV)/bin/python) && $(PY) -m bench.readme

.PHONY: cost
cost: install ## Monthly cost estimate of ENV=dev|staging|prod|all from its template (PROFILE=my-traffic.json to override)
	$(VENV)/bin/serverless-patterns cost --env $(ENV) $(if $(PROFILE),--profile $(PROFILE))

.PHONY: capacity
capacity: check-env install ## How far each pattern of ENV=dev|staging|prod scales, what binds first and what to raise (QUOTAS=my-quotas.json)
	$(PY) -m serverless_patterns.capacity --env $(ENV) $(if $(QUOTAS),--quotas $(QUOTAS)) $(if $(PROFILE),--profile $(PROFILE)) $(if $(TEMPLATE),--template $(TEMPLATE))

.PHONY: lint
lint: $(PY_DEPS) ## ruff (lint + format check), mypy --strict and actionlint (.github)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/actionlint -shellcheck=$(VENV)/bin/shellcheck -pyflakes=

.PHONY: format
format: $(PY_DEPS) ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: test
test: install lint ## Lint, type-check and run every test (a pytest worker per core, at most TEST_WORKERS=4)
	$(PY) -m pytest -n auto --maxprocesses=$(TEST_WORKERS) --dist loadgroup

.PHONY: snapshot-update
snapshot-update: install ## Rewrite the template snapshots after an intended change
	$(PY) -m pytest tests/infrastructure --snapshot-update

.PHONY: diagrams
diagrams: install ## Redraw docs/diagrams/*.png from the synthesized Prod stage (needs Graphviz: apt-get install graphviz)
	$(PY) scripts/diagrams.py --env prod --out docs/diagrams

.PHONY: docs
docs: $(PY_DEPS) ## Build the documentation site into site/ (strict: any warning fails)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

.PHONY: docs-serve
docs-serve: $(PY_DEPS) ## Serve the documentation site on http://127.0.0.1:8000 while you edit it
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

.PHONY: clean
clean: ## Remove build output (keeps .venv and node_modules)
	rm -rf cdk.out site .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
