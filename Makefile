# Every set-up step the project needs lives here: `make test` and `make demo` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ANVIL := .tools/node_modules/.bin/anvil
STAMP := $(VENV)/.installed

.PHONY: install tools test lint demo contracts clean

install: $(STAMP) tools

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

tools: $(ANVIL)

$(ANVIL): .tools/package.json .tools/package-lock.json
	cd .tools && npm install --no-audit --no-fund
	touch $(ANVIL)

lint: install
	$(BIN)/ruff check .

test: install
	$(BIN)/ruff check .
	$(BIN)/python contracts/compile.py --check
	$(BIN)/pytest -n 2 --dist loadgroup

# Until `rebalancer demo` (the replayed market + agent loop) lands: the sandbox, its status, and down.
demo: install
	$(BIN)/rebalancer sandbox down >/dev/null 2>&1 || true
	$(BIN)/rebalancer sandbox up
	ENV_FILE=.sandbox/sandbox.env $(BIN)/rebalancer status || ($(BIN)/rebalancer sandbox down; exit 1)
	ENV_FILE=.sandbox/sandbox.env $(BIN)/rebalancer status --json > .sandbox/status.json
	$(BIN)/rebalancer sandbox down

contracts: install
	$(BIN)/python contracts/compile.py

clean:
	-$(BIN)/rebalancer sandbox down
	rm -rf $(VENV) .tools/node_modules .pytest_cache .ruff_cache
