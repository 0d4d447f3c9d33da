"""Reporting behind `make build` and `make export`: dbt on the DuckDB file, compliance table, CSV export."""
