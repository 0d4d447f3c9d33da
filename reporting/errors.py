"""Exceptions of the reporting CLI, each carrying the exit code it maps to."""

from __future__ import annotations


class ReportingError(Exception):
    """dbt or the export failed; the message says what failed and what to do next. Exit code 1."""

    exit_code = 1


class MissingDataError(ReportingError):
    """The DuckDB file, its raw tables or its marts are not there yet. Exit code 2, nothing written."""

    exit_code = 2
