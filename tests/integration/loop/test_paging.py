"""GET /recommend/next: the next k items of a list, never one a page of its chain
showed, full while the catalogue allows; 410 once the chain is older than the TTL."""

import pytest

from tests.support.api import get_json, ids, record, views
from tests.support.events import upsert_items

CATALOGUE = [f"p{n:02d}" for n in range(25)]


@pytest.fixture
async def shop(client, conn):
    upsert_items(conn, *({"product_id": p} for p in CATALOGUE))
    conn.commit()
    rows = []
    for n, p in enumerate(CATALOGUE):
        rows += views(f"fan{n}", *([p] * (n % 7 + 1)))
    rows += views("me", "p00", "p01")
    await record(client, rows)


@pytest.mark.parametrize("case", ["popular", "behavior_based", "hybrid", "collaborative"])
async def test_pages_never_repeat_and_fill_to_k(client, shop, case):
    first = await get_json(client, "/recommend", user_id="me", case=case, k=10)
    pages, recomm_id = [first], first["recomm_id"]
    for _ in range(2):
        page = await get_json(client, "/recommend/next", recomm_id=recomm_id)
        assert page["page"] == len(pages) + 1 and page["case"] == case
        pages.append(page)
        recomm_id = page["recomm_id"]
    shown = [ids(p["recommendations"]) for p in pages]
    # 25 items, 2 seen by me: 10 + 10 + the last 3.
    assert [len(s) for s in shown] == [10, 10, 3]
    flat = [p for s in shown for p in s]
    assert len(set(flat)) == len(flat) == 23 and not {"p00", "p01"} & set(flat)


async def test_next_takes_its_own_k_and_keeps_the_filters(client, shop):
    first = await get_json(client, "/recommend", user_id="me", case="popular", k=2, exclude="p24")
    page = await get_json(client, "/recommend/next", recomm_id=first["recomm_id"], k=5)
    assert len(page["recommendations"]) == 5
    assert "p24" not in ids(first["recommendations"]) + ids(page["recommendations"])


async def test_an_expired_chain_is_410_and_an_unknown_one_404(client, conn, shop):
    first = await get_json(client, "/recommend", user_id="me", case="popular", k=2)
    conn.execute("update recsys.exposures set served_at = now() - interval '31 minutes'")
    conn.commit()
    gone = await get_json(client, "/recommend/next", expected=410, recomm_id=first["recomm_id"])
    assert gone["error"]["code"] == "expired" and "REC_PAGE_TTL_MINUTES" in gone["error"]["message"]
    unknown = "00000000-0000-4000-8000-000000000000"
    missing = await get_json(client, "/recommend/next", expected=404, recomm_id=unknown)
    assert missing["error"]["fields"] == {"recomm_id": "unknown"}
    bad = await get_json(client, "/recommend/next", expected=400, recomm_id="nope")
    assert "recomm_id" in bad["error"]["fields"]


async def test_the_ttl_is_configurable(client, conn, shop):
    conn.execute("update recsys.settings set page_ttl = interval '2 hours'")
    conn.commit()
    first = await get_json(client, "/recommend", user_id="me", case="popular", k=2)
    conn.execute("update recsys.exposures set served_at = now() - interval '90 minutes'")
    conn.commit()
    await get_json(client, "/recommend/next", recomm_id=first["recomm_id"])


async def test_similar_lists_page_too(client, shop):
    first = await get_json(client, "/items/p00/similar", k=1)
    page = await get_json(client, "/recommend/next", recomm_id=first["recomm_id"], k=3)
    assert page["case"] == "similar"
    assert not set(ids(first["recommendations"])) & set(ids(page["recommendations"]))
