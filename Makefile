# Every target sets itself up: a virtualenv with the project installed (editable).
#
# PYTHON names the interpreter the virtualenv is made from, or several to take the first of: the
# first that runs and is 3.11 or newer, found on PATH or, where pyenv is used, among pyenv's
# installed versions even when not selected. On 3.11 and 3.12 both engines run; durable_rules does
# not import on 3.13. VENV is the virtualenv's folder, one per Python:
#   make test PYTHON=python3.13 VENV=.venv313
PYTHON ?= python3.11 python3.12 python3.13 python3
PY := $(shell for p in $(PYTHON); do \
  for c in "$$p" "$$(pyenv root 2>/dev/null)"/versions/*/bin/"$$p"; do \
    "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v "$$c"; exit 0; }; \
  done; done)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
CHROMIUM := /usr/bin/chromium
PORT ?= 8000
# Reverse proxies whose X-Forwarded-For is believed, by uvicorn and PeerCheck alike: none by default
# (uvicorn alone would believe 127.0.0.1). make run FORWARDED_ALLOW_IPS=127.0.0.1 behind a local proxy.
FORWARDED_ALLOW_IPS ?=

.PHONY: run test browser axe e2e fuzz load install serve-install which-python openapi bench bench-peers clean image

$(BIN)/python:
	@if [ -z "$(PY)" ]; then \
	  echo "PeerCheck needs Python 3.11 or newer; none runs here as: $(PYTHON)" >&2; \
	  echo "Install Python 3.11, 3.12 or 3.13, or name one: make $(MAKECMDGOALS) PYTHON=/path/to/python3.12" >&2; \
	  exit 1; fi
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The interpreter PYTHON resolves to, or nothing: make -s which-python PYTHON=python3.13
which-python:
	@echo $(PY)

# Two install stamps: what serving needs (make run, the peercheck command), and that plus the test
# tools (make test, make install). Each is redone when pyproject.toml changes.
$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-serve

# For development: the project, the peercheck command and the test tools.
install: $(VENV)/.installed-test

serve-install: $(VENV)/.installed-serve

run: serve-install
	@echo "PeerCheck: open http://$(HOST):$(PORT)/ (the page for TA providers, the API docs, the health check)"
	FORWARDED_ALLOW_IPS="$(FORWARDED_ALLOW_IPS)" $(BIN)/python -m uvicorn api.main:app --host $(HOST) --port $(PORT) --no-access-log

test: install browser axe
	$(BIN)/python -m pytest -q

# The browser test (tests/test_ui_e2e.py) runs in headless Chromium: Debian's chromium package,
# installed with apt-get when missing and running as root, driven by the Python playwright
# package (never `playwright install`: no browser is downloaded). Where neither can be had the
# test skips with a message; an install failure does not fail the build.
browser: install
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "browser: installing chromium with apt-get (about 30 s)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	      || echo "browser: chromium could not be installed: the browser test will skip"; \
	  else \
	    echo "browser: $(CHROMIUM) is missing and apt-get cannot run here (needs root): the browser test will skip"; \
	  fi; \
	fi
	@$(BIN)/python -c 'import playwright' 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[test,e2e]' \
	  || echo "browser: playwright could not be installed: the browser test will skip"

# axe-core, the accessibility checker the browser test runs on every kind of page, from npm into
# .cache/axe (gitignored). Without npm, or when the install fails, those checks skip saying why.
AXE := .cache/axe/node_modules/axe-core/axe.min.js
axe:
	@[ -f $(AXE) ] || { command -v npm >/dev/null \
	  && mkdir -p .cache/axe \
	  && (cd .cache/axe && npm install --silent --no-audit --no-fund --no-save axe-core@4 >/dev/null 2>&1) \
	  || echo "axe: axe-core could not be installed with npm: the accessibility checks of the browser test will skip"; }

# Only the browser test (screenshots in test-output/).
e2e: browser axe
	$(BIN)/python -m pytest -q -rs tests/test_ui_e2e.py

# Long contract fuzzing: schemathesis over every operation, ~10,000 generated requests, zero 5xx.
fuzz: install
	PEERCHECK_FUZZ_EXAMPLES=800 $(BIN)/python -m pytest -q -p no:randomly tests/test_schemathesis.py
	@cat test-output/fuzz-requests.txt

# Long load run: 16 clients, 100,000 checked evaluations against a real server.
load: install
	$(BIN)/python -m bench.load --clients 16 --total 100000

openapi: install
	$(BIN)/python -m api.openapi_export > openapi.yaml

# Engine throughput (both engines, two corpora), where the time goes, start-up at 4x the rules,
# memory over 100,000 evaluations, then the HTTP targets with wrk (Debian's wrk package; skipped
# with a message without it) against a bare FastAPI app, HTTP throughput and latency against a
# no-op endpoint, batch throughput with one and two workers, both decision-log durability
# settings, then the peer engines (bench-peers). Every target is printed with its ratio and PASS
# or FAIL. About 6 minutes.
bench: install
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.http
	$(MAKE) bench-peers

# PeerCheck side by side with GoRules ZEN (the current binding, and 0.37.x in its own virtualenv
# since both are the package zen-engine), Rego (regorus) and CEL on the same fifteen rules and
# 1,000 profiles, after checking that every engine gives the same answers. About 1 minute.
# An engine that cannot be installed is skipped with a message.
ZEN_037 := .venv-zen-0.37

$(VENV)/.bench-installed: pyproject.toml | $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e '.[test,bench]' \
	  || echo "bench-peers: the bench extra could not be installed: engines that are missing are skipped"
	touch $@

bench-peers: install $(VENV)/.bench-installed
	@[ -x $(ZEN_037)/bin/python ] || { $(PY) -m venv $(ZEN_037) \
	  && $(ZEN_037)/bin/python -m pip install --quiet 'zen-engine==0.37.1'; } \
	  || echo "bench-peers: zen-engine 0.37.1 could not be installed: its row is skipped"
	$(BIN)/python -m bench.peers

# The container image (Dockerfile; compose.yaml runs it with PostgreSQL). Needs a container engine.
IMAGE ?= peercheck:latest
image:
	docker build -t $(IMAGE) .

clean:
	rm -rf $(VENV) $(ZEN_037) .pytest_cache .hypothesis
