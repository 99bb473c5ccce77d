# trendstream: `make demo` runs the whole pipeline locally; `make test` runs every test.
# Every target installs what it needs: nobody runs pip by hand.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.installed
CHECKOV_VENV := $(VENV)/checkov
PARLIAMENT_VENV := $(VENV)/parliament
UV_VERSION := 0.13.9
TERRAFORM := scripts/terraform
LAMBDA_SOURCES := $(shell find src requirements -type f \( -name '*.py' -o -name '*.txt' \) 2>/dev/null)

ENV ?= dev
export LOCAL_AWS_PORT ?= 4566
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help
help: ## Show this list of targets
	@awk 'BEGIN {FS = ":.*## "; printf "trendstream targets (make <target>):\n"} \
	  /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV_STAMP): requirements/dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(PY) -r requirements/dev.txt
	$(BIN)/uv pip install --quiet --python $(PY) --no-deps -e .
	touch $@

$(CHECKOV_VENV)/.installed: requirements/checkov.txt $(VENV_STAMP)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(BIN)/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python -r requirements/checkov.txt
	touch $@

$(PARLIAMENT_VENV)/.installed: requirements/parliament.txt $(VENV_STAMP)
	$(PYTHON) -m venv $(PARLIAMENT_VENV)
	$(BIN)/uv pip install --quiet --python $(PARLIAMENT_VENV)/bin/python -r requirements/parliament.txt
	touch $@

.PHONY: venv
venv: $(VENV_STAMP) ## Create .venv from the pinned requirements

build/.zips: $(VENV_STAMP) $(LAMBDA_SOURCES) scripts/build_lambdas.py
	$(PY) scripts/build_lambdas.py --out build
	touch $@

.PHONY: build
build: build/.zips ## Build the Lambda zips (build/producer.zip, consumer.zip, firehose_transformer.zip, api.zip)

.PHONY: up
up: build ## Start the local AWS emulator and terraform apply the stack to it
	$(BIN)/trendstream up

.PHONY: down
down: $(VENV_STAMP) ## Destroy the local stack and stop the emulator
	$(BIN)/trendstream down

.PHONY: run
run: $(VENV_STAMP) ## Run the local runtime against `make up`'s stack (Ctrl-C, or DURATION=seconds)
	$(BIN)/trendstream run $(if $(DURATION),--duration $(DURATION))

.PHONY: demo
demo: build ## The whole pipeline locally: emulator, apply, replay, summary, query, teardown
	$(BIN)/trendstream demo

# The live page's browser test drives Debian's chromium (never a browser download of Playwright's).
/usr/bin/chromium:
	apt-get update && apt-get install -y chromium

# The README's secret commands are tested in bash and in zsh, the two shells it names.
/usr/bin/zsh:
	apt-get update && apt-get install -y zsh

.PHONY: test
# Four workers on two cores: the emulator-backed tests spend much of their time in the AWS
# provider's fixed waits during `terraform apply` (an S3 lifecycle configuration alone is read
# back for 55 s), not on the CPU; a fourth worker runs on the CPU those waits leave.
test: build /usr/bin/chromium /usr/bin/zsh $(PARLIAMENT_VENV)/.installed ## Run the whole test suite (starts and stops its own emulator)
	$(BIN)/pytest -n 4 --dist loadgroup

.PHONY: lint
lint: $(VENV_STAMP) $(CHECKOV_VENV)/.installed $(PARLIAMENT_VENV)/.installed ## ruff, mypy, terraform fmt/validate, checkov, IAM lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(TERRAFORM) fmt -check -recursive terraform
	$(TERRAFORM) -chdir=terraform init -backend=false -input=false >/dev/null
	$(TERRAFORM) -chdir=terraform validate
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --framework terraform -d terraform --skip-download
	$(PARLIAMENT_VENV)/bin/python scripts/iam_lint.py

.PHONY: fmt
fmt: $(VENV_STAMP) ## Format Python and Terraform in place
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(TERRAFORM) fmt -recursive terraform

.PHONY: bench
bench: build ## Run the benchmarks and print the table of figures
	$(PY) -m bench

# Real AWS. One state per environment: the Terraform workspace named ENV (local state under
# terraform/terraform.tfstate.d/ENV/, or the S3 backend of environments/ENV.s3.tfbackend when that
# file exists, see the README), and a Terraform data directory per environment under .deploy/.
DEPLOY_BACKEND_CONFIG = environments/$(ENV).s3.tfbackend
TF_DEPLOY_ENV = TF_DATA_DIR=$(CURDIR)/.deploy/$(ENV)/.terraform TF_WORKSPACE=$(ENV)
TF_DEPLOY = $(TF_DEPLOY_ENV) $(TERRAFORM) -chdir=terraform

.PHONY: deploy-init
deploy-init:
	@test -f terraform/environments/$(ENV).tfvars || { echo "no terraform/environments/$(ENV).tfvars" >&2; exit 1; }
	$(TF_DEPLOY) init -input=false -reconfigure \
	  $(if $(wildcard terraform/$(DEPLOY_BACKEND_CONFIG)),-backend-config=$(DEPLOY_BACKEND_CONFIG))

.PHONY: deploy
deploy: build deploy-init ## Real AWS: terraform apply with your credentials (ENV=dev|prod, one state each)
	$(TF_DEPLOY) apply -var-file=environments/$(ENV).tfvars

.PHONY: destroy
destroy: deploy-init ## Real AWS: terraform destroy (ENV=dev|prod)
	$(TF_DEPLOY) destroy -var-file=environments/$(ENV).tfvars

.PHONY: outputs
outputs: ## The deployed stack's Terraform outputs as JSON (ENV=dev|prod)
	@$(TF_DEPLOY) output -json

# ENV=local: the stack `make up` applied (with `make run` beside it). Any other ENV: the stack
# deployed to AWS, its outputs read by `terraform output` in that environment's workspace and data
# directory (TF_DEPLOY_ENV, as `make deploy` keeps them). VERIFY_ARGS passes options (`trendstream verify -h`).

.PHONY: verify
verify: $(VENV_STAMP) ## Prove a deployed stack end to end (ENV=dev|prod on AWS, ENV=local for `make up`)
	@$(if $(filter local,$(ENV)),,$(TF_DEPLOY_ENV)) $(BIN)/trendstream verify \
	  $(if $(filter local,$(ENV)),,--terraform) $(VERIFY_ARGS)

.PHONY: replay-dataset
replay-dataset: $(VENV_STAMP) ## Regenerate the replay dataset in datasets/replay/ (deterministic)
	$(PY) scripts/generate_replay_dataset.py

.PHONY: lock
lock: $(VENV_STAMP) ## Re-pin requirements/*.txt from requirements/*.in
	for f in producer consumer firehose_transformer api; do \
	  $(BIN)/uv pip compile --quiet --python-version 3.11 --python-platform x86_64-manylinux2014 \
	    requirements/$$f.in -o requirements/$$f.txt; done
	$(BIN)/uv pip compile --quiet --python-version 3.11 requirements/toolkit.in -o requirements/toolkit.txt
	$(BIN)/uv pip compile --quiet --python-version 3.11 requirements/dev.in -o requirements/dev.txt
	$(BIN)/uv pip compile --quiet --python-version 3.11 requirements/checkov.in -o requirements/checkov.txt
	$(BIN)/uv pip compile --quiet --python-version 3.11 requirements/parliament.in -o requirements/parliament.txt

.PHONY: clean
clean: ## Remove build output and local state (keeps .venv)
	rm -rf build .local .pytest_cache .mypy_cache .ruff_cache
