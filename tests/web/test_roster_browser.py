"""The week's roster plan on /reports?week= in headless Chromium: the supervisor logs in and
sees the plan against its forecast as two SVG charts, its figures and the half-hour table,
with nothing fetched off-host; the wallboard says where its prediction comes from.

The plan is committed to the shared test database (the live server reads committed data
only) and removed afterwards. The test leaves a screenshot in ``var/roster.png``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tests.hotline.plan_helpers import peak_week, store_plan
from tests.web.axe import assert_accessible
from tests.web.conftest import LIVE_NOW

# The live server's clock stands at LIVE_NOW: plan the week it falls in, so the wallboard
# finds the plan in force too.
WEEK = LIVE_NOW.date() - dt.timedelta(days=LIVE_NOW.date().weekday())
AGENTS = 3
SCREENSHOT = Path(__file__).resolve().parents[2] / "var" / "roster.png"


@pytest.fixture
def committed_plan(engine: Engine) -> Iterator[dict[str, float]]:
    with Session(engine) as session:
        plan = store_plan(
            session,
            region="HEL-R1",
            week=WEEK,
            calls=peak_week(2 * 48 + 20, 40.0, base_calls=6.0),
            agents=[AGENTS] * 336,
            ivr_share=0.3,
        )
        figures = {
            "agent_hours": plan.agent_hours,
            "saved": 0.5 * (sum(plan.required_agents_no_ivr) - sum(plan.required_agents)),
        }
        session.commit()
    yield figures
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE roster_plan RESTART IDENTITY"))


def _login(page: Page) -> None:
    page.fill("#login input[name=username]", "supervisor")
    page.fill("#login input[name=password]", "supervisor-demo-pass")
    page.click("#login button[type=submit]")


def _headline(page: Page, label: str) -> str:
    return (
        page.locator(".headline div", has=page.locator(f'dt:text-is("{label}")'))
        .locator("dd")
        .inner_text()
    )


def test_the_week_plan_shows_against_its_forecast(
    browser: Browser, live_server: str, committed_plan: dict[str, float]
) -> None:
    errors: list[str] = []
    requested: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requested.append(r.url))
    try:
        page.goto(f"{live_server}/reports?week={WEEK.isoformat()}")
        _login(page)
        page.wait_for_selector("#report section.report svg.chart", timeout=20_000)
        assert page.locator('#tabs button[data-tab="roster"]').get_attribute("aria-pressed") == (
            "true"
        )
        assert page.input_value("#date") == WEEK.isoformat()
        charts = page.locator("#report svg.chart")
        assert charts.count() == 2
        assert "Agents per half hour" in (charts.nth(1).get_attribute("aria-label") or "")
        # Each chart draws its lines: forecast and calls to agents; three agent series.
        assert charts.nth(0).locator("polyline").count() == 2
        assert charts.nth(0).locator("polygon").count() == 1  # the 80% band
        assert charts.nth(1).locator("polyline").count() == 3
        assert _headline(page, "Agent-hours") == f"{committed_plan['agent_hours']:,.2f}"
        assert _headline(page, "Agent-hours saved") == f"{committed_plan['saved']:,.2f}"
        assert _headline(page, "Service level (20 s)") == "86.0%"
        assert _headline(page, "Service level, 95% low") == "84.0%"
        assert _headline(page, "Abandonment") == "2.1%"
        rows = page.locator('table[data-section="half_hours"] tbody tr')
        assert rows.count() == 336
        assert (
            page.locator('table[data-section="plans"] tbody tr')
            .first.inner_text()
            .startswith("HEL-R1")
        )
        assert_accessible(page)
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

        # The wallboard in the same week: HEL-R1's next 30 minutes come from the roster.
        page.goto(f"{live_server}/wallboard")
        tile = page.locator('section.region[data-region="HEL-R1"]')
        tile.wait_for(timeout=20_000)
        assert "predicted from: forecast x roster" in tile.inner_text()
        assert "next 30 min: late calls" in tile.inner_text()
    finally:
        context.close()
    assert not errors, errors
    hosts = {urlsplit(u).netloc for u in requested if not u.startswith(("data:", "blob:"))}
    assert hosts == {urlsplit(live_server).netloc}, hosts
