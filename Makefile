# The two commands of the quick start are `make up` and `make test`; each installs what it needs.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)
UV := uv run --frozen

.PHONY: up test bench chaos lint typecheck unit docs bootstrap

bootstrap:
	@scripts/bootstrap.sh

## Start Kafka, PostgreSQL and the five services (ops console included) with demo data, in the foreground (Ctrl-C stops all).
up: bootstrap
	$(UV) hotline-dev up

## The whole suite: lint, types, then unit, integration and end-to-end tests on real Kafka and PostgreSQL.
test: bootstrap lint typecheck
	$(UV) hotline-dev run -- python -m pytest $(PYTEST_ARGS)

lint:
	$(UV) ruff check .

typecheck:
	$(UV) mypy libs services tools

## Only the tests that need no infrastructure.
unit: bootstrap
	$(UV) python -m pytest tests/unit $(PYTEST_ARGS)

## Place search, on-call queries, nearest centers and routing decisions beside brute-force scans; end-to-end latency and throughput beside the raw
## Kafka round trip; notify's alerts/s and routed → webhook latency beside a raw consume → POST; intake's accepted cases/s and
## accept latency beside a bare FastAPI endpoint; the outbox relay beside direct produce.
## Each baseline is measured in the same run. Last, the whole-platform load generator (hotline-load, tools/load): rising
## rates through all three channels, the highest that holds p99 < 1 s; LOAD_ARGS="--rate 500 --duration 300" for the
## 5-minute target run (see `uv run hotline-load --help`).
LOAD_ARGS ?= --steps 15,20,30,50 --duration 30
bench: bootstrap
	$(UV) python bench/places_search.py
	$(UV) python bench/oncall.py
	$(UV) python bench/routing_index.py
	$(UV) python bench/routing_decisions.py
	$(UV) python bench/e2e_latency.py $(BENCH_ARGS)
	$(UV) python bench/notify_dispatch.py $(NOTIFY_BENCH_ARGS)
	$(UV) python bench/intake_accept.py $(INTAKE_BENCH_ARGS)
	HOTLINE_DEV_RUN_STATE=bench-outbox TEST_KAFKA_PORT=49292 TEST_KAFKA_CONTROLLER_PORT=49293 TEST_PG_PORT=45632 \
		$(UV) hotline-dev run -- python bench/outbox_relay.py
	$(UV) hotline-load $(LOAD_ARGS)

## Faults under load (hotline-chaos, tools/load): each of the six services SIGKILLed and restarted, Kafka and PostgreSQL
## stopped and started, failing and slow responder webhooks during a burst, routing scaled 1 → 3 → 1, and the leader
## of the case topic killed on a three-node KRaft cluster, all at a steady 20 cases/s; one summary table, exit 1 if a
## case was lost or an alert doubled. About 16–20 minutes; CHAOS_ARGS="--only kill-notify,channels" for some.
chaos: bootstrap
	$(UV) hotline-chaos $(CHAOS_ARGS)

## Regenerate the README settings table and the events' JSON Schemas.
docs:
	$(UV) python -m hotline_common.settings_doc
	$(UV) python -m hotline_common.schemas
