# Contact Hub: `make run` serves the app, `make test` runs the suite.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py
# Two test processes by default (pytest-xdist); PYTEST_ARGS= runs them in one.
PYTEST_ARGS ?= -n 2

.PHONY: run serve-prod test setup lint format clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $$(scripts/find-python) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0

run: setup
	@test -f var/.demo-loaded || ($(MANAGE) seed_demo && touch var/.demo-loaded)
	@scripts/run-dev $(BIN)/python

serve-prod: $(STAMP)
	@scripts/serve-prod $(BIN)/python

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/vulture

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles
