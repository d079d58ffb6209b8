# Every target sets itself up: a virtualenv in .venv with the project installed (editable).
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
CHROMIUM := /usr/bin/chromium
PORT ?= 8000

.PHONY: run test browser e2e fuzz load install openapi bench bench-peers clean image

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python -m uvicorn api.main:app --host $(HOST) --port $(PORT)

test: install browser
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

# Only the browser test (screenshots in test-output/).
e2e: browser
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

# Engine throughput (both engines, two corpora), where the time goes, start-up, memory over
# 100,000 evaluations, then HTTP throughput and latency against a no-op endpoint, batch throughput
# with one and two workers, both decision-log durability settings, then the peer engines
# (bench-peers). About 3 minutes.
bench: install
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.http
	$(MAKE) bench-peers

# PeerCheck side by side with GoRules ZEN (the current binding, and 0.37.x in its own virtualenv
# since both are the package zen-engine), Rego (regorus) and CEL on the same fifteen rules and
# 1,000 profiles, after checking that every engine gives the same answers. About 1 minute.
# An engine that cannot be installed is skipped with a message.
ZEN_037 := .venv-zen-0.37

$(VENV)/.bench-installed: pyproject.toml | $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench]' \
	  || echo "bench-peers: the bench extra could not be installed: engines that are missing are skipped"
	touch $@

bench-peers: install $(VENV)/.bench-installed
	@[ -x $(ZEN_037)/bin/python ] || { $(PYTHON) -m venv $(ZEN_037) \
	  && $(ZEN_037)/bin/python -m pip install --quiet 'zen-engine==0.37.1'; } \
	  || echo "bench-peers: zen-engine 0.37.1 could not be installed: its row is skipped"
	$(BIN)/python -m bench.peers

# The container image (Dockerfile; compose.yaml runs it with PostgreSQL). Needs a container engine.
IMAGE ?= peercheck:latest
image:
	docker build -t $(IMAGE) .

clean:
	rm -rf $(VENV) $(ZEN_037) .pytest_cache .hypothesis
