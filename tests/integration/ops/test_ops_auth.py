"""With authentication on, /metrics needs an admin key or a metrics key, and a
metrics key reaches nothing else."""

from __future__ import annotations

import pytest

from tests.support.api import error_of
from tests.support.auth import ADMIN_KEY, METRICS_KEY, READ_KEY, WRITE_KEY, bearer


@pytest.mark.parametrize(
    ("key", "status"),
    [(None, 401), (READ_KEY, 403), (WRITE_KEY, 403), (ADMIN_KEY, 200), (METRICS_KEY, 200)],
)
async def test_metrics_needs_an_admin_or_a_metrics_key(secure_client, key, status):
    response = await secure_client.get("/metrics", headers=bearer(key))
    if status == 200:
        assert response.status_code == 200
        assert "recsys_http_requests_total" in await response.get_data(as_text=True)
    else:
        await error_of(response, status)


@pytest.mark.parametrize("path", ["/recommend?case=popular", "/admin/event-types", "/items"])
async def test_a_metrics_key_reads_nothing_else(secure_client, path):
    error = await error_of(await secure_client.get(path, headers=bearer(METRICS_KEY)), 403)
    assert "metrics" in error["message"]


async def test_a_metrics_key_opens_no_socket(secure_client):
    from quart.testing import WebsocketResponseError

    with pytest.raises(WebsocketResponseError) as refused:
        async with secure_client.websocket("/ws", headers=bearer(METRICS_KEY)) as ws:
            await ws.receive()
    assert refused.value.response.status_code == 403
