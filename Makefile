# stormdesk: `make demo` runs the demo city, `make test` runs every check CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core for the browser tests' accessibility checks (tests/web/axe.py), pinned in the lock.
AXE_DIR := tests/web/axe-core
AXE := $(AXE_DIR)/node_modules/axe-core/axe.min.js
# fonts-wqy-microhei: CJK glyphs for the Chinese pages in headless Chromium (screenshots, tests).
APT_PACKAGES := postgresql-15 postgresql-15-postgis-3 chromium chromium-driver etcd-server haproxy nginx \
  fonts-wqy-microhei

.PHONY: demo test lint unit fuzz sysdeps install bench screenshots clean

demo: sysdeps $(STAMP)
	$(BIN)/stormdesk demo

test: sysdeps $(STAMP) lint unit fuzz

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Two workers, whole files per worker (a file's tests share module fixtures and order).
TEST_WORKERS ?= 2
unit: $(STAMP) $(AXE)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

# Schemathesis over /openapi.json, anonymous and as admin, --checks all (a few minutes).
fuzz: $(STAMP)
	$(BIN)/pytest -q -m fuzz tests/web/test_fuzz_openapi.py

install: $(STAMP) $(AXE)

# Installs the system packages that are missing (as root with apt, else with sudo).
sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# Compile the routing polish once here (about 20 s; numba caches it on disk), so the
	# first plan a dispatcher asks for is not spent compiling.
	$(BIN)/python -c "import routing.sisr"
	touch $(STAMP)

$(AXE): $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	npm ci --prefix $(AXE_DIR) --no-audit --no-fund
	touch $(AXE)

bench: $(STAMP)
	$(BIN)/python -m bench.locate --quick
	$(BIN)/python -m bench.geocode --quick

# The README's screenshots (docs/img/), from a demo of their own in a temporary directory.
screenshots: sysdeps $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	-$(BIN)/stormdesk db stop
	rm -rf var $(VENV) $(AXE_DIR)/node_modules
