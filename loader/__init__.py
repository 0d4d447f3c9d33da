"""dlt loader for Genesys Cloud queue service-level data (source `genesys`, CLI `python -m loader`)."""
