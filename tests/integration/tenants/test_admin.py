"""Creating and dropping tenants, from the command line and under a running app."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from app.cli import main
from app.db import tenants
from tests.support.tenants import SETTINGS, created, headers


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REC_DATABASE_URL", db_url)
    monkeypatch.delenv("REC_TENANT", raising=False)
    return lambda *args: CliRunner().invoke(main, [str(a) for a in args])


def counts(url: str) -> tuple[object, ...] | None:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select (select count(*) from recsys.events), (select count(*) from recsys.item_pairs)"
        ).fetchone()


def role_exists(db_url: str, role: str) -> bool:
    with psycopg.connect(db_url) as conn:
        return (
            conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
            is not None
        )


def test_the_command_line_creates_works_on_and_drops_a_tenant(run, db_url: str, tmp_path: Path):
    created_ = run("tenants", "create", "acme")
    assert created_.exit_code == 0, created_.output
    keys = [line.split()[-1] for line in created_.output.splitlines() if "@acme" in line]
    assert sorted(k.rsplit(":", 1)[1] for k in keys) == ["admin@acme", "read@acme", "write@acme"]
    assert run("tenants", "list").output.split() == ["acme"]
    acme = tenants.url_for(db_url, "acme")

    events = tmp_path / "views.csv"
    events.write_text("u1,p1\nu1,p2\nu2,p1\n")
    imported = run(
        "--tenant",
        "acme",
        "import",
        "events",
        events,
        "--columns",
        "user,item",
        "--event-type",
        "view",
    )
    assert imported.exit_code == 0, imported.output
    assert counts(acme) == (3, 1)
    assert counts(db_url) == (0, 0)  # the default tenant saw none of it

    again = run("tenants", "create", "acme")
    assert again.exit_code == 1 and "exists already" in again.output
    dropped = run("tenants", "drop", "acme", "--yes")
    assert dropped.exit_code == 0, dropped.output
    assert run("tenants", "list").output == ""
    assert not role_exists(db_url, tenants.database_name(db_url, "acme"))
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        psycopg.connect(acme).close()


def test_commands_name_the_fix_for_a_tenant_that_is_not_there(run):
    missing = run("--tenant", "nope", "train", "--model", "content")
    assert missing.exit_code == 1
    assert "recsys tenants create nope" in missing.output
    assert "no tenant 'nope'" in run("tenants", "drop", "nope", "--yes").output
    for bad in ("default", "Acme", "1shop", "a" * 31, "a-b"):
        result = run("tenants", "create", bad)
        assert result.exit_code == 1 and "tenant names are" in result.output, bad
    serve = run("--tenant", "nope", "serve")
    assert serve.exit_code == 2 and "drop --tenant" in serve.output


async def test_a_running_app_opens_a_new_tenant_and_refuses_a_dropped_ones_keys(
    db_url: str, tmp_path: Path
):
    from app import create_app

    app = create_app(
        {"database_url": db_url, "data_dir": tmp_path, "neighbor_refresh": None, **SETTINGS}
    )
    async with app.test_app() as test_app:
        client = test_app.test_client()
        before = await client.get("/items", headers=headers("acme"))
        assert before.status_code == 401
        assert "'acme' does not exist" in (await before.get_json())["error"]["message"]
        with created(db_url):
            # Created after the app started: opened on its first request.
            body = {"user_id": "u1", "product_id": "p1", "event_type": "view"}
            written = await client.post("/event", json=body, headers=headers("acme", "write"))
            assert written.status_code == 201
            tenants.drop(db_url, "acme")
            after = await client.get("/users/u1/history", headers=headers("acme"))
            assert after.status_code == 401, await after.get_data(as_text=True)
            # The other tenant is untouched.
            other = await client.post("/event", json=body, headers=headers("globex", "write"))
            assert other.status_code == 201
