"""GET /recommend?experiment=: the user's arm answers (A/B), or a team draft of
both arms (interleaving); the ledger records experiment, arm and placed_by."""

import pytest

from tests.support.api import get_json, ids, record, views
from tests.support.events import upsert_items
from tests.support.experiments import arm_of

CATALOGUE = [f"p{n:02d}" for n in range(30)]


@pytest.fixture
async def shop(client, conn):
    upsert_items(
        conn,
        *(
            {"product_id": p, "categories": ["odd" if n % 2 else "even"]}
            for n, p in enumerate(CATALOGUE)
        ),
    )
    conn.commit()
    rows = []
    for n, p in enumerate(CATALOGUE):
        rows += views(f"fan{n}", *([p] * (n % 5 + 1)))
        rows += views(f"fan{n}", CATALOGUE[(n + 1) % 30])
    await record(client, rows)


async def create(client, name, mode, arms):
    response = await client.post(
        "/admin/experiments", json={"name": name, "mode": mode, "arms": arms, "start": True}
    )
    assert response.status_code == 201, await response.get_json()


def logged(conn, recomm_id):
    conn.rollback()
    return conn.execute(
        "select experiment, arm, case_name, placed_by, cardinality(items) from recsys.exposures"
        " where recomm_id = %s",
        (recomm_id,),
    ).fetchone()


async def test_ab_serves_the_arm_the_hash_gives(client, conn, shop):
    arms = [
        {"name": "control", "case": "popular"},
        {"name": "odd", "case": "popular", "params": {"category": "odd"}},
    ]
    await create(client, "ab1", "ab", arms)
    seen = set()
    for user in (f"u{n}" for n in range(12)):
        body = await get_json(client, "/recommend", experiment="ab1", user_id=user, k=4)
        arm = arm_of("ab1", user, [("control", 1), ("odd", 1)])
        assert (body["experiment"], body["arm"], body["case"]) == ("ab1", arm, "popular")
        odd = all(int(p[1:]) % 2 for p in ids(body["recommendations"]))
        assert odd == (arm == "odd")
        assert logged(conn, body["recomm_id"]) == ("ab1", arm, "popular", None, 4)
        again = await get_json(client, "/recommend", experiment="ab1", user_id=user, k=4)
        assert again["arm"] == arm
        seen.add(arm)
    assert seen == {"control", "odd"}


async def test_interleaving_drafts_both_arms_and_logs_who_placed_what(client, conn, shop):
    arms = [
        {"name": "even", "case": "popular", "params": {"category": "even"}},
        {"name": "odd", "case": "popular", "params": {"category": "odd"}},
    ]
    await create(client, "tdi", "interleave", arms)
    body = await get_json(client, "/recommend", experiment="tdi", user_id="me", k=6)
    assert (body["experiment"], body["arm"], body["case"]) == ("tdi", None, "interleaved")
    shown = ids(body["recommendations"])
    experiment, arm, case, placed_by, n = logged(conn, body["recomm_id"])
    assert (experiment, arm, case, n) == ("tdi", None, "interleaved", 6)
    # Disjoint arms: each item is credited to the arm whose category it has, 3 each,
    # and each arm's items keep that arm's order.
    assert placed_by == ["odd" if int(p[1:]) % 2 else "even" for p in shown]
    assert placed_by.count("odd") == placed_by.count("even") == 3
    for name in ("even", "odd"):
        own = await get_json(
            client, "/recommend", user_id="other", case="popular", k=3, category=name
        )
        assert [p for p, a in zip(shown, placed_by, strict=True) if a == name] == ids(
            own["recommendations"]
        )


async def test_an_interleaved_chain_pages_without_repeats(client, shop):
    arms = [{"name": "pop", "case": "popular"}, {"name": "beh", "case": "behavior_based"}]
    await create(client, "tdi2", "interleave", arms)
    first = await get_json(client, "/recommend", experiment="tdi2", user_id="fan3", k=8)
    page = await get_json(client, "/recommend/next", recomm_id=first["recomm_id"])
    assert page["case"] == "interleaved" and page["experiment"] == "tdi2" and page["page"] == 2
    both = ids(first["recommendations"]) + ids(page["recommendations"])
    assert len(both) == len(set(both)) == 16


async def test_errors_name_the_problem(client, shop):
    missing = await get_json(client, "/recommend", expected=404, experiment="nope", user_id="u")
    assert "nope" in missing["error"]["message"]
    await client.post(
        "/admin/experiments",
        json={
            "name": "draft",
            "mode": "ab",
            "arms": [{"name": "a", "case": "popular"}, {"name": "b", "case": "hybrid"}],
        },
    )
    draft = await get_json(client, "/recommend", expected=409, experiment="draft", user_id="u")
    assert "draft" in draft["error"]["message"]
    await create(
        client, "on", "ab", [{"name": "a", "case": "popular"}, {"name": "b", "case": "hybrid"}]
    )
    anonymous = await get_json(client, "/recommend", expected=400, experiment="on")
    assert "user_id" in anonymous["error"]["fields"]
