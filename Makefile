# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LISTEN ?= 127.0.0.1:50051
DATA   ?= var

.PHONY: run test lint protos bench install dev clean system-deps

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

# The network-namespace test needs `ip` (iproute2); as root on Debian we install it.
system-deps:
	@if ! command -v ip >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2; \
	fi

## test: install test dependencies and run the whole suite
test: dev system-deps
	$(PY) protos/generate.py --check
	$(PY) -m pytest

## lint: formatting, lint rules and strict typing
lint: dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy sidecar governance

## protos: regenerate sidecar/v1 from protos/
protos: dev
	$(PY) protos/generate.py

## bench: Redact through gRPC vs stock Presidio in-process (prints a table, writes JSON)
bench: dev
	$(PY) -m bench.redact

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
