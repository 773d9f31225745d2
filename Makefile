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
	graph-golden package-schema

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: ## install the locked toolchain into .venv (bootstraps uv if absent)
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

test: install ## run every test: unit (Pulumi mocks, handler) and integration (embedded emulator)
	$(RUN) pytest

unit: install ## unit tests only
	$(RUN) pytest tests/unit

local: install ## the whole pipeline on this machine, no AWS account: sample data, function logs, summary (FOLLOW=1 keeps running)
	$(RUN) python -m streamops.demo.command $(if $(FOLLOW),--follow) $(if $(PORT),--port $(PORT))

doctor: install ## deployed-stack checks: STACK=<name> after `pulumi up`, else the embedded emulator (PROBE=1: end-to-end probe too)
	$(RUN) python -m streamops.doctor.command $(if $(STACK),--stack $(STACK)) $(if $(PROBE),--probe)

# make redrive: ACTION list (default), archive (needs ARCHIVE=FILE) or replay; optional STACK,
# QUEUE, ARCHIVE, MAX, YES=1 (replay without asking), DROP_EXPIRED=1 (with ARCHIVE).
REDRIVE_ACTION = $(or $(ACTION),list)
REDRIVE_OPTIONS = $(if $(STACK),--stack="$(STACK)") $(if $(QUEUE),--queue="$(QUEUE)") \
	$(if $(filter-out list archive replay,$(REDRIVE_ACTION)),$(error ACTION must be list, archive or replay)) \
	$(if $(filter archive,$(REDRIVE_ACTION)),$(if $(ARCHIVE),,$(error ACTION=archive needs ARCHIVE=FILE))) \
	$(if $(ARCHIVE),--archive="$(ARCHIVE)") $(if $(filter replay,$(REDRIVE_ACTION)),--replay) \
	$(if $(MAX),--max="$(MAX)") $(if $(YES),--yes) $(if $(DROP_EXPIRED),--drop-expired)

redrive: install ## recover the failure queue: make redrive STACK=dev [ACTION=list|archive|replay] [ARCHIVE=f.jsonl]
	$(RUN) python -m streamops.redrive.command $(strip $(REDRIVE_OPTIONS))

lint: install ## ruff lint + format check, mypy, actionlint (GitHub workflows)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy .
	$(RUN) actionlint

format: install ## apply ruff fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

docs: install ## regenerate the README's configuration reference from components/config.py
	$(RUN) python -m streamops.config_reference

bench: install ## benchmark the stream processor vs Powertools' BatchProcessor (prints ratios)
	$(RUN) python bench/bench_handler.py

policy-venv: install ## policy/venv for `pulumi preview --policy-pack policy` (requirements pinned by uv.lock)
	$(UV) venv --quiet --allow-existing policy/venv
	$(UV) pip install --quiet --python policy/venv/bin/python -r policy/requirements.txt \
		--constraint <($(UV) export --frozen --all-groups --no-hashes --no-emit-project --quiet)

# make plan: optional PEAK, ITEM_BYTES, MIX, LOG_RETENTION_DAYS, TABLE_GB become options.
PLAN_OPTIONS = $(if $(PEAK),--peak="$(PEAK)") $(if $(ITEM_BYTES),--item-bytes="$(ITEM_BYTES)") \
	$(if $(MIX),--mix="$(MIX)") $(if $(TABLE_GB),--table-gb="$(TABLE_GB)") \
	$(if $(LOG_RETENTION_DAYS),--log-retention-days="$(LOG_RETENTION_DAYS)")

plan: install ## monthly cost and capacity at a write rate: make plan STACK=dev WRITES=5/s [PEAK=50/s]
	$(RUN) python -m streamops.planner.command --stack="$(STACK)" --writes="$(WRITES)" $(strip $(PLAN_OPTIONS))

graph-golden: install ## regenerate the dev/prod resource-graph golden files (only when a resource change is intended; review the diff)
	$(RUN) python -m tests.support.graph --write

package-schema: install ## regenerate components/pipeline_args.py (from components/config.py) and docs/package-schema.json
	$(RUN) python -m streamops.package_schema --write
