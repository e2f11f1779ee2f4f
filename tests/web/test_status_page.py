"""The customer status page: HTML and assets, the real report POST it sends, and a browser run.

The browser test runs Debian's Chromium (``/usr/bin/chromium``) against the live server on
a phone-sized viewport. It never files a report there (that would commit to the shared test
database): the form's POST is answered by ``page.route``; the real POST is tested through
``client``, whose transaction is rolled back. Screenshots go to ``var/status-en.png``,
``var/status-zh.png`` and ``var/status-desktop.png``; the README's come from
``scripts/screenshots.py``.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    expect,
)
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from outages.models import Report

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSET_URL = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"([^\"]+)\"")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SHOTS = REPO_ROOT / "var"
UNKNOWN_REPORT = "nOsUcHtOkEn-42xy"
CANNED_TOKEN = "Xq3v-9Tb2LmW0aRk"
CANNED_ANSWER = {
    "id": 4242,
    "token": CANNED_TOKEN,
    "classification": "new",
    "outage_id": None,
    "planned_outage_id": None,
    "duplicate_of": None,
    "region": "HEL",
    "feeder": "HEL-F01",
    "etr": "2030-01-15T14:30:00+02:00",
    "hazard": True,
    "received_at": "2030-01-15T11:05:00+02:00",
    "message": "Thank you: your report is registered. Please stay away from the wire.",
}


def test_page_html_has_language_switch_and_only_local_assets(client: TestClient) -> None:
    response = client.get("/status")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert 'data-lang="en"' in html and 'data-lang="zh-CN"' in html
    assert "中文" in html
    assert 'aria-live="polite"' in html
    assert "OpenStreetMap contributors" in html
    assets = ASSET_URL.findall(html)
    assert {a.rsplit("/", 1)[-1] for a in assets} >= {
        "leaflet.js",
        "leaflet.css",
        "status.js",
        "status.css",
    }
    assert all(a.startswith("/static/") for a in assets), assets
    assert "cdn" not in html and "https://fonts" not in html
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    config = re.search(r'<script id="status-config" type="application/json">(.*?)</script>', html)
    assert config is not None
    assert json.loads(config.group(1))["apiUrl"] == "/api/v1"


def test_report_as_the_page_sends_it_is_filed_once(client: TestClient, db_session: Session) -> None:
    address = db_session.execute(text("SELECT address FROM premise ORDER BY id LIMIT 1")).scalar()
    body = {
        "address": address,
        "category": "wire_down",
        "channel": "web",
        "description": "wire on the pavement",
        "phone": "+358 40 123 4567",
    }
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = client.post("/api/v1/reports", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/reports", json=body, headers=headers)
    assert again.json()["id"] == first.json()["id"]
    answer = first.json()
    assert answer["hazard"] is True
    assert answer["classification"] in {"new", "known", "planned", "duplicate"}
    assert (
        db_session.query(Report)
        .filter(Report.idempotency_key == headers["Idempotency-Key"])
        .count()
        == 1
    )

    assert again.json()["token"] == answer["token"]
    tracked = client.get(f"/api/v1/reports/track/{answer['token']}")
    assert tracked.status_code == 200
    assert tracked.json()["id"] == answer["id"]
    assert tracked.json()["address"] is None  # the public view names no address
    assert "123 4567" not in tracked.text  # the call-back phone is never shown back
    assert client.get(f"/api/v1/reports/track/{UNKNOWN_REPORT}").status_code == 404
    # The number is staff's: the public cannot walk the reports by it.
    assert client.get(f"/api/v1/reports/{answer['id']}").status_code == 401


class Watch:
    """Console errors, page errors and every URL the pages of the followed contexts requested.

    Chromium logs each 4xx answer as a console error; those of ``expected`` are the point.
    """

    def __init__(self, expected: tuple[str, ...]) -> None:
        self.expected = expected
        self.errors: list[str] = []
        self.requested: list[str] = []

    def follow(self, context: BrowserContext) -> None:
        context.on("page", self._attach)

    def _attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: self.requested.append(r.url))
        page.on("response", lambda r: r.status >= 500 and self.errors.append(f"{r.status} {r.url}"))

    def _console(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not any(e in url for e in self.expected):
            self.errors.append(f"console: {message.text} ({url})")

    def check(self) -> None:
        assert not self.errors, self.errors
        off_host = [u for u in self.requested if urlsplit(u).scheme != "data"]
        off_host = [u for u in off_host if urlsplit(u).hostname != "127.0.0.1"]
        assert not off_host, off_host


@pytest.fixture(scope="module")
def demo_premise(engine: Engine) -> tuple[str, float, float]:
    """A committed demo address (and its point) that no other premise shares."""
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT address, ST_X(geom), ST_Y(geom) FROM premise p WHERE address LIKE '%, %' "
                "AND (SELECT count(*) FROM premise q WHERE q.address_norm = p.address_norm) = 1 "
                "ORDER BY id LIMIT 1"
            )
        ).one()
    return str(row[0]), float(row[1]), float(row[2])


def test_status_page_in_a_phone_browser(
    browser: Browser, live_server: str, demo_premise: tuple[str, float, float]
) -> None:
    address, lon, lat = demo_premise
    watch = Watch(
        expected=(f"/api/v1/reports/track/{UNKNOWN_REPORT}", "/api/v1/status?address=Zzyzx")
    )
    context = browser.new_context(viewport=PHONE, locale="en-US", device_scale_factor=2)
    watch.follow(context)
    page = context.new_page()
    posted: list[Route] = []
    page.route("**/api/v1/reports", lambda route: posted.append(route))
    try:
        page.goto(f"{live_server}/status")
        page.wait_for_function("document.documentElement.dataset.statusPage === 'ready'")
        expect(page.locator("#lang-en")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("h1")).to_have_text("Is my power on?")

        # Part of the address (no postcode or city) -> suggestions -> pick -> normal.
        page.locator("#q").press_sequentially(address.split(",")[0], delay=30)
        option = page.locator("#suggest [role=option]", has_text=address)
        expect(option).to_be_visible()
        with page.expect_response(re.compile(r"/api/v1/layers/roads\?bbox=")):
            option.click()
        result = page.locator("#result")
        expect(result).to_have_attribute("data-state", "normal")
        expect(result.locator(".result-title")).to_have_text("Power is on")
        expect(result).to_contain_text(address)
        expect(result).to_contain_text("No planned work in the next 7 days.")
        expect(page.locator("#map .leaflet-interactive")).to_have_count(1)
        expect(page.locator("#report-where")).to_contain_text(address)

        # A hazard report: the warning shows, a double tap sends one request with one key.
        page.locator("#category").select_option("wire_down")
        expect(page.locator("#hazard-warning")).to_contain_text("Stay away from fallen wires")
        page.locator("#phone").fill("+358 40 123 4567")
        page.locator("#report-send").dblclick()
        page.wait_for_timeout(300)
        assert len(posted) == 1, [r.request.url for r in posted]
        request = posted[0].request
        assert request.method == "POST"
        uuid.UUID(request.headers["idempotency-key"])
        sent = json.loads(request.post_data or "{}")
        assert sent == {
            "address": address,
            "category": "wire_down",
            "channel": "web",
            "phone": "+358 40 123 4567",
        }
        posted[0].fulfill(status=201, json=CANNED_ANSWER)
        answer = page.locator("#report-result")
        expect(answer.locator(".report-number")).to_have_text("Report number 4242")
        expect(answer).to_contain_text("We have received your report")
        expect(answer.locator(".tracking-code")).to_have_text(f"Tracking code: {CANNED_TOKEN}")
        expect(answer.locator(".warning")).to_be_visible()
        expect(page.locator("#track-id")).to_have_value(CANNED_TOKEN)
        page.screenshot(path=SHOTS / "status-en.png", full_page=True)

        # 中文: the same answers rendered from their fields, not the API's English message.
        page.locator("#lang-zh").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(result.locator(".result-title")).to_have_text("供电正常")
        expect(result).to_contain_text("该地址目前没有已知的停电。")
        expect(result).not_to_contain_text("outage")
        expect(answer.locator(".report-number")).to_have_text("报修单号 4242")
        expect(answer).to_contain_text("请远离断落的电线")
        expect(answer).not_to_contain_text("Thank you")

        page.locator("#track-id").fill(UNKNOWN_REPORT)
        page.locator("#track-form button").click()
        expect(page.locator("#track-result")).to_have_text(
            f"没有找到查询码为 {UNKNOWN_REPORT} 的报修\uff0c请检查后重试。"
        )
        page.screenshot(path=SHOTS / "status-zh.png", full_page=True)

        page.locator("#q").fill("Zzyzx Qwerty 12345")
        page.locator("#q").press("Enter")
        expect(result).to_have_attribute("data-state", "error")
        expect(result.locator(".result-title")).to_have_text("没有找到该地址。")
        expect(page.locator("#map")).to_be_hidden()
    finally:
        context.close()

    # A Chinese browser on a desktop opens in Chinese; "use my location" looks the point up.
    context = browser.new_context(
        viewport=DESKTOP,
        locale="zh-CN",
        geolocation={"longitude": lon, "latitude": lat, "accuracy": 20},
        permissions=["geolocation"],
    )
    watch.follow(context)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/status")
        page.wait_for_function("document.documentElement.dataset.statusPage === 'ready'")
        expect(page.locator("#lang-zh")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("h1")).to_have_text("我家有电吗\uff1f")
        with page.expect_response(re.compile(r"/api/v1/layers/roads\?bbox=")):
            page.locator("#locate").click()
        expect(page.locator("#result")).to_have_attribute("data-state", "normal")
        expect(page.locator("#result .result-title")).to_have_text("供电正常")
        expect(page.locator("#report-where")).to_contain_text(address)
        page.screenshot(path=SHOTS / "status-desktop.png")
    finally:
        context.close()
    watch.check()


OUTAGE_ANSWER = {
    "state": "outage",
    "address": "Mannerheimintie 5, 00100 Helsinki",
    "premise_id": 1,
    "message": "There is a power outage in your area and we are working on it.",
    "outage_id": 7,
    "etr": "2030-01-15T14:30:00+02:00",
    "cause": "tree",
    "customers_affected": 1234,
    "upcoming_planned": [
        {
            "id": 3,
            "starts_at": "2030-01-18T09:00:00+02:00",
            "ends_at": "2030-01-18T12:00:00+02:00",
            "reason": "Transformer replacement",
        }
    ],
}


OUTAGE_TEXTS = {
    "en": ["Power outage", "Expected back by", "1,234 customers affected", "tree on the line"],
    "zh-CN": ["停电", "预计恢复供电时间", "影响 1,234 户用户", "树木碰线"],
}
AREA_NOTE = {"en": "Affected area (approximate)", "zh-CN": "影响区域\uff08大致范围\uff09"}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_outage_card_is_rendered_from_fields(
    browser: Browser,
    live_server: str,
    demo_premise: tuple[str, float, float],
    lang: str,
) -> None:
    _, lon, lat = demo_premise
    answer = {**OUTAGE_ANSWER, "lon": lon, "lat": lat}
    watch = Watch(expected=())
    context = browser.new_context(viewport=PHONE, locale=lang, device_scale_factor=2)
    watch.follow(context)
    page = context.new_page()
    page.route("**/api/v1/status?*", lambda route: route.fulfill(json=answer))
    try:
        page.goto(f"{live_server}/status")
        page.wait_for_function("document.documentElement.dataset.statusPage === 'ready'")
        page.locator("#q").fill("Mannerheimintie 5")
        page.locator("#q").press("Enter")
        result = page.locator("#result")
        expect(result).to_have_attribute("data-state", "outage")
        for text_ in OUTAGE_TEXTS[lang]:
            expect(result).to_contain_text(text_)
        expect(result.locator(".upcoming li")).to_have_count(1)
        expect(page.locator("#map path.leaflet-interactive")).to_have_count(1)
        expect(page.locator("#map .map-note")).to_have_text(AREA_NOTE[lang])
        if lang == "zh-CN":
            expect(result).not_to_contain_text("working on it")
        page.screenshot(path=SHOTS / f"status-outage-{lang}.png")
    finally:
        context.close()
    watch.check()
