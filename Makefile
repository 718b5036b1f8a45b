# The two commands: `make serve` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
RUNTIME := $(VENV)/.installed-runtime
NODE_DEPS := tests/interop/node_modules/.installed
# vdirsyncer and khal for the subscriber interop test, in a venv of their own (no clashes).
SUBSCRIBERS_VENV := tests/interop/.subscribers-venv
SUBSCRIBERS := $(SUBSCRIBERS_VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test lint check install system-deps clean

# What `make serve` needs: the app and its runtime dependencies, no test tools.
$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# What `make test` needs besides: the test, lint and PostgreSQL extras.
$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,postgres]"
	touch $@ $(RUNTIME)

$(NODE_DEPS): tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(SUBSCRIBERS): tests/interop/subscribers.txt
	rm -rf $(SUBSCRIBERS_VENV)
	$(PYTHON) -m venv $(SUBSCRIBERS_VENV)
	$(SUBSCRIBERS_VENV)/bin/python -m pip install --quiet -r tests/interop/subscribers.txt
	touch $@

install: $(INSTALLED)

system-deps:
	bash scripts/system-deps.sh

serve: $(RUNTIME)
	$(BIN)/diplocal serve --demo --host $(HOST) --port $(PORT)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(INSTALLED) $(NODE_DEPS) $(SUBSCRIBERS) system-deps lint
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) tests/interop/node_modules $(SUBSCRIBERS_VENV)
