# The two commands: `make run` (dashboard over the demo warehouse) and `make test` (the whole suite).
SHELL := /bin/bash
# The first interpreter that runs and is 3.11+ (a pyenv shim may exist for a version that is not active).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
ADDRESS ?= 127.0.0.1

.PHONY: run test bench install install-dev lock clean

$(VENV)/.python-ok:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed: install it, or set PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	@touch $@

# The exact versions the suite passed with, every file checked against its hash: requirements.lock (to run)
# and requirements-dev.lock (to test), made from pyproject.toml's lower bounds by `make lock`. Installed
# with uv when the package index has it (seconds), else with plain pip (a minute or two); pip also takes
# over when uv cannot reach its index (uv does not read pip's configuration, e.g. a mirror in PIP_INDEX_URL).
UV_VERSION := 0.13.9
define install_lock
	@if $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)" >/dev/null 2>&1 && \
		echo "uv pip install -r $(1)" && \
		$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r $(1) && \
		$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .; then :; else \
		echo "uv is not available (or could not reach its index): pip install -r $(1)"; \
		$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r $(1) && \
		$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .; \
	fi
endef

$(VENV)/.installed: $(VENV)/.python-ok pyproject.toml requirements.lock
	$(call install_lock,requirements.lock)
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(call install_lock,requirements-dev.lock)
	@touch $@

# Re-resolve the lock files after a change to pyproject.toml's dependencies (pins kept where they still fit).
lock: $(VENV)/.installed
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 \
		--custom-compile-command "make lock" --quiet -o requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 -c requirements-dev.lock \
		--custom-compile-command "make lock" --quiet -o requirements.lock

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Without your own scorecard.toml (or $$SCORECARD_CONFIG) the demo runs with the example's governance
# inventory, owners, stop conditions and budgets applied, so every page tells the demo's story.
DEMO_CONFIG := $(if $(wildcard scorecard.toml),scorecard.toml,scorecard.toml.example)

run: install
	SCORECARD_CONFIG=$${SCORECARD_CONFIG:-$(DEMO_CONFIG)} $(BIN)/scorecard demo --if-empty
	SCORECARD_CONFIG=$${SCORECARD_CONFIG:-$(DEMO_CONFIG)} $(BIN)/streamlit run app/serve.py --server.port $(PORT) --server.address $(ADDRESS)

test: install-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: install-dev
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
