# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The packages go in with uv (from PyPI into the virtualenv, by pip): it installs them in
# seconds where pip takes most of a minute, and compiles nothing ahead. Python then writes
# the bytecode caches of what is imported (an empty value, not unset: the environment may
# set it), so pytest's workers and the tests' subprocesses import compiled modules and
# rewritten tests instead of compiling them again, each.
UV := $(VENV)/bin/uv
export PYTHONDONTWRITEBYTECODE :=

.PHONY: run test lint typecheck pytest pytest-main pytest-timing bench clean lock

# pytest's workers (pytest-xdist); tests marked `timing` then run alone, on an idle machine.
JOBS ?= 2

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q uv

$(VENV)/.installed: pyproject.toml | $(PY)
	$(UV) pip install -q --python $(PY) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(UV) pip install -q --python $(PY) -e '.[dev]'
	touch $@ $(VENV)/.installed

# With a token (in .env or the environment) the bot; without one, the offline console on its
# own database (data/console.db), with the shared sample bulletins loaded.
HAS_TOKEN := import sys; from bot.config import load_settings; sys.exit(not load_settings().telegram_bot_token)
CONSOLE_SAMPLES ?= ../shared/data/bulletins

run: $(VENV)/.installed
	@if $(PY) -c '$(HAS_TOKEN)' 2>/dev/null; then \
		$(PY) -m bot run; \
	else \
		CONSOLE_SAMPLES="$${CONSOLE_SAMPLES:-$(CONSOLE_SAMPLES)}" $(PY) -m bot console; \
	fi

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check bot storage devtools tests bench
	$(VENV)/bin/ruff format --check bot storage devtools tests bench

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy bot storage devtools bench

# One run: every test, the `wall_clock` ones at the real clock and at five frozen moments
# (tests/conftest.py: FROZEN), the others each at one frozen moment of their own.
pytest: pytest-main pytest-timing

pytest-main: $(VENV)/.installed-dev
	$(VENV)/bin/pytest -p no:cacheprovider -n $(JOBS) -m "not timing"

pytest-timing: $(VENV)/.installed-dev
	$(VENV)/bin/pytest -p no:cacheprovider -m timing

# mypy beside the main pass (its workers leave a core idle part of the time), then the
# `timing` tests alone
test: lint
	$(MAKE) --no-print-directory -j2 typecheck pytest-main
	$(MAKE) --no-print-directory pytest-timing

# requirements.txt: the runtime dependencies pinned, from a fresh virtualenv (needs the registry)
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q . && rm -rf build
	{ sed -n 1,2p requirements.txt; .lock-venv/bin/pip freeze --exclude hebdo; } > requirements.new
	mv requirements.new requirements.txt && rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
