# Every set-up step the project needs lives here: `make test` and `make demo` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ANVIL := .tools/node_modules/.bin/anvil
STAMP := $(VENV)/.installed

.PHONY: install tools browser test test-fast lint typecheck demo contracts wheel clean

install: $(STAMP) tools

$(STAMP): pyproject.toml setup.py
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

tools: $(ANVIL)

$(ANVIL): .tools/package.json .tools/package-lock.json
	cd .tools && npm install --ignore-scripts --no-audit --no-fund
	touch $(ANVIL)

# The dashboard's and the reports' browser tests drive Debian's Chromium (no browser download); the 80-column
# terminal test (tests/integration/test_cli_80_columns.py) runs the commands in Debian's tmux. CI runs as root.
CHROMIUM := /usr/bin/chromium
TMUX := /usr/bin/tmux
browser: $(CHROMIUM) $(TMUX)

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium chromium-driver

$(TMUX):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q tmux

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

# Pure unit tests only (no sockets, no processes, no EVM: tests/unit/conftest.py enforces it), without the few
# slow ones (compiles, long searches; `make test` runs those): under a minute.
test-fast: install
	$(BIN)/pytest -q -n 2 -m "not slow" tests/unit

test: install browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python contracts/compile.py --check
	$(BIN)/python contracts/official.py --check
	$(BIN)/python -m agent.devtools.sandbox.states --check
	$(BIN)/pytest -n 2 --dist loadgroup

# The sandbox on two chains + a replayed real market + the agent loop; prints a report, writes report.html.
demo: install
	$(BIN)/rebalancer demo --report report.html

contracts: install
	$(BIN)/python contracts/compile.py
	$(BIN)/python contracts/official.py
	$(BIN)/python -m agent.devtools.sandbox.states

# The installable wheel (chains/, abis/, data/, contracts/build/ inside as package data) in dist/.
# tests/packaging/test_wheel.py (in `make test`) builds one, installs it in a fresh venv and runs the sandbox with it.
wheel: install
	$(BIN)/python -m build --wheel --no-isolation --outdir dist .

clean:
	-$(BIN)/rebalancer sandbox down
	rm -rf $(VENV) .tools/node_modules .pytest_cache .ruff_cache build dist *.egg-info
