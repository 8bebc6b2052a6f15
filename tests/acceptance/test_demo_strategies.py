"""The demo page's strategy picker, "More" and "Not interested" on a trained
demo shop: each strategy answers its own list with reasons, More pages on
without repeats, a dislike is credited to the list that showed the item.
The screenshot goes to docs/img/demo.png."""

from pathlib import Path

import psycopg
import pytest
from playwright.async_api import async_playwright, expect

from app import recommenders
from tests.support import demo_shop
from tests.support.browser import CHROMIUM_FLAGS
from tests.support.served import served as serve_app

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"


async def test_picker_more_and_dislike(db_url, tmp_path, chromium_path):
    await demo_shop.build(db_url)
    async with serve_app(db_url, tmp_path) as served, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        await page.goto(served.url + "/demo/realtime")
        await page.fill("#user", "user-3")
        await page.click("#who button")
        await expect(page.locator("#state")).to_have_attribute("data-state", "connected")
        options = page.locator("#strategy option")
        # "live" and one per variant, from GET /strategies.
        await expect(options).to_have_count(1 + len(recommenders.VARIANTS))

        for name, (case, method) in recommenders.VARIANTS.items():
            await page.select_option("#strategy", f"strategies:{name}")
            shown = case + (f":{method}" if method else "")
            await expect(page.locator("#list-case")).to_have_text(shown)
            await expect(page.locator("#recommendations li")).to_have_count(10)
            reasons = await page.locator("#recommendations li .why").all_inner_texts()
            assert all(reasons), name
            if case != recommenders.FALLBACK:  # trained: no case falls back to popular
                assert not any("not enough history" in r or "no content" in r for r in reasons)

        await page.select_option("#strategy", "strategies:collaborative")
        await expect(page.locator("#list-case")).to_have_text("collaborative")
        first_page = await page.locator("#recomm-id").inner_text()
        await page.click("#more")
        await expect(page.locator("#recommendations li")).to_have_count(20)
        await expect(page.locator("#list-case")).to_have_text("collaborative · page 2")
        ids = await page.locator("#recommendations li").evaluate_all(
            "items => items.map(li => li.dataset.productId)"
        )
        assert len(set(ids)) == 20  # the second page repeats nothing of the first

        target = page.locator("#recommendations li").first
        disliked = await target.get_attribute("data-product-id")
        await target.locator("button.dislike").click()
        await expect(page.locator("#last-action")).to_contain_text("dislike")
        # The push that follows makes the page ask the strategy again, without it.
        gone = page.locator(f'#recommendations li[data-product-id="{disliked}"]')
        await expect(gone).to_have_count(0)
        await expect(page.locator("#recommendations li")).to_have_count(10)
        IMAGES.mkdir(exist_ok=True)
        await page.screenshot(path=str(IMAGES / "demo.png"), full_page=True)
        await browser.close()
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "select left(e.recomm_id::text, 8) from recsys.events e"
            " join recsys.event_types t on t.id = e.type_id"
            " join recsys.users u on u.id = e.user_id"
            " where u.external_id = 'user-3' and t.name = 'dislike'"
        ).fetchall()
    assert row == [(first_page,)]
