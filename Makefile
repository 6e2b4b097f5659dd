# litestar-storages developer commands. Everything installs into .venv; nothing global is assumed.
#   make demo        install and run examples/quickstart.py on the local filesystem
#   make test        install everything, run checks, build the docs, run every suite (starts/stops the emulators)
#   make test-unit   fast offline subset: unit + signing + memory/filesystem conformance
#   make check       ruff, ruff format --check, mypy --strict
#   make bench       side-by-side benchmarks against peers (own venv: .venv-bench)
#   make docs        build the documentation site into site/ (mkdocs --strict: warnings fail)

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
PYTEST := $(PY) -m pytest

.PHONY: demo test test-unit test-conformance check lint format bench docs clean emulators-up emulators-down install

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=25.1"

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e ".[all]" --group dev
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/quickstart.py

check: $(STAMP)
	$(PY) -m ruff check src tests conformance bench examples docs/examples
	$(PY) -m ruff format --check src tests conformance bench examples docs/examples
	$(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff check --fix src tests conformance bench examples docs/examples
	$(PY) -m ruff format src tests conformance bench examples docs/examples

test-unit: $(STAMP)
	$(PYTEST) tests conformance -q -p no:cacheprovider

test: $(STAMP)
	$(MAKE) check
	$(MAKE) docs
	scripts/test-all.sh

emulators-up: $(STAMP)
	scripts/emulators.sh up

emulators-down:
	scripts/emulators.sh down

# Peers (botocore, obstore, aiohttp, vendor SDKs) live only in .venv-bench, never in .venv.
BENCH_PY := .venv-bench/bin/python
$(BENCH_PY): bench/requirements.txt pyproject.toml
	$(PYTHON) -m venv .venv-bench
	$(BENCH_PY) -m pip install -q --upgrade "pip>=25.1"
	$(BENCH_PY) -m pip install -q -e ".[all]" -r bench/requirements.txt
	touch $(BENCH_PY)

bench: $(STAMP) $(BENCH_PY)
	$(BENCH_PY) bench/run_all.py $(BENCH_ARGS)

# The docs group is installed on demand, so `make install` stays lean. NO_MKDOCS_2_WARNING hides
# Material's banner about its end of life (May 2027; see mkdocs.yml).
docs: $(STAMP)
	$(PIP) install -q --group docs
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) .venv-bench .mypy_cache .ruff_cache .pytest_cache build dist
