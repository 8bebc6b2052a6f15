"""The demo page with authentication on: a key typed into the page opens the
socket (?api_key=), mints the user's token, and records events."""

import pytest
from playwright.async_api import async_playwright, expect

from app.demo import load, shop
from tests.support.auth import SECURE, WRITE_KEY
from tests.support.browser import CHROMIUM_FLAGS
from tests.support.served import served as serve_app

pytestmark = pytest.mark.browser


async def test_demo_page_works_with_a_key(db_url, tmp_path, chromium_path):
    load.load(db_url, shop.generate(n_users=60, n_items=30, events_per_user=8, seed=7))
    async with serve_app(db_url, tmp_path, **SECURE) as served, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        page = await browser.new_page()
        await page.goto(served.url + "/demo/realtime")
        await expect(page.locator("#last-action")).to_contain_text("API key is required")
        await page.fill("#user", "shopper-1")
        await page.fill("#key", WRITE_KEY)
        await page.click("#who button")
        await expect(page.locator("#state")).to_have_attribute("data-state", "connected")
        await expect(page.locator("#recommendations li")).to_have_count(10)
        pushes_before = await page.locator("#pushes").inner_text()
        await page.locator('.card button[data-event="purchase"]').first.click()
        await expect(page.locator("#pushes")).not_to_have_text(pushes_before)
        await expect(page.locator("#last-action")).to_contain_text("purchase")
        await browser.close()
