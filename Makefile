# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint typecheck pytest bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) -m bot run

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check bot storage tests bench
	$(VENV)/bin/ruff format --check bot storage tests bench

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy bot storage

pytest: $(VENV)/.installed-dev
	$(VENV)/bin/pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
