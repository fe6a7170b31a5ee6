# ELM — every target installs what it needs into .venv first: `make demo` and `make elm`
# the runtime and the command line only, the other targets the development tools too.
# Versions come from requirements/lock.txt (pip constraints); `make lock` updates it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := requirements/lock.txt
CLI_STAMP := $(VENV)/.cli-stamp
DEV_STAMP := $(VENV)/.dev-stamp
# Kept for the scripts and notes that name it: the full (development) install.
STAMP  := $(DEV_STAMP)
PIP    := $(BIN)/python -m pip install --disable-pip-version-check --progress-bar on

.PHONY: install install-cli demo simulate package elm lock test check lint typecheck imports cfn-lint checkov clean bench bench-quick

$(BIN)/python:
	@echo "==> Creating $(VENV) with $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)

$(CLI_STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	@echo "==> Installing ELM's runtime and command line into $(VENV) (versions from $(LOCK))"
	$(PIP) -c $(LOCK) -e '.[cli]'
	touch $(CLI_STAMP)

$(DEV_STAMP): $(CLI_STAMP)
	@echo "==> Installing the development tools into $(VENV) (versions from $(LOCK))"
	$(PIP) -c $(LOCK) -e '.[dev]'
	touch $(DEV_STAMP)

install: $(DEV_STAMP)

install-cli: $(CLI_STAMP)

# Any elm command from the Makefile: make elm ARGS="rules list". Or run .venv/bin/elm, or
# `. .venv/bin/activate` to have elm on the PATH.
elm: $(CLI_STAMP)
	$(BIN)/elm $(ARGS)

# Re-resolve every dependency of '.[dev]' (which includes '.[cli]' and the runtime) to the
# newest versions pyproject.toml allows, in a scratch venv, and write them to $(LOCK).
lock:
	rm -rf $(VENV)-lock
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --disable-pip-version-check --quiet -e '.[dev]'
	mkdir -p $(dir $(LOCK))
	{ echo "# pip constraints: the versions CI tested. Update with: make lock"; \
	  $(VENV)-lock/bin/python -m pip freeze --exclude-editable | LC_ALL=C sort -f; } > $(LOCK)
	rm -rf $(VENV)-lock
	@echo "==> $(LOCK): $$(grep -vc '^#' $(LOCK)) pinned distributions"

# The production flow end to end on a local AWS (moto, in this process): docs/local.md.
demo: $(CLI_STAMP)
	$(BIN)/elm local

# The decision flow alone, in memory, on a scenario file.
simulate: $(CLI_STAMP)
	$(BIN)/elm simulate examples/estate.yaml

# The Lambda zip, dist/elm-lambda.zip.
package: $(CLI_STAMP)
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
# benchmarks/results.md (about 20 minutes on 2 cores). bench-quick: small sizes, < 1 min.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks.run --quick

clean:
	rm -rf $(VENV) $(VENV)-lock $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
