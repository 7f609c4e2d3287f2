# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LISTEN ?= 127.0.0.1:50051
DATA   ?= var

.PHONY: run test lint protos bench eval install dev clean system-deps

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Installed-marker files: re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

## run: create .venv, install, start the sidecar on embedded defaults
run: install
	$(PY) -m sidecar serve --policies policies.yaml --listen $(LISTEN) --data-dir $(DATA)

# Tests start a throwaway PostgreSQL server from Debian's binaries, and the
# network-namespace test needs `ip`; as root on Debian, install whichever is missing.
PG_BINDIR := $(firstword $(shell pg_config --bindir 2>/dev/null) $(lastword $(sort $(wildcard /usr/lib/postgresql/*/bin))))
system-deps:
	@missing=""; \
	[ -x "$(PG_BINDIR)/initdb" ] || missing="$$missing postgresql"; \
	command -v ip >/dev/null 2>&1 || missing="$$missing iproute2"; \
	command -v runuser >/dev/null 2>&1 || missing="$$missing util-linux"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## test: install test dependencies and run the whole suite
test: dev system-deps
	$(PY) protos/generate.py --check
	$(PY) -m pytest

## lint: formatting, lint rules and strict typing
lint: dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy sidecar governance evaluation

## protos: regenerate sidecar/v1 from protos/
protos: dev
	$(PY) protos/generate.py

## bench: Redact and BeginInference+EndInference through gRPC vs stock Presidio in-process,
## with a 10-minute memory soak, and the labelled-corpus quality comparison (leak rate and
## precision per entity type, over-redaction); then the encrypted log store (records/s with
## and without encryption, seal/open MB/s), the audit ledger (appends/s, proofs and
## verification at 1 M entries) and the screening path with the ledger on vs off; prints
## tables, writes JSON under bench/results/
bench: dev system-deps
	$(PY) -m bench.redact --soak-minutes 10
	$(PY) -m evaluation --markdown --json bench/results/quality.json
	$(PY) -m bench.store
	$(PY) -m bench.ledger
	$(PY) -m bench.ledger_overhead

## eval: detection quality on the labelled corpus (evaluation/data), the sidecar's detection
## and stock Presidio side by side: leak rate, precision/recall/F2 per type, over-redaction;
## prints the table, writes evaluation/results/latest.json
eval: dev
	$(PY) -m evaluation $(EVAL_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
