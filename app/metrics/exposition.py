"""One scrape: this process's instruments (or every worker's, added up from the
multiprocess folder) and the database gauges, in the Prometheus text format."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest, multiprocess

from app.metrics.gauges import DatabaseGauges
from app.metrics.instruments import Metrics


def render(metrics: Metrics, database: DatabaseGauges) -> bytes:
    if metrics.multiprocess:
        # Read the files at each scrape: workers come and go.
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
    else:
        assert metrics.registry is not None
        counted = metrics.registry
    read = CollectorRegistry()
    read.register(database)
    # The text format is a list of families: two registries' outputs concatenate.
    return generate_latest(counted) + generate_latest(read)
