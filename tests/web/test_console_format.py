"""The console's wording of countdowns and times (web/static/console_format.js), run in
headless Chromium on a blank page: the browser's own Intl data, no server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

SCRIPT = Path(__file__).resolve().parents[2] / "web" / "static" / "console_format.js"


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><html lang='en'><body></body></html>")
    page.add_script_tag(path=str(SCRIPT))
    yield page
    context.close()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1196, "19 min left"),  # the "19:56": never rounded up to 20
        (60, "1 min left"),
        (59, "under 1 min left"),
        (0, "under 1 min left"),
        (-1, "under 1 min over"),
        (-300, "5 min over"),
        (-359, "5 min over"),
        (3600, "1 h left"),
        (3900, "1 h 5 min left"),
        (-7500, "2 h 5 min over"),
    ],
)
def test_countdown_wording(page: Page, seconds: int, text: str) -> None:
    assert page.evaluate("(s) => window.stormdeskFormat.countdown(s)", seconds) == text


def test_countdown_without_a_deadline_is_blank(page: Page) -> None:
    assert page.evaluate("window.stormdeskFormat.countdown(null)") == ""


def _time(page: Page, iso: str, now: str, zone: str = "Europe/Helsinki") -> str:
    script = (
        "([iso, now, zone]) => "
        "window.stormdeskFormat.formatter(zone, () => new Date(now)).time(iso)"
    )
    result: str = page.evaluate(script, [iso, now, zone])
    return result


def test_times_today_have_no_date_other_days_do(page: Page) -> None:
    now = "2026-11-23T18:00:00Z"  # 20:00 in Helsinki
    assert _time(page, "2026-11-23T18:40:00Z", now) == "20:40"
    # 22:30 UTC is already tomorrow in Helsinki: the date is the zone's, not UTC's.
    assert _time(page, "2026-11-23T22:30:00Z", now) == "Tue 24 Nov 00:30"
    assert _time(page, "2026-11-22T09:05:00Z", now) == "Sun 22 Nov 11:05"
    assert _time(page, None, now) == "\N{EN DASH}"  # type: ignore[arg-type]


HELSINKI = (
    "window.stormdeskFormat.formatter('Europe/Helsinki', () => new Date('2026-11-23T18:00Z'))"
)


def test_zone_is_named_and_titles_carry_date_and_zone(page: Page) -> None:
    zone = page.evaluate(f"{HELSINKI}.zone")
    assert zone in ("EET", "GMT+2")
    html = page.evaluate(f"{HELSINKI}.timeHtml('2026-11-23T18:40:00Z')")
    assert html.startswith('<time datetime="2026-11-23T18:40:00Z" title="')
    assert "2026" in html and ("EET" in html or "GMT+2" in html) and ">20:40</time>" in html
