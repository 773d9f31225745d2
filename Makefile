# Every target installs what it needs from uv.lock first, so each one works as the first
# command on a fresh clone. uv is bootstrapped with pip when it is not on PATH.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
RUN := $(UV) run --frozen --no-sync

.PHONY: help install test unit lint format docs bench policy-venv plan doctor local redrive \
	resources filter-test graph-golden package-schema

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: ## install the locked toolchain into .venv (bootstraps uv if absent)
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

# The suite runs in parallel (pytest-xdist): each worker process starts its own embedded
# emulator (the session fixtures of tests/integration/conftest.py), so workers share nothing.
# WORKERS=0 runs it in this process only.
WORKERS ?= auto

test: install ## run every test: unit (Pulumi mocks, handler) and integration (embedded emulator), in parallel
	$(RUN) pytest -n $(WORKERS)

unit: install ## unit tests only
	$(RUN) pytest tests/unit

# Each operator target is an alias of the `streamops` console script (`uv run streamops --help`;
# streamops/cli/): make variables become its options, ARGS="..." passes any other option.
STACK_OPTION = $(if $(STACK),--stack "$(STACK)")

local: install ## the whole pipeline on this machine, no AWS account: sample data, function logs, summary (FOLLOW=1 keeps running)
	$(RUN) streamops local $(if $(FOLLOW),--follow) $(if $(PORT),--port $(PORT)) $(ARGS)

resources: install ## what a stack declares, under mocks (no AWS, no Pulumi CLI): make resources STACK=dev [DIFF=prod]
	$(RUN) streamops resources $(STACK_OPTION) $(if $(DIFF),--diff "$(DIFF)") $(ARGS)

doctor: install ## deployed-stack checks: STACK=<name> after `pulumi up`, else the embedded emulator (PROBE=1: end-to-end probe too)
	$(RUN) streamops doctor $(STACK_OPTION) $(if $(PROBE),--probe) $(ARGS)

# make redrive: ACTION list (default), archive (needs ARCHIVE=FILE) or replay; optional STACK,
# QUEUE, ARCHIVE (alone: ACTION=archive; with replay: archive first), MAX, YES=1 (replay without
# asking), DROP_EXPIRED=1.
REDRIVE_ACTION = $(or $(ACTION),$(if $(ARCHIVE),archive,list))
redrive: install ## recover the failure queue: make redrive STACK=dev [ACTION=list|archive|replay] [ARCHIVE=f.jsonl]
	$(RUN) streamops redrive $(REDRIVE_ACTION) $(if $(filter archive,$(REDRIVE_ACTION)),"$(ARCHIVE)",$(if $(ARCHIVE),--archive "$(ARCHIVE)")) $(STACK_OPTION) $(if $(QUEUE),--queue "$(QUEUE)") $(if $(MAX),--max $(MAX)) $(if $(YES),--yes) $(if $(DROP_EXPIRED),--drop-expired) $(ARGS)

lint: install ## ruff lint + format check, mypy, actionlint (GitHub workflows)
	@echo "== ruff check"
	$(RUN) ruff check .
	@echo "== ruff format --check"
	$(RUN) ruff format --check .
	@echo "== mypy (the first run takes about a minute while it fills .mypy_cache; then seconds)"
	$(RUN) mypy .
	@echo "== actionlint"
	$(RUN) actionlint

format: install ## apply ruff fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

docs: install ## regenerate the README's configuration reference from components/config/
	$(RUN) python -m streamops.generators.config_reference

bench: install ## benchmark the stream processor vs Powertools' BatchProcessor (results in build/bench/; RECORD=1: bench/results.json)
	$(RUN) streamops bench $(if $(RECORD),--record) $(ARGS)

policy-venv: install ## policy/venv for `pulumi preview --policy-pack policy` (requirements pinned by uv.lock)
	$(UV) venv --quiet --allow-existing policy/venv
	$(UV) pip install --quiet --python policy/venv/bin/python -r policy/requirements.txt \
		--constraint <($(UV) export --frozen --all-groups --no-hashes --no-emit-project --quiet)

# make plan: optional PEAK, ITEM_BYTES, MIX, LOG_RETENTION_DAYS, TABLE_GB become options.
PLAN_OPTIONS = $(if $(PEAK),--peak="$(PEAK)") $(if $(ITEM_BYTES),--item-bytes="$(ITEM_BYTES)") \
	$(if $(MIX),--mix="$(MIX)") $(if $(TABLE_GB),--table-gb="$(TABLE_GB)") \
	$(if $(LOG_RETENTION_DAYS),--log-retention-days="$(LOG_RETENTION_DAYS)")

plan: install ## monthly cost and capacity at a write rate: make plan STACK=dev WRITES=5/s [PEAK=50/s]
	$(RUN) streamops plan --stack="$(STACK)" --writes="$(WRITES)" $(strip $(PLAN_OPTIONS)) $(ARGS)

# make filter-test: STACK (its patterns) or PATTERN (JSON or @file), and RECORD (file or -)
# or ITEM (DynamoDB JSON or @file) with EVENT=INSERT|MODIFY|REMOVE and OLD_ITEM; JSON=1.
FILTER_TEST_OPTIONS = $(if $(STACK),--stack="$(STACK)") $(if $(PATTERN),--pattern='$(PATTERN)') \
	$(if $(ITEM),--item='$(ITEM)') $(if $(EVENT),--event-name="$(EVENT)") \
	$(if $(OLD_ITEM),--old-item='$(OLD_ITEM)') $(if $(JSON),--json) $(RECORD)

filter-test: install ## does a record pass the trigger's filters: make filter-test STACK=dev ITEM=@item.json [EVENT=MODIFY OLD_ITEM=@old.json]
	$(RUN) streamops filter test $(strip $(FILTER_TEST_OPTIONS))

graph-golden: install ## regenerate the dev/prod resource-graph golden files (only when a resource change is intended; review the diff)
	$(RUN) python -m tests.support.graph --write

package-schema: install ## regenerate components/pipeline_args.py (from components/config/) and docs/package-schema.json
	$(RUN) python -m streamops.generators.package_schema --write
