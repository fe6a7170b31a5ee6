# ELM — every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo simulate package test check lint typecheck imports cfn-lint checkov clean bench bench-quick

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The production flow end to end on a local AWS (moto, in this process): docs/local.md.
demo: $(STAMP)
	$(BIN)/elm local

# The decision flow alone, in memory, on a scenario file.
simulate: $(STAMP)
	$(BIN)/elm simulate examples/estate.yaml

# The Lambda zip, dist/elm-lambda.zip.
package: $(STAMP)
	$(BIN)/elm package

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

# cfn-lint's exit code is a bitmask (2 errors, 4 warnings, 8 informational): any bit fails.
cfn-lint: $(STAMP)
	$(BIN)/cfn-lint -a cfn_lint_serverless.rules -- infra/*.yaml

# checkov pins an old boto3, so it lives in its own venv, created on first use.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-stamp

$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov>=3.2,<4'
	touch $(CHECKOV_STAMP)

checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --directory infra --framework cloudformation --quiet --compact --skip-download

check: lint typecheck imports cfn-lint checkov

# Performance figures, ELM beside the scan-based seed design: prints the table and writes
# benchmarks/results.md (under 10 minutes on 2 cores). bench-quick: small sizes, < 1 min.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.run --quick

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
