# The two commands: `make run` (dashboard over the demo warehouse) and `make test` (the whole suite).
SHELL := /bin/bash
# The first interpreter that runs and is 3.11+ (a pyenv shim may exist for a version that is not active).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test bench install install-dev clean

$(VENV)/.python-ok:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed: install it, or set PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	@touch $@

$(VENV)/.installed: $(VENV)/.python-ok pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Without your own scorecard.toml (or $$SCORECARD_CONFIG) the demo runs with the example's governance
# inventory, owners, stop conditions and budgets applied, so every page tells the demo's story.
DEMO_CONFIG := $(if $(wildcard scorecard.toml),scorecard.toml,scorecard.toml.example)

run: install
	SCORECARD_CONFIG=$${SCORECARD_CONFIG:-$(DEMO_CONFIG)} $(BIN)/scorecard demo --if-empty
	SCORECARD_CONFIG=$${SCORECARD_CONFIG:-$(DEMO_CONFIG)} $(BIN)/streamlit run app/streamlit_app.py --server.port $(PORT)

test: install-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: install-dev
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
