# Two commands for a fresh machine: `make demo` runs the bot offline, `make test` runs every check.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
CHECKED := bot storage emulator newsroom demo

.PHONY: setup setup-dev demo test lint bench clean

# The bot and the emulator alone: all the demo needs.
setup: $(VENV)/.installed

# Plus the test and lint tools (and the profiler for benchmarks).
setup-dev: $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

demo: setup
	$(BIN)/python -m bot demo

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict $(CHECKED)

test: lint
	BIN=$(BIN) scripts/test-passes
	$(BIN)/coverage report

bench: setup-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache .pytest_cache
