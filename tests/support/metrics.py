"""Reading a /metrics answer: one sample's value by name and labels."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, frozenset(s.labels.items()))] = s.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` (exactly those labels; 0 when absent, as
    Prometheus treats a counter never incremented)."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def names(text: str) -> set[str]:
    return {name for name, _ in samples(text)}


async def scrape(client: Any, headers: dict[str, str] | None = None) -> str:
    response = await client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return str(await response.get_data(as_text=True))
