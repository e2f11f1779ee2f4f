"""The landing page at ``/``: links to every face, English and Chinese, plural forms, axe."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.models import Premise
from tests.web.axe import assert_accessible
from web.pages.landing import CUSTOMER_FORMS, OUTAGE_FORMS, choose_language, plural

FACES = ("/status", "/outages", "/console", "/crew", "/desk")


@pytest.mark.parametrize(
    ("lang", "n", "forms", "text"),
    [
        ("en", 1, OUTAGE_FORMS["en"], "1 outage"),
        ("en", 0, OUTAGE_FORMS["en"], "0 outages"),
        ("en", 2, OUTAGE_FORMS["en"], "2 outages"),
        ("en", 1, CUSTOMER_FORMS["en"], "1 customer off"),
        ("en", 1234, CUSTOMER_FORMS["en"], "1,234 customers off"),
        ("zh-CN", 1, OUTAGE_FORMS["zh-CN"], "1 处停电"),
        ("zh-CN", 3, CUSTOMER_FORMS["zh-CN"], "3 户停电"),
    ],
)
def test_plural_forms_per_language(lang: str, n: int, forms: dict[str, str], text: str) -> None:
    assert plural(lang, n, forms) == text


def test_language_from_query_then_accept_language() -> None:
    assert choose_language(None, "zh-CN,zh;q=0.9,en;q=0.8") == "zh-CN"
    assert choose_language(None, "fi-FI, en-GB;q=0.8") == "en"
    assert choose_language("en", "zh-CN") == "en"
    assert choose_language("xx", None) == "en"


def test_landing_links_every_face_in_both_languages(client: TestClient) -> None:
    english = client.get("/", headers={"Accept-Language": "en-GB"})
    assert english.status_code == 200
    assert english.headers["content-type"].startswith("text/html")
    assert english.headers["content-language"] == "en"
    html = english.text
    assert '<html lang="en">' in html
    hrefs = set(re.findall(r'href="([^"]+)"', html))
    assert set(FACES) <= hrefs
    assert "No known outages right now." in html
    chinese = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in chinese.text and "停电地图" in chinese.text
    assert set(FACES) <= set(re.findall(r'href="([^"]+)"', chinese.text))
    assert (
        client.get("/?lang=en", headers={"Accept-Language": "zh-CN"}).headers["content-language"]
        == "en"
    )


def test_landing_counts_outages_with_plurals(client: TestClient, db_session: Session) -> None:
    premise = db_session.scalars(
        select(Premise).where(Premise.transformer_id.is_not(None)).order_by(Premise.id).limit(1)
    ).one()
    filed = client.post(
        "/api/v1/reports", json={"account": premise.account, "category": "no_power"}
    )
    assert filed.status_code == 201, filed.text
    customers = client.get(f"/api/v1/outages/{filed.json()['outage_id']}").json()[
        "customers_affected"
    ]
    html = client.get("/?lang=en").text
    word = "customer" if customers == 1 else "customers"
    assert f"1 outage · {customers:,} {word} off" in html
    assert "1 outages" not in html
    assert f"1 处停电 · {customers:,} 户停电" in client.get("/?lang=zh-CN").text


def test_landing_in_a_browser_is_accessible_in_both_languages(
    browser: Browser, live_server: str
) -> None:
    for locale, title in (("en-US", "Outages and repairs"), ("zh-CN", "停电报修与抢修调度")):
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
        page = context.new_page()
        try:
            page.goto(f"{live_server}/")
            expect(page.locator("h1")).to_have_text(title)
            assert_accessible(page)
            page.locator("#face-status").click()
            page.wait_for_url(f"{live_server}/status")
        finally:
            context.close()
