"""The admin dashboard in headless Chromium, authentication on: the admin key
typed into the page opens every panel, the events chart grows live, a model
run is activated; screenshots of each panel go to docs/img/."""

from pathlib import Path

import httpx
import psycopg
import pytest
from playwright.async_api import async_playwright, expect

from app import recommenders
from tests.support import demo_shop
from tests.support.auth import ADMIN_KEY, READ_KEY, SECURE, WRITE_KEY, bearer
from tests.support.browser import CHROMIUM_FLAGS
from tests.support.served import served as serve_app

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
VIEWPORT = {"width": 1400, "height": 1000}


async def test_every_panel_with_an_admin_key(db_url, tmp_path, chromium_path):
    await demo_shop.build(db_url)
    IMAGES.mkdir(exist_ok=True)
    async with serve_app(db_url, tmp_path, **SECURE) as served, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        page = await browser.new_page(viewport=VIEWPORT)
        await page.goto(served.url + "/admin")
        await expect(page.locator("#message")).to_contain_text("API key is required")
        # A read key is not enough for the dashboard's data.
        await page.fill("#key", READ_KEY)
        await page.click("#auth button")
        await expect(page.locator("#message")).to_contain_text("needs a admin key")
        await page.fill("#key", ADMIN_KEY)
        await page.click("#auth button")

        overview = page.locator("#overview")
        await expect(overview).to_have_attribute("data-loaded", "true")
        await expect(page.locator("#top-items tbody tr")).to_have_count(10)
        await expect(page.locator("#count-items")).to_have_text("40")
        await expect(page.locator("#tenant")).to_have_text("· default")
        await expect(page.locator("#chart-minutes")).to_have_attribute("data-points", "60")
        await expect(page.locator("#funnel .funnel-step")).to_have_count(3)
        await expect(page.locator("#live")).to_have_attribute("data-state", "live")
        # An event stored now reaches the live chart over /admin/stream.
        async with httpx.AsyncClient(base_url=served.url, headers=bearer(WRITE_KEY)) as http:
            event = {"user_id": "user-1", "product_id": "item-2", "event_type": "view"}
            assert (await http.post("/event", json=event)).status_code == 201
        await expect(page.locator("#live-events")).not_to_have_text("0", timeout=15_000)
        await page.screenshot(path=str(IMAGES / "admin-overview.png"), full_page=True)

        await page.click('#tabs button[data-panel="models"]')
        await expect(page.locator("#models")).to_have_attribute("data-loaded", "true")
        runs = page.locator("#runs tbody tr")
        await expect(runs).to_have_count(3)  # ease, content, hybrid: all active
        await expect(page.locator("#runs tr.active")).to_have_count(3)
        await page.screenshot(path=str(IMAGES / "admin-models.png"), full_page=True)

        await page.click('#tabs button[data-panel="experiments"]')
        await expect(page.locator("#experiments")).to_have_attribute("data-loaded", "true")
        await expect(page.locator("#experiment-list tbody tr")).to_have_count(1)
        await expect(page.locator("#report-arms tbody tr")).to_have_count(2)
        await expect(page.locator("#verdict")).not_to_be_empty()
        await expect(page.locator("#loop-cases tbody tr")).not_to_have_count(0)
        await page.screenshot(path=str(IMAGES / "admin-experiments.png"), full_page=True)

        await page.click('#tabs button[data-panel="settings"]')
        await expect(page.locator("#settings")).to_have_attribute("data-loaded", "true")
        await expect(page.locator("#event-types tbody tr")).to_have_count(6)
        await expect(page.locator("#strategies tbody tr")).to_have_count(len(recommenders.VARIANTS))
        await page.screenshot(path=str(IMAGES / "admin-settings.png"), full_page=True)
        await browser.close()


async def test_a_run_is_activated_from_the_models_panel(db_url, tmp_path, chromium_path):
    await demo_shop.build(db_url, users=40, items=20)
    demo_shop.train_again(db_url)  # a second run per role: the first ones can come back
    async with serve_app(db_url, tmp_path) as served, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        page = await browser.new_page(viewport=VIEWPORT)
        await page.goto(served.url + "/admin#models")
        await expect(page.locator("#models")).to_have_attribute("data-loaded", "true")
        first = page.locator('#runs tbody tr[data-run-id="1"]')
        await expect(first).not_to_have_class("active")
        await first.locator("button.activate").click()
        await expect(page.locator("#message")).to_contain_text("run 1")
        await expect(page.locator('#runs tbody tr[data-run-id="1"]')).to_have_class("active")
        await browser.close()
    with psycopg.connect(db_url) as conn:
        active = conn.execute("select id from recsys.model_runs where active and role = 'implicit'")
        assert active.fetchall() == [(1,)]
