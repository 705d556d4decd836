# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing.
SHELL := /bin/bash
VENV := .local/venv
STAMP := $(VENV)/.installed

.PHONY: install run test test-unit fuzz lint bench infra-up infra-down openapi clean

install: $(STAMP)

$(STAMP): pyproject.toml shared/events/pyproject.toml shared/servicekit/pyproject.toml \
          services/crm/pyproject.toml services/erp/pyproject.toml deploy/local/bootstrap.sh
	deploy/local/bootstrap.sh
	touch $@

run: install            ## PostgreSQL + Kafka on loopback, migrate, CRM and ERP web + workers
	deploy/local/run.sh

test: install           ## unit, database and integration tests against real PostgreSQL and Kafka
	deploy/local/test.sh

fuzz: install           ## longer runs: schemathesis 15 minutes per service, the books state machine 20,000 steps, 30 kills of each worker
	SCHEMATHESIS_SECONDS=$${SCHEMATHESIS_SECONDS:-900} BOOKS_STEPS=$${BOOKS_STEPS:-20000} FAULT_KILLS=$${FAULT_KILLS:-30} \
	  deploy/local/test.sh tests/integration/test_schemathesis.py services/erp/tests/test_books_invariants.py \
	  tests/faults/test_faults.py::test_relay_and_consumer_killed_at_random_moments

test-unit: install      ## only the tests that need no server
	$(VENV)/bin/python -m pytest -p no:cacheprovider -m "not db and not integration"

lint: install
	$(VENV)/bin/ruff check .

bench: install          ## throughput and propagation latency figures (starts its own servers)
	deploy/local/bench.sh

infra-up: install       ## only PostgreSQL and Kafka (same ports as `make run`)
	deploy/local/infra.sh up

infra-down:
	deploy/local/infra.sh down

openapi: install         ## export the OpenAPI documents to docs/openapi/ (a test catches drift)
	mkdir -p docs/openapi
	$(VENV)/bin/crm openapi > docs/openapi/crm.json
	$(VENV)/bin/erp openapi > docs/openapi/erp.json

clean:
	deploy/local/infra.sh down || true
	rm -rf .local/run .local/test .local/bench
