# Two commands for a fresh machine: `make demo` runs the bot offline, `make test` runs every check.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
CHECKED := bot storage emulator newsroom

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/python -m bot demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict $(CHECKED)

test: lint
	env -u TEST_DATABASE_URL $(BIN)/coverage run -m pytest
	BIN=$(BIN) scripts/test-on-postgres
	$(BIN)/coverage report

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache .pytest_cache
