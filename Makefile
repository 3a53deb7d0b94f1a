# Developer entry points. Every target first makes sure .venv matches requirements-dev.txt;
# the stamp is keyed on the requirement files' content, so a no-op run costs nothing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
REQS   := requirements.txt requirements-dev.txt agent/requirements.txt
STAMP  := $(VENV)/.installed-$(shell cat $(REQS) 2>/dev/null | sha256sum | cut -c1-16)
OUT    := out
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: venv web run test test-fast lint fuzz package lint-infra clean

venv: $(STAMP)

$(STAMP): $(REQS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

## web: the console's bundle in web/dist: `npm ci` from the lockfile when it changed (stamp keyed on its
## content, like the venv's), then esbuild when a source is newer than the bundle; a no-op run costs nothing
WEB_DEPS := web/node_modules/.installed-$(shell cat web/package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
WEB_SRC  := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/build.mjs

web: web/dist/index.html

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/index.html: $(WEB_SRC) $(WEB_DEPS)
	node web/build.mjs

## run: the console on http://127.0.0.1:8000/ and the API on /api, with an embedded moto and the event pump
run: venv web
	$(BIN)/python -m infra.local

## test: the whole suite (pytest exits non-zero when no test ran), whole files spread over TEST_WORKERS
## pytest-xdist workers (docs/testing.md); TEST_WORKERS=0 runs it in this one process, in order
TEST_WORKERS ?= 2
PARALLEL = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)
test: venv web
	$(BIN)/python -m pytest -q $(PARALLEL) tests/

## test-fast: everything that needs no Docker engine nor the `make run` stack (the inner loop), on the same workers;
## the files with the longest tests first, so neither worker is left with one at the end
test-fast: venv
	$(BIN)/python -m pytest -q $(PARALLEL) tests/infra tests/api tests/unit -m "not agent and not docker"

## lint: ruff (lint + format check), import-linter layers, mypy --strict on the typed core, complexity ceiling
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/xenon --max-absolute B --exclude 'tests/*,.venv/*' chalicelib agent infra cli bench app.py

## fuzz: schemathesis over every operation of a running local stack, FUZZ_EXAMPLES (default 50) new examples each
FUZZ_EXAMPLES ?= 50
fuzz: venv
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_RANDOM=1 $(BIN)/python -m pytest -q tests/fuzz

## package: out/sam.json (app + resources, one SAM template) and out/deployment.zip
package: venv
	rm -rf $(OUT)
	$(BIN)/python -m infra.package $(OUT)

## lint-infra: cfn-lint on the resources and on the packaged template
lint-infra: package
	$(BIN)/cfn-lint infra/resources.json $(OUT)/sam.json

clean:
	rm -rf $(OUT) .pytest_cache web/dist
