"""The end of the soak: what is stored against what was acknowledged, every
count against the recompute, every HTTP answer against the faults."""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg

from benchmarks.chaos.record import Record


def stored_keys(url: str) -> Counter[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select event_key, count(*) from recsys.events group by event_key"
        ).fetchall()
    return Counter({key: n for key, n in rows})


def count_differences(url: str) -> dict[str, list[str]]:
    """Table -> its first differences from the recompute (empty: all equal)."""
    # The tests' reference recompute: the soak runs from a checkout, and the
    # wheel (which ships benchmarks/ for `recsys bench`) need not carry tests/.
    from tests.support import recompute

    with psycopg.connect(url) as conn:
        actual, expected = recompute.snapshot(conn), recompute.reference(conn)
    found = {t: recompute.differences(actual[t], expected[t])[:5] for t in actual}
    return {t: d for t, d in found.items() if d}


def events(record: Record, stored: Counter[str]) -> dict[str, int]:
    return {
        "sent": len(record.sent),
        "acknowledged": len(record.acked),
        "stored": sum(stored.values()),
        "duplicated": sum(n - 1 for n in stored.values() if n > 1),
        "lost": len(record.acked - stored.keys()),
        "unacknowledged": len(record.sent - record.acked),
        "unacknowledged_stored": len((record.sent - record.acked) & stored.keys()),
        "stored_never_sent": len(stored.keys() - record.sent),
        "retried_deliveries": record.retried,
        "redeliveries": record.redeliveries,
        "redelivered_not_duplicate": record.redelivered_not_duplicate,
        "batch_miscounts": record.batch_miscounts,
    }


def http(record: Record) -> dict[str, Any]:
    """Answers by status; the errors that are findings: any 5xx but a 503 during
    an outage, any 4xx (the load sends only valid requests)."""
    findings = [
        f"{o.route} {o.status}: {o.error}"
        for o in record.outcomes
        if o.status is not None
        and o.status >= 400
        and not (o.status == 503 and record.during_outage(o))
    ]
    transport = sum(1 for o in record.outcomes if o.status is None)
    return {
        "requests": len(record.outcomes),
        "by_status": dict(sorted(record.statuses().items())),
        "transport_errors": transport,
        "transport_by_route": dict(record.transport_errors().most_common()),
        "errors_outside_outages": len(findings),
        "error_samples": findings[:10],
    }
