# The two commands a newcomer needs:  make demo   and   make test
# Both create .venv from requirements.lock (exact pins; torch/torchvision come from the wheels
# already on this machine's disk) and install cliplens into it. Nothing else is downloaded.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := cliplens/_bundled/examples/toyworld.png

.PHONY: install demo test test-fast browser clean

$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

install: $(BIN)/.installed

## demo: image -> prompt with the bundled toy CLIP and toy captioner, offline
demo: install
	CLIPLENS_OFFLINE=1 $(BIN)/cliplens interrogate $(EXAMPLE) --model toyclip --caption-model toycaption

## browser: Debian's chromium for the end-to-end page tests (no-op when present)
browser:
	bash scripts/install_browser.sh

## test: the whole suite (unit, services, real browser)
test: install browser
	CLIPLENS_OFFLINE=1 $(BIN)/python -m pytest -n 2 --dist loadgroup -q

## test-fast: skip the browser and service tests
test-fast: install
	CLIPLENS_OFFLINE=1 $(BIN)/python -m pytest -n 2 -q -m "not browser and not services"

clean:
	rm -rf $(VENV) .pytest_cache
