"""`python -m reporting build`: check the loaded data, run dbt build, print the period's compliance table."""

from __future__ import annotations

import logging

from reporting.compliance import compliance_table
from reporting.dbt_build import check_raw_tables, run_dbt_build
from reporting.options import ReportOptions
from reporting.preflight import preflight
from reporting.reader import database_label, database_path
from reporting.targets import staged_seeds

log = logging.getLogger(__name__)


def build(options: ReportOptions, *, full_refresh: bool = False, verbose: bool = False) -> str:
    """dbt build against GENESYS_DUCKDB_PATH; return the compliance table and a summary line."""
    db_path = database_path()
    # Everything that can be refused is refused here, before dbt opens the file for writing.
    check_raw_tables(db_path)
    targets = preflight(db_path, options)
    with staged_seeds(targets, db_path):
        summary = run_dbt_build(options, db_path, full_refresh=full_refresh, verbose=verbose)
    warned = f", {summary.warned} warnings (see {summary.log_file})" if summary.warned else ""
    where = database_label(db_path)
    footer = f"dbt build: {summary.passed} nodes passed{warned} in {summary.seconds:.1f} s ({where})"
    return f"{compliance_table(db_path, options)}\n{footer}"
