"""Sockets, socket tokens, background rounds and training, each kept to one tenant."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import websockets
from click.testing import CliRunner

from app.cli import main
from tests.support.served import served
from tests.support.sockets import TIMEOUT, next_event
from tests.support.tenants import KEYS, SETTINGS, created, headers


@pytest.fixture
async def shops(db_url: str, tmp_path: Path) -> Any:
    with created(db_url) as urls:
        async with served(db_url, tmp_path, listen_probe_seconds=0.5, **SETTINGS) as s:
            yield s, urls


async def token(http: httpx.AsyncClient, tenant: str, user_id: str) -> str:
    response = await http.post(f"/users/{user_id}/token", headers=headers(tenant, "write"))
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def subscribe(ws_url: str, tenant: str, user_id: str, signed: str) -> Any:
    ws = await websockets.connect(f"{ws_url}?api_key={KEYS[tenant]['read']}")
    data = {"user_id": user_id, "token": signed}
    await ws.send(json.dumps({"event": "register_user", "data": data}))
    await next_event(ws, "registered")
    await next_event(ws, "realtime_recommendation")
    return ws


async def test_a_socket_hears_its_own_tenants_events_only(shops: Any):
    s, _ = shops
    async with httpx.AsyncClient(base_url=s.url) as http:
        tokens = {t: await token(http, t, "u1") for t in KEYS}
        # A token signed under one tenant is refused on another tenant's socket.
        ws = await websockets.connect(f"{s.ws_url}?api_key={KEYS['acme']['read']}")
        data = {"user_id": "u1", "token": tokens["globex"]}
        await ws.send(json.dumps({"event": "register_user", "data": data}))
        refused = await next_event(ws, "error")
        assert "signature" in refused["data"]["message"]
        await ws.close()

        acme = await subscribe(s.ws_url, "acme", "u1", tokens["acme"])
        globex = await subscribe(s.ws_url, "globex", "u1", tokens["globex"])
        body = {"user_id": "u1", "product_id": "globex-p1", "event_type": "view"}
        sent = await http.post("/event", json=body, headers=headers("globex", "write"))
        assert sent.status_code == 201
        pushed = await next_event(globex, "realtime_recommendation")
        assert pushed["data"]["user_id"] == "u1"
        # The same user id at acme is another user: nothing reaches its socket.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(acme.recv(), 1.0)
        body = {"user_id": "u1", "product_id": "acme-p1", "event_type": "view"}
        sent = await http.post("/event", json=body, headers=headers("acme", "write"))
        assert sent.status_code == 201
        await asyncio.wait_for(next_event(acme, "realtime_recommendation"), TIMEOUT)
        await acme.close()
        await globex.close()


async def test_socketio_connections_are_bound_to_their_keys_tenant(shops: Any):
    s, _ = shops
    async with httpx.AsyncClient(base_url=s.url) as http:
        signed = await token(http, "acme", "u7")
        url = s.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        async with websockets.connect(url) as sio:
            assert (await asyncio.wait_for(sio.recv(), TIMEOUT)).startswith("0")
            await sio.send("40" + json.dumps({"api_key": KEYS["acme"]["read"]}))
            assert (await asyncio.wait_for(sio.recv(), TIMEOUT)).startswith("40")
            register = ["register_user", {"user_id": "u7", "token": signed}]
            await sio.send("42" + json.dumps(register))
            names = []
            while "realtime_recommendation" not in names:
                packet = await asyncio.wait_for(sio.recv(), TIMEOUT)
                if packet.startswith("42"):
                    names.append(json.loads(packet[2:])[0])
            assert names[0] == "registered"
    acme = s.app.extensions["recsys.shops"]
    assert (await acme.get("acme")).realtime.lists_served >= 1
    assert (await acme.get("globex")).realtime.lists_served == 0


async def test_the_neighbour_refresh_runs_in_each_tenant_on_its_own_events(
    db_url: str, tmp_path: Path
):
    from app import create_app

    with created(db_url) as urls:
        app = create_app(
            {"database_url": db_url, "data_dir": tmp_path, "neighbor_refresh": 0.2, **SETTINGS}
        )
        async with app.test_app() as test_app:
            client = test_app.test_client()
            for item in ("acme-p1", "acme-p2"):
                body = {"user_id": "u1", "product_id": item, "event_type": "view"}
                sent = await client.post("/event", json=body, headers=headers("acme", "write"))
                assert sent.status_code == 201
            # A round may run between the two events: wait for one after both.
            for _ in range(100):
                if len(lists(urls["acme"])) == 2:
                    break
                await asyncio.sleep(0.1)
        assert lists(urls["acme"]) == ["acme-p1", "acme-p2"]
        assert lists(urls["globex"]) == [] and lists(db_url) == []


def lists(url: str) -> list[str]:
    """The items that have a refreshed neighbour list in this database."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select distinct i.external_id from recsys.neighbor_lists n"
            " join recsys.items i on i.id = n.item_id order by 1"
        ).fetchall()
    return [str(r[0]) for r in rows]


def test_training_reads_and_writes_its_own_tenant_only(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("REC_DATABASE_URL", db_url)
    monkeypatch.delenv("REC_TENANT", raising=False)

    def run(*args: Any) -> Any:
        return CliRunner().invoke(main, [str(a) for a in args])

    with created(db_url) as urls:
        for tenant, users in (("acme", 6), ("globex", 9)):
            path = tmp_path / f"{tenant}.csv"
            rows = [f"{tenant}-u{u},{tenant}-p{(u + i) % 5}" for u in range(users) for i in (0, 1)]
            path.write_text("\n".join(rows) + "\n")
            result = run(
                "--tenant",
                tenant,
                "import",
                "events",
                path,
                "--columns",
                "user,item",
                "--event-type",
                "purchase",
            )
            assert result.exit_code == 0, result.output
        trained = run("--tenant", "acme", "train", "--model", "ease", "--no-validate")
        assert trained.exit_code == 0, trained.output
        runs = {}
        for name, url in {"default": db_url, **urls}.items():
            with psycopg.connect(url) as conn:
                runs[name] = conn.execute(
                    "select kind, (data->>'users')::int from recsys.model_runs"
                ).fetchall()
    assert runs == {"default": [], "acme": [("ease", 6)], "globex": []}
