"""The demo page in headless Chromium: a click records an event and a push updates the panel."""

import psycopg
import pytest
from playwright.async_api import async_playwright, expect

from app.demo import load, shop
from tests.support.browser import CHROMIUM_FLAGS
from tests.support.served import served as serve_app

pytestmark = pytest.mark.browser


async def test_purchase_click_updates_recommendations_live(db_url, tmp_path, chromium_path):
    load.load(db_url, shop.generate(n_users=60, n_items=30, events_per_user=8, seed=7))
    async with serve_app(db_url, tmp_path) as served, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        page = await browser.new_page()
        await page.goto(served.url + "/demo/realtime")
        await page.fill("#user", "shopper-1")
        await page.click("#who button")
        await expect(page.locator("#state")).to_have_attribute("data-state", "connected")
        await expect(page.locator("#panel-user")).to_have_text("shopper-1")
        await expect(page.locator("#recommendations li")).to_have_count(10)
        pushes_before = int(await page.locator("#pushes").inner_text())

        first = page.locator("#recommendations li").first
        bought = await first.get_attribute("data-product-id")
        card = page.locator(f'.card[data-product-id="{bought}"]')
        await card.locator('button[data-event="purchase"]').click()

        await expect(page.locator("#pushes")).not_to_have_text(str(pushes_before))
        shown = page.locator(f'#recommendations li[data-product-id="{bought}"]')
        await expect(shown).to_have_count(0)
        await expect(page.locator("#last-action")).to_contain_text("purchase")

        # "Not interested" on a pushed item: a dislike credited to that push's list;
        # the next push leaves the item out.
        pushed_list = await page.locator("#recomm-id").inner_text()
        second = page.locator("#recommendations li").first
        disliked = await second.get_attribute("data-product-id")
        await second.locator("button.dislike").click()
        await expect(
            page.locator(f'#recommendations li[data-product-id="{disliked}"]')
        ).to_have_count(0)
        await expect(page.locator("#recommendations li")).to_have_count(10)
        await page.screenshot(path=str(tmp_path / "demo.png"), full_page=True)
        await browser.close()
    with psycopg.connect(db_url) as conn:
        kind = conn.execute(
            "select t.name, left(e.recomm_id::text, 8) from recsys.events e"
            "  join recsys.users u on u.id = e.user_id"
            "  join recsys.event_types t on t.id = e.type_id"
            " where u.external_id = 'shopper-1' order by e.id"
        ).fetchall()
    # The purchase was clicked in the catalogue: no recomm_id sent, and credited
    # to the push that showed the item (the latest list holding it).
    assert [k[0] for k in kind] == ["purchase", "dislike"]
    assert kind[0][1] is not None and kind[1][1] == pushed_list
