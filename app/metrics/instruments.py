"""The metrics one process records, in prometheus-client's objects.

Single process: the instruments live in this object's own registry (two apps in
one process, as in the tests, count apart). Several workers (`recsys serve
--workers N` sets PROMETHEUS_MULTIPROC_DIR for them): every process writes its
values to files in that folder and a scrape, in whichever worker it lands,
adds them up (app/metrics/exposition.py).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

# Counters' `_created` series double what a scrape carries and no alert reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Seconds: from a cached popular list (about 1 ms) to a slow first training-sized query.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = multiprocess()
        # Multiprocess: values go to the shared files; a registry would only
        # hold this process's view, so none is used (the scrape builds its own).
        self.registry = None if self.multiprocess else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "recsys_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "recsys_http_request_duration_seconds",
            "Time from the request's arrival to its response, by route template and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.lists = Counter(
            "recsys_lists_served",
            "Recommendation lists served, by case and surface (recommend, next, event,"
            " realtime, similar, push)",
            ["case", "surface"],
            registry=r,
        )
        self.events = Counter(
            "recsys_events_ingested",
            "Events in committed POST /event, POST /events and /realtime-recommend requests,"
            " by event type (duplicates included; see recsys_event_duplicates)",
            ["event_type"],
            registry=r,
        )
        self.duplicates = Counter(
            "recsys_event_duplicates",
            "Events not stored again because their event_id was seen before",
            registry=r,
        )
        self.pushes = Counter(
            "recsys_pushes_sent", "Recommendation pushes handed to a socket", registry=r
        )
        self.dropped = Counter(
            "recsys_pushes_dropped",
            "Pushes dropped because a slow socket's queue was full (the newest is kept)",
            registry=r,
        )
        self.reconnects = Counter(
            "recsys_listener_reconnects",
            "Times the LISTEN connection was lost and opened again",
            registry=r,
        )
        self.sockets = self._gauge("recsys_open_sockets", "Open WebSocket connections")
        self.pool_in_use = self._gauge(
            "recsys_pool_connections_in_use", "Pooled database connections lent to requests"
        )
        self.pool_size = self._gauge("recsys_pool_connections", "Pooled database connections open")
        self.pool_waiting = self._gauge(
            "recsys_pool_requests_waiting", "Requests waiting for a pooled connection"
        )

        # labels() validates and locks on every call; the children, once made,
        # are reused (routes x methods x statuses: a few dozen).
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def request_done(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            children = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
            self._request_children[key] = children
        counter, histogram = children
        counter.inc()
        histogram.observe(seconds)

    def _gauge(self, name: str, documentation: str) -> Gauge:
        # livesum: the sum over the processes alive now (a dead worker's share goes).
        return Gauge(name, documentation, registry=self.registry, multiprocess_mode="livesum")
