# Genesys Cloud queue SLA reporting: dlt loader -> DuckDB -> dbt.
# `make` (or `make help`) lists the targets. Every target bootstraps .venv from
# requirements/lock.txt on first use and again whenever the lock changes.

.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements/lock.txt
BOOTSTRAPPED := $(VENV)/.bootstrapped

# No network here beyond the package registries: telemetry would only time out.
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export RUNTIME__DLTHUB_TELEMETRY := false
export DO_NOT_TRACK := 1
export DBT_PROFILES_DIR := $(CURDIR)
export GENESYS_DUCKDB_PATH ?= $(CURDIR)/genesys.duckdb

# User variables reach the programs through the environment, never through a shell command line: each is
# taken literally ($(value): make does not expand `$(...)` in it), exported, and quoted as "$$VAR" in the
# recipes, so `START="x'; touch y; echo '"` is an argument the CLI rejects, not a command. Quotes have no
# meaning here, so a value holding one is refused before anything runs (exit 2, one line).
USER_VARS := START END REPORT_TZ LOAD_ARGS BUILD_ARGS SIM_ARGS PYTEST_ARGS Q
$(foreach v,$(USER_VARS),$(eval override $(v) := $$(value $(v))))
export $(USER_VARS)
QUOTE_CHARS := ' " `
$(foreach v,$(filter-out Q,$(USER_VARS)),$(foreach c,$(QUOTE_CHARS),$(if $(findstring $(c),$(value $(v))),\
  $(error error: $(v) holds a quote ($(c)); give the value without quotes, e.g. START=2026-11-20 REPORT_TZ=America/New_York))))

# Optional arguments, passed through only when given: START=YYYY-MM-DD END=YYYY-MM-DD REPORT_TZ=Area/City.
# *_ARGS are split on blanks only (no globbing, no quote removal, no expansion).
DATE_ARGS = $${START:+--start "$$START"} $${END:+--end "$$END"} $${REPORT_TZ:+--report-tz "$$REPORT_TZ"}
SPLIT_ARGS = read -ra extra <<< "$${$(1):-}"

.PHONY: help test lint load build export report sql sim bench clean distclean lock

help: ## List the targets.
	@echo "Genesys Cloud queue SLA reporting. Usage: make <target> [START=YYYY-MM-DD] [END=YYYY-MM-DD] [REPORT_TZ=Area/City]"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BOOTSTRAPPED): $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing locked dependencies into $(VENV) (first run or lock changed)..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -r $(LOCK)
	@touch $@

load: $(BOOTSTRAPPED) ## Load queue buckets into DuckDB (simulator when no credentials are set).
	@$(call SPLIT_ARGS,LOAD_ARGS); $(PY) -m loader $(DATE_ARGS) "$${extra[@]}"

build: $(BOOTSTRAPPED) ## dbt build (seeds, models, all tests), then print the period's compliance table.
	@$(call SPLIT_ARGS,BUILD_ARGS); $(PY) -m reporting build $(DATE_ARGS) "$${extra[@]}"

export: $(BOOTSTRAPPED) ## Write one CSV per mart into exports/.
	@$(call SPLIT_ARGS,BUILD_ARGS); $(PY) -m reporting export $(DATE_ARGS) "$${extra[@]}"

report: $(BOOTSTRAPPED) ## Build if needed, then write the offline HTML report reports/service-level.html.
	@$(call SPLIT_ARGS,BUILD_ARGS); $(PY) -m reporting report $(DATE_ARGS) "$${extra[@]}"

sql: $(BOOTSTRAPPED) ## Open the DuckDB shell (psql with DESTINATION=postgres) read-only on the database (warns when the last build failed); Q="select ..." runs one query.
	@if [ "$$($(PY) -m reporting.shell --which)" = postgres ]; then $(PY) -m reporting.build_state && exec $(PY) -m reporting.shell; fi; \
	test -f "$$GENESYS_DUCKDB_PATH" || { echo "error: $$GENESYS_DUCKDB_PATH does not exist; run 'make load && make build' first." >&2; exit 2; }; \
	$(PY) -m reporting.build_state; \
	if [ -n "$${Q:-}" ]; then $(VENV)/bin/duckdb -readonly -box "$$GENESYS_DUCKDB_PATH" -c "$$Q"; else $(VENV)/bin/duckdb -readonly "$$GENESYS_DUCKDB_PATH"; fi

sim: $(BOOTSTRAPPED) ## Run the Genesys Cloud API simulator as a standalone server (SIM_ARGS="--port 8080").
	@$(call SPLIT_ARGS,SIM_ARGS); $(PY) -m simulator "$${extra[@]}"

# pytest-xdist runs one test file per worker, one worker per core up to 4 (each may run a dbt build under
# DuckDB's 1 GB memory limit); PYTEST_ARGS="-n 0" runs the files one at a time.
test: $(BOOTSTRAPPED) ## Everything CI runs: lint and the whole test suite.
	$(MAKE) --no-print-directory lint
	@$(call SPLIT_ARGS,PYTEST_ARGS); $(PY) -m pytest -n auto --maxprocesses 4 --dist loadfile "$${extra[@]}"

lint: $(BOOTSTRAPPED) ## Ruff (Python) and SQLFluff (dbt SQL).
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/sqlfluff lint models data-tests macros

bench: $(BOOTSTRAPPED) ## Measure simulator, loader, build and report; writes benchmarks/results.md (BENCH=build,report: those alone).
	$(PY) -m benchmarks $(BENCH_ARGS)

clean: ## Remove generated data: DuckDB file, dbt target/logs, exports, dlt working dirs.
	rm -rf target logs exports reports dbt_packages .pytest_cache .dlt_pipelines
	rm -f genesys.duckdb genesys.duckdb.wal genesys.duckdb.lock

distclean: clean ## Also remove the virtualenv.
	rm -rf $(VENV)

lock: ## Re-resolve requirements/requirements.in into requirements/lock.txt.
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --disable-pip-version-check -r requirements/requirements.in
	{ echo "# Generated by 'make lock' from requirements/requirements.in; do not edit."; .venv-lock/bin/pip freeze --exclude-editable; } > $(LOCK)
	rm -rf .venv-lock
