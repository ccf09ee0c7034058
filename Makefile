# The two commands for a fresh machine: `make local` and `make test`.
# Python 3.13 where present, otherwise the machine's python3 (3.11 or newer).
# (pyenv's shims answer for python3.13 only when it is selected, so its install is tried by path too.)
PYTHON ?= $(shell for p in python3.13 $$(ls -d $$HOME/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null) python3; do \
	if $$p -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1; then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
export SAM_CLI_TELEMETRY := 0
# Bytecode is cached (in __pycache__, ignored by git and by sam build): six test workers import the same code.
unexport PYTHONDONTWRITEBYTECODE
MAKEFLAGS += --no-print-directory

.PHONY: local invoke test test-in-process test-containers test-slow verify lint checkov bench freeze clean

$(BIN)/.installed: requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# checkov lives in its own venv: its pins of boto3 and pydantic conflict with aws-sam-cli's.
.venv-checkov/bin/.installed: requirements-checkov.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

## Run the workflow locally on events/create-dataset-group.json (pass options with ARGS="...").
local: $(BIN)/.installed
	$(BIN)/python -m tools.local_run $(ARGS)

## One function in a real container with `sam local invoke`, against local AWS services (needs Docker):
## make invoke FUNCTION=CheckEventTrackerFunction EVENT=events/check-event-tracker.json
invoke: $(BIN)/.installed
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<logical id> EVENT=events/<file>.json"; exit 2; }
	@$(BIN)/python -m tools.invoke $(FUNCTION) $(EVENT)

# Whether a Docker engine answers (read by `make test` only).
DOCKER = $(shell docker info >/dev/null 2>&1 && echo up)

## All tests and checks: lint and checkov beside pytest (which also runs cfn-lint, sam validate --lint, sam build,
## statelint), without the tests marked slow; then the container tier on its own where a Docker engine answers,
## since its emulated arm64 containers and the in-process tests slow each other down on a small machine (where none
## answers, the tier only skips, beside the rest).
## `make test ALSO=test-slow` (CI) runs the slow tier beside the container tier: one waits on qemu, the other on the
## engine's clock, and together they take little more time than the container tier alone.
test: $(BIN)/.installed .venv-checkov/bin/.installed
	$(MAKE) -j4 NICE="nice -n 15" lint checkov test-in-process $(if $(DOCKER),,test-containers)
	$(if $(DOCKER)$(ALSO),$(MAKE) $(if $(ALSO),-j2 --output-sync=target) $(if $(DOCKER),test-containers) $(ALSO))

test-in-process: $(BIN)/.installed
	$(BIN)/python -m pytest -n 6 --dist worksteal -m "not slow" --ignore=tests/container $(PYTEST_ARGS)

test-containers: $(BIN)/.installed
	$(BIN)/python -m pytest -n auto --dist worksteal -m "not slow" tests/container $(PYTEST_ARGS)

## The tests marked slow (scale, soak, deadlines in real time and the user journeys: about a minute and a half).
test-slow: $(BIN)/.installed
	$(BIN)/python -m pytest -n 6 --dist worksteal -m slow $(PYTEST_ARGS)

## The user journeys against a deployed stack, in the account of the usual AWS credentials (docs/verify.md):
## make verify STACK=<stack name> [ARGS=--dry-run | ARGS=--clean]
verify: $(BIN)/.installed
	@test -n "$(STACK)" || { echo "usage: make verify STACK=<stack name> [ARGS=--dry-run|--clean]"; exit 2; }
	PYTHONPATH=. $(BIN)/python -m tests.journeys --stack $(STACK) $(ARGS)

checkov: .venv-checkov/bin/.installed
	$(NICE) .venv-checkov/bin/checkov --config-file .checkov.yaml

# Only what a deployed function has (boto3, Powertools, pydantic): where the cold-start benchmark imports.
.venv-lambda/bin/.installed: bench/requirements-lambda.txt
	$(PYTHON) -m venv .venv-lambda
	.venv-lambda/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements-lambda.txt
	touch $@

## The benchmarks: writes bench/results.md (slow: tens of minutes, needs Docker for sections 3 and 5; not part of `make test`).
bench: $(BIN)/.installed .venv-lambda/bin/.installed
	$(BIN)/python -m bench.run

# $(NICE): under `make test`, the checks take what CPU the tests leave (they wait on the engine's clock at times).
lint: $(BIN)/.installed
	$(NICE) $(BIN)/ruff check .
	$(NICE) $(BIN)/ruff format --check .
	$(NICE) $(BIN)/mypy

# Freeze from the oldest supported Python (3.11), so the pins install on 3.11 to 3.13.
freeze: $(BIN)/.installed
	{ echo "# Exact pins of the development and test environment, valid on Python 3.11 to 3.13. Regenerate with: make freeze"; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > requirements-dev.txt

clean:
	rm -rf $(VENV) .venv-checkov .venv-lambda .aws-sam .pytest_cache .ruff_cache .hypothesis .mypy_cache
