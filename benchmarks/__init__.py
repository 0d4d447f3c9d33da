"""`make bench`: measured speed and memory of the loader and the dbt build."""
