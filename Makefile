# The two commands a newcomer needs:  make demo   and   make test
# Both create .venv and install cliplens into it with the pinned versions of requirements.lock
# (runtime) / requirements-dev.lock (tests, benchmarks, lint), used as constraints: each target
# installs only what it needs. `make demo` = the core package (no server, search, tests...).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install -q --disable-pip-version-check
EXAMPLE := cliplens/_bundled/examples/toyworld.png

.PHONY: install install-demo demo test test-fast lint wheel-check browser lock clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# core only: what `make demo` needs
$(BIN)/.installed-demo: requirements.lock pyproject.toml | $(BIN)/python
	$(PIP) -c requirements.lock -e .
	touch $@

# everything the tests, benchmarks and linters use
$(BIN)/.installed: requirements.lock requirements-dev.lock pyproject.toml | $(BIN)/python
	$(PIP) -c requirements.lock -c requirements-dev.lock -e ".[dev]"
	touch $@ $(BIN)/.installed-demo

install: $(BIN)/.installed
install-demo: $(BIN)/.installed-demo

## demo: image -> prompt with the bundled toy CLIP and toy captioner, offline
demo: install-demo
	CLIPLENS_OFFLINE=1 $(BIN)/cliplens interrogate $(EXAMPLE) --model toyclip --caption-model toycaption

## browser: Debian's chromium for the end-to-end page tests (no-op when present)
browser:
	bash scripts/install_browser.sh

## lint: ruff (pyflakes/pycodestyle/bugbear) and the import layering contracts (pyproject.toml)
lint: install
	status=0; $(BIN)/ruff check cliplens tests benchmarks scripts || status=1; \
	$(BIN)/lint-imports || status=1; exit $$status

## test: lint, the wheel-install check, and the whole suite (unit, services, real browser);
## the suite runs even when lint fails, and the target fails if either did
test: install browser
	status=0; $(MAKE) --no-print-directory lint || status=1; \
	CLIPLENS_OFFLINE=1 $(BIN)/python -m pytest -n 2 --dist loadgroup -q || status=1; \
	exit $$status

## test-fast: skip the browser, service and wheel-install tests
test-fast: install
	CLIPLENS_OFFLINE=1 $(BIN)/python -m pytest -n 2 -q -m "not browser and not services and not install"

## wheel-check: only the installed-wheel check (build, fresh venv outside the repo, run the CLI)
wheel-check: install
	CLIPLENS_OFFLINE=1 $(BIN)/python -m pytest -q -m install tests/test_install.py

## lock: re-resolve the pins after editing pyproject.toml's dependencies
lock: install
	$(BIN)/python scripts/lock.py

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
