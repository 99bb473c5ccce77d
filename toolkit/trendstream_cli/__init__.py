"""The `trendstream` command line: drive and inspect the local stack."""
