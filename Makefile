# Majlis: `make run` to try it, `make test` to check it. `make help` lists the rest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the tests use: a PostgreSQL server they start themselves,
# Chromium for the browser tests, and Noto fonts so Arabic renders in screenshots.
DEBIAN_TEST_PACKAGES := postgresql chromium fonts-noto-core openjdk-17-jre-headless
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help
.PHONY: help run serve shape test lint system-deps install install-test translations bench mutation clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml node_modules/.installed
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

# The front-end libraries Majlis serves from itself (the dashboard's charts), exactly as package-lock.json pins
# them; Node.js and npm come from Debian when the machine has none.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed ## create .venv and install Majlis with its pinned dependencies

install-test: $(VENV)/.installed-test ## install what the tests and linters need too

run: install ## migrate the SQLite database in ./var, load demo data, serve at http://127.0.0.1:8080
	$(BIN)/majlis db upgrade
	$(BIN)/majlis demo
	@echo "Majlis: http://127.0.0.1:8080  (staff sign-in: http://127.0.0.1:8080/login)"
	$(BIN)/majlis serve

shape: system-deps install-test ## the deployment's shape (docs/deploy.md) on a throwaway PostgreSQL: serve --workers 2, a worker, a bridge
	$(BIN)/python -m deploy.shape $(SHAPE_ARGS)

system-deps: ## install the Debian packages the tests need, when missing
	@missing=""; for pkg in $(DEBIAN_TEST_PACKAGES); do \
	  dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

lint: install-test ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/mypy

# Two workers (each with its own PostgreSQL server), a test file at a time, the longest first (tests/conftest.py);
# then, alone, the tests that measure time or race processes against each other (marked serial in
# tests/conftest.py), which the other worker would disturb.
test: system-deps install-test lint ## lint, then the whole suite on SQLite and on a PostgreSQL server it starts
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder -m "not serial" --durations=20
	$(BIN)/pytest -m serial --durations=10

translations: install-test ## extract the texts people read and merge them into the catalogs
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords -k _ -k N_ -k NP_:1c,2 -k _p:1c,2 -k _n:1,2 -k NN_:1,2 -k ngettext:2,3 --no-location --sort-output --omit-header -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching --omit-header

bench: install-test ## run the intake benchmark (see docs/benchmarks.md)
	$(BIN)/python -m bench.intake

# From scratch each time: mutmut's cache maps each function to the tests that called it when it last
# looked, and would miss what an edited test now checks.
mutation: install-test ## mutation testing of the pure core with mutmut (by hand, ~30 min; see docs/testing.md)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

clean: ## remove the virtual environment and the local database
	rm -rf $(VENV) var mutants node_modules
