"""Each server `recsys serve` can run in-process (app/servers/) keeps the HTTP and
socket contracts the rest of the suite checks under the default one: a request
head well beyond 16 KiB is refused with 431 before the app runs, a large body is not
mistaken for a head, /ws and Socket.IO register and get their first push, and a
frame beyond REC_WS_MAX_MESSAGE closes 1009."""

from __future__ import annotations

import httpx
import orjson
import pytest
import websockets

from app.servers import MAX_HEAD_BYTES
from tests.support.served import served
from tests.support.sockets import close_code, emit, register, socketio_ws

SERVERS = ["uvicorn", "hypercorn"]


@pytest.mark.parametrize("server", SERVERS)
async def test_heads_bodies_and_sockets(db_url, tmp_path, server):
    async with (
        served(db_url, tmp_path, server=server, ws_max_message=1024) as app,
        httpx.AsyncClient(base_url=app.url, timeout=10) as http,
    ):
        assert (await http.get("/health")).status_code == 200
        # Beyond one read (64 KiB): hypercorn's h11 bounds only what it buffers
        # of an incomplete head; uvicorn's protocol (app/servers/) bounds any.
        big_head = {"x-padding": "a" * (6 * MAX_HEAD_BYTES)}
        assert (await http.get("/health", headers=big_head)).status_code == 431
        assert (await http.get("/health", headers={"x-padding": "a" * 8000})).status_code == 200
        events = [
            {"user_id": f"u{i}", "product_id": f"p{i % 50}", "event_type": "view"}
            for i in range(2000)
        ]
        body = orjson.dumps({"events": events})
        assert len(body) > 4 * MAX_HEAD_BYTES
        answer = await http.post(
            "/events", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 201, answer.text

        async with websockets.connect(app.ws_url) as ws:
            _, first = await register(ws, "u1")
            assert first["data"]["user_id"] == "u1"
            await ws.send("x" * 4096)
            assert await close_code(ws) == 1009
        sio = await socketio_ws(app)
        await sio.send(emit("register_user", {"user_id": "u1"}))
        frames = [await sio.recv() for _ in range(2)]
        assert any("realtime_recommendation" in str(f) for f in frames), frames
        await sio.close()
