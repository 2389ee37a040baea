# Two commands do all set-up: `make demo` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= all
CONFIG ?=
# `make demo CONFIG=repeats=3`: config overrides for the demo's workflow and its report
DEMO_CONFIG := $(if $(CONFIG),--config $(CONFIG))

.PHONY: demo test lint reference install clean-results

install: $(STAMP)

# Reinstall only when the pins or the package metadata change.
$(STAMP): requirements.txt requirements-test.txt requirements-no-deps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-no-deps.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The whole workflow on the generated demo dataset, then its HTML report (checked in headless
# Chromium when one is installed) and the summary table. The demo runs locally: SLURM_CONF
# points nowhere so that the SLURM executor plugin's start-up query (`scontrol show config`,
# about 9 s per Snakemake start where SLURM's tools are installed but no controller answers)
# returns at once.
demo: export SLURM_CONF = /dev/null
demo: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --printshellcmds $(DEMO_CONFIG)
	$(BIN)/snakemake --cores 1 --report results/report.html $(DEMO_CONFIG)
	@if $(BIN)/python -c 'import sys; from sendflow.report.browser_check import find_chromium; sys.exit(find_chromium() is None)'; \
	then $(BIN)/python -m sendflow.report.browser_check results/report.html results/metrics/summary.csv; \
	else echo "(no Chromium found: the report was not opened in a browser)"; fi
	@echo; echo "Report: $(CURDIR)/results/report.html"; echo; cat results/metrics/summary.md

# pytest exits 5 when it collects no tests; that is not a failure of the suite.
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; [ $$rc -eq 5 ] && exit 0; exit $$rc

# Style and workflow checks (settings in pyproject.toml); CI runs them before the tests.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint

# config.yaml and the key table of docs/configuration.md, written from schemas/config.schema.yaml
# (the one place of every default and its meaning); tests/test_config_reference.py checks them.
reference: $(STAMP)
	$(BIN)/python -m sendflow.config_reference --write

clean-results:
	rm -rf results/index results/logs results/benchmarks
