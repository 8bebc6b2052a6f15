"""Instances share nothing but PostgreSQL: a socket on one sees events written through another."""

import httpx
import websockets

from tests.support.events import seed
from tests.support.served import served as serve_app
from tests.support.sockets import next_event, register


async def test_push_reaches_a_socket_on_another_instance(db_url, tmp_path):
    seed(db_url)
    async with (
        serve_app(db_url, tmp_path / "a") as first,
        serve_app(db_url, tmp_path / "b") as second,
        websockets.connect(first.ws_url) as ws,
    ):
        await register(ws, "u1")
        async with httpx.AsyncClient(base_url=second.url) as http:
            response = await http.post(
                "/event", json={"user_id": "u1", "product_id": "b", "event_type": "view"}
            )
        assert response.status_code == 201
        push = await next_event(ws, "realtime_recommendation")
    assert push["data"]["recommendations"][0]["product_id"] == "a"
