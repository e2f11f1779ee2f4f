"""The public outage map and the status page's new parts in a phone-sized Chromium (390x844).

An outage is committed to the shared test database (``committed_dispatch`` empties the
tables afterwards), the pages are opened on the live server, and the outage is restored
while the pages stay open: their own refresh (the page's clock moved on with Playwright's
``page.clock``) must show it. Screenshots go to ``var/outages-*.png`` and
``var/status-known-*.png``; the README's, in ``docs/img/``, come
from ``scripts/screenshots.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from outages.models import Outage
from outages.service import open_outage, restore_outage
from tests.web.axe import assert_accessible
from tests.web.conftest import LIVE_NOW
from tests.web.test_status_page import ASSET_URL, DESKTOP, PHONE, Watch
from web.settings import Settings

SHOTS = Path(__file__).resolve().parents[2] / "var"
DEVICE = "HEL-F01-R01"  # a recloser with a few hundred premises below it
REFRESH_MS = 61_000
# An ETR range names the zone once, after both clocks (a day may lead a clock not today):
# "EET" and "GMT+2" in winter, "EEST" and "GMT+3" in summer (the demo's Helsinki time).
CLOCK = r"(?:\S+ )*\d\d:\d\d"
_HELSINKI = LIVE_NOW.astimezone(ZoneInfo("Europe/Helsinki"))
_OFFSET_H = int(_HELSINKI.utcoffset().total_seconds() // 3600)  # type: ignore[union-attr]
ETR_EN = re.compile(rf"^Expected back between {CLOCK} and {CLOCK} {_HELSINKI.tzname()}$")
ETR_ZH = re.compile(rf"^预计 {CLOCK} 至 {CLOCK}（GMT\+{_OFFSET_H}）之间恢复供电$")


@pytest.fixture
def live_outage(committed_dispatch: Engine, settings: Settings) -> Iterator[tuple[int, str]]:
    """A committed outage below ``DEVICE`` and one of its addresses no other premise shares."""
    with Session(committed_dispatch) as session, session.begin():
        outage = open_outage(
            session=session,
            device_code=DEVICE,
            cause="tree",
            confirmed=True,
            settings=settings,
            now=LIVE_NOW,
            actor="dispatcher",
        )
        address = session.execute(
            text(
                "SELECT p.address FROM outage_premise op JOIN premise p ON p.id = op.premise_id "
                "WHERE op.outage_id = :o AND p.critical IS NULL AND (SELECT count(*) FROM "
                "premise q WHERE q.address_norm = p.address_norm) = 1 ORDER BY p.id LIMIT 1"
            ),
            {"o": outage.id},
        ).scalar_one()
        outage_id = outage.id
    yield outage_id, address


def _restore(engine: Engine, settings: Settings, outage_id: int) -> None:
    with Session(engine) as session, session.begin():
        outage = session.scalar(select(Outage).where(Outage.id == outage_id))
        assert outage is not None
        restore_outage(
            session=session,
            outage=outage,
            device_code=None,
            settings=settings,
            now=LIVE_NOW,
            actor="dispatcher",
        )


def test_outages_page_html_has_only_local_assets(client: TestClient) -> None:
    response = client.get("/outages")
    assert response.status_code == 200
    html = response.text
    assets = ASSET_URL.findall(html)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {"leaflet.js", "outages.js", "outages.css"}
    assert all(a.startswith("/static/") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert 'data-lang="zh-CN"' in html and "OpenStreetMap contributors" in html


def _ready(page: Page, url: str) -> None:
    page.clock.install()
    page.goto(url)
    page.wait_for_function("document.documentElement.dataset.outageMap === 'ready'")


def test_outage_map_on_a_phone_shows_the_outage_and_its_restoration(
    browser: Browser,
    live_server: str,
    live_outage: tuple[int, str],
    committed_dispatch: Engine,
    settings: Settings,
) -> None:
    outage_id, _ = live_outage
    watch = Watch(expected=())
    context = browser.new_context(viewport=PHONE, locale="en-GB", device_scale_factor=2)
    watch.follow(context)
    page = context.new_page()
    try:
        _ready(page, f"{live_server}/outages")
        expect(page.locator("h1")).to_have_text("Power outages now")
        expect(page.locator("#totals")).to_contain_text("customers without power · 1 outage")
        expect(page.locator("#stamp")).to_have_text(re.compile(r"^Updated \d\d:\d\d \S+"))
        item = page.locator(f"#outage-list [data-outage='{outage_id}']")
        expect(item.locator(".etr")).to_have_text(ETR_EN)
        expect(item).to_contain_text("Waiting for a crew")
        expect(item).to_contain_text("tree on the line")
        expect(page.locator("#omap path.leaflet-interactive")).not_to_have_count(0)
        expect(page.locator("#regions tbody tr.has-out")).to_have_count(1)
        expect(page.locator("#planned-list")).to_contain_text("No planned work in the next 7 days.")
        # The page fits the phone: nothing wider than the viewport.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        page.screenshot(path=SHOTS / "outages-en.png", full_page=True)
        assert_accessible(page)

        page.locator("#lang-zh").click()
        expect(page.locator("h1")).to_have_text("当前停电情况")
        expect(item.locator(".etr")).to_have_text(ETR_ZH)
        expect(page.locator("#stamp")).to_have_text(
            re.compile(rf"^更新于 \d\d:\d\d（GMT\+{_OFFSET_H}）$")
        )
        expect(item).to_contain_text("等待派工")
        expect(page.locator("#regions thead")).to_contain_text("停电比例")
        page.screenshot(path=SHOTS / "outages-zh.png", full_page=True)
        assert_accessible(page)

        # Street names appear once zoomed in (from the roads layer's names). The page's
        # clock is Playwright's, so Leaflet's zoom animations run when it is moved on.
        expect(page.locator("#omap .street-label")).to_have_count(0)
        item.locator("button.show").click()
        page.clock.run_for(1000)
        for _ in range(2):
            page.locator("#omap .leaflet-control-zoom-in").click()
            page.clock.run_for(1000)
        expect(page.locator("#omap .street-label").first).to_be_visible()

        # On a desktop the map stands beside the lists.
        desktop = browser.new_page(viewport=DESKTOP, locale="en-GB")
        desktop.goto(f"{live_server}/outages")
        desktop.wait_for_function("document.documentElement.dataset.outageMap === 'ready'")
        map_box = desktop.locator("#omap").bounding_box()
        list_box = desktop.locator("#outage-list").bounding_box()
        assert map_box and list_box and map_box["x"] + map_box["width"] <= list_box["x"]
        desktop.screenshot(path=SHOTS / "outages-desktop.png")
        assert_accessible(desktop)
        desktop.close()

        _restore(committed_dispatch, settings, outage_id)
        page.clock.fast_forward(REFRESH_MS)
        expect(page.locator("#outage-list")).to_contain_text("目前没有已知的停电。")
        expect(page.locator("#omap path.leaflet-interactive")).to_have_count(0)
    finally:
        context.close()
    watch.check()


def test_status_page_inside_a_known_outage_then_restored(
    browser: Browser,
    live_server: str,
    live_outage: tuple[int, str],
    committed_dispatch: Engine,
    settings: Settings,
) -> None:
    outage_id, address = live_outage
    watch = Watch(expected=())
    context = browser.new_context(viewport=PHONE, locale="en-GB", device_scale_factor=2)
    watch.follow(context)
    page = context.new_page()
    try:
        page.clock.install()
        page.goto(f"{live_server}/status")
        page.wait_for_function("document.documentElement.dataset.statusPage === 'ready'")
        page.locator("#q").fill(address)
        page.locator("#q").press("Enter")
        result = page.locator("#result")
        expect(result).to_have_attribute("data-state", "outage")
        expect(result.locator(".etr")).to_have_text(ETR_EN)
        expect(result.locator(".crew-stage")).to_have_text("A crew will be assigned soon.")
        expect(result.locator(".updated")).to_contain_text("Updated")
        # Known: not invited to report; a danger can still be reported.
        expect(page.locator("#known")).to_contain_text("no need to report it")
        expect(page.locator("#report-form")).to_be_hidden()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], width
        page.screenshot(path=SHOTS / "status-known-en.png", full_page=True)
        assert_accessible(page)
        # 中文: the same range with the zone after both clocks, never between them.
        page.locator("#lang-zh").click()
        expect(result.locator(".etr")).to_have_text(ETR_ZH)
        page.locator("#lang-en").click()
        page.locator("#report-anyway").click()
        expect(page.locator("#report-form")).to_be_visible()
        expect(page.locator("#category")).to_be_focused()

        _restore(committed_dispatch, settings, outage_id)
        page.clock.fast_forward(REFRESH_MS)
        expect(result).to_have_attribute("data-state", "restored")
        expect(result.locator(".result-title")).to_have_text("Power restored")
        expect(page.locator("#known")).to_be_hidden()
        expect(page.locator("#report-form")).to_be_visible()
    finally:
        context.close()
    watch.check()


NON_HAZARD_ANSWER = {
    "id": 4243,
    "classification": "known",
    "outage_id": 7,
    "planned_outage_id": None,
    "duplicate_of": None,
    "region": "HEL",
    "feeder": "HEL-F01",
    "etr": "2030-01-15T14:30:00+02:00",
    "hazard": False,
    "received_at": "2030-01-15T11:05:00+02:00",
    "message": "We know about this outage.",
}


def test_status_page_suggestions_and_a_plain_report_confirmation(
    browser: Browser, live_server: str
) -> None:
    watch = Watch(expected=("/api/v1/status?address=Aleksanterinktu",))
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    watch.follow(context)
    page = context.new_page()
    page.route("**/api/v1/reports", lambda route: route.fulfill(status=201, json=NON_HAZARD_ANSWER))
    try:
        page.goto(f"{live_server}/status")
        page.wait_for_function("document.documentElement.dataset.statusPage === 'ready'")
        page.locator("#q").fill("Aleksanterinktu 15")
        page.locator("#q").press("Enter")
        result = page.locator("#result")
        expect(result).to_have_attribute("data-state", re.compile("suggest|normal|outage"))
        if result.get_attribute("data-state") == "suggest":
            expect(result.locator(".result-title")).to_have_text("Did you mean…?")
            expect(result).not_to_contain_text("could not find")
            assert_accessible(page)
            chips = result.locator(".chip")
            texts = chips.all_inner_texts()
            assert texts and len(texts) == len(set(texts)), texts
            chips.first.click()
        expect(result).to_have_attribute("data-state", re.compile("normal|outage|planned"))
        expect(result).to_contain_text("Aleksanterinkatu 15")
        page.locator("#report-anyway:visible, #report-send").first.click()
        if page.locator("#report-form").is_visible():
            page.locator("#report-send").click()
        answer = page.locator("#report-result")
        expect(answer.locator(".report-number")).to_have_text("Report number 4243")
        expect(answer).not_to_contain_text("false")
        expect(answer.locator(".warning")).to_have_count(0)
    finally:
        context.close()
    watch.check()
