"""Prometheus metrics: what each process counts, what a scrape reads from SQL."""
