"""The console's dispatch panel in headless Chromium: log in, see the queue, plan, see the
proposal drawn, a stale apply answered with a clear 409 message, re-plan, apply, routes current.

Orders are made through the live server (reports, then sync as the dispatcher), so the test
commits; ``committed_dispatch`` empties the tables afterwards. It leaves
``var/console-dispatch.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dispatch import solve_worker
from geo.models import Premise

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO_ROOT / "var" / "console-dispatch.png"
PLAN_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module", autouse=True)
def _stop_worker() -> Iterator[None]:
    yield
    solve_worker.shutdown()


def _token(http: httpx.Client, username: str) -> dict[str, str]:
    answer = http.post(
        "/api/v1/auth/token", data={"username": username, "password": f"{username}-demo-pass"}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _accounts(session: Session, n: int) -> list[str]:
    """Accounts of ``n`` non-critical premises below different transformers."""
    rows = session.execute(
        select(Premise.account, Premise.transformer_id)
        .where(Premise.transformer_id.is_not(None), Premise.critical.is_(None))
        .order_by(Premise.id)
    ).all()
    seen: dict[int, str] = {}
    for account, transformer in rows:
        seen.setdefault(transformer, account)
    accounts = list(seen.values())[:: max(1, len(seen) // n)][:n]
    assert len(accounts) == n
    return accounts


def _plan(page: Page) -> None:
    page.click("#sd-plan")
    page.wait_for_selector("#sd-proposal-summary", timeout=PLAN_TIMEOUT_MS)


def test_console_plan_conflict_replan_and_apply(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: str,
    db_session: Session,
    committed_dispatch: Engine,
) -> None:
    http = httpx.Client(base_url=live_server, timeout=120)
    request.addfinalizer(http.close)
    dispatcher = _token(http, "dispatcher")
    accounts = _accounts(db_session, 4)
    for account in accounts[:3]:
        filed = http.post("/api/v1/reports", json={"account": account, "category": "no_power"})
        assert filed.status_code in (200, 201), filed.text
    # A fallen wire: a hazard, so a priority-1 order the console offers to re-plan for.
    hazard = http.post("/api/v1/reports", json={"account": accounts[3], "category": "wire_down"})
    assert hazard.status_code in (200, 201), hazard.text
    synced = http.post("/api/v1/work-orders/sync", headers=dispatcher)
    assert synced.status_code == 200, synced.text
    live = http.get("/api/v1/work-orders?live=true", headers=dispatcher).json()
    assert len(live) >= 3
    assert any(o["urgency"]["priority"] == 1 for o in live)

    requested: list[str] = []
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # The one refused apply (409) is expected; Chromium logs every non-2xx load.
        if message.type == "error" and "409" not in message.text:
            errors.append(f"console: {message.text}")

    def on_request(sent: Request) -> None:
        requested.append(sent.url)

    def on_response(response: Response) -> None:
        expected = response.status == 409 and response.url.endswith("/apply")
        if response.status >= 400 and not expected:
            errors.append(f"{response.status} {response.url}")

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("request", on_request)
    page.on("response", on_response)
    try:
        page.goto(f"{live_server}/console")
        page.wait_for_function("document.documentElement.dataset.console === 'login'")
        assert "log in to see the map and to dispatch" in page.locator("#sd-dispatch").inner_text()
        page.fill("#sd-login input[name=username]", "dispatcher")
        page.fill("#sd-login input[name=password]", "dispatcher-demo-pass")
        page.click("#sd-login button[type=submit]")
        page.wait_for_function("document.documentElement.dataset.console === 'ready'")
        page.wait_for_function("document.documentElement.dataset.dispatch === 'ready'")
        assert int(page.locator("#sd-unassigned-count").inner_text()) == len(live)
        assert page.locator("#sd-orders .sd-clock").count() == len(live)
        assert page.locator("#sd-replan-banner").is_visible()
        assert page.locator(".sd-crew").count() == 8

        _plan(page)
        assert page.locator("path.sd-proposal").count() > 0
        summary = page.locator("#sd-proposal-summary").inner_text()
        assert "served" in summary and "dropped" in summary and "Changes" in summary

        # Someone else plans and applies meanwhile: this proposal is stale.
        other = http.post("/api/v1/dispatch/plan", json={"time_limit_s": 1}, headers=dispatcher)
        assert other.status_code == 200, other.text
        done = http.post(f"/api/v1/dispatch/plans/{other.json()['id']}/apply", headers=dispatcher)
        assert done.status_code == 200, done.text
        page.click("[data-act=apply]")
        conflict = page.locator(".sd-msg-conflict")
        conflict.wait_for()
        assert "someone else changed the plan" in conflict.inner_text()

        conflict.locator("[data-act=plan]").click()
        page.wait_for_selector("#sd-proposal-summary", timeout=PLAN_TIMEOUT_MS)
        assert page.locator("path.sd-proposal").count() > 0
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOT)
        page.click("[data-act=apply]")
        page.locator(".sd-msg-ok").wait_for()
        page.wait_for_selector("path.sd-route")
        assert page.locator("path.sd-proposal").count() == 0
        # Every order of the applied plan is listed as a stop of its crew, in route order.
        current = http.get("/api/v1/dispatch/current", headers=dispatcher).json()
        for route in current["routes"]:
            if route["visits"]:
                shown = page.locator(f"li[data-crew='{route['crew_id']}'] .sd-stops")
                expected = [f"#{v['work_order_id']}" for v in route["visits"]]
                assert shown.inner_text().replace("🔒", "").split(" → ") == expected
    finally:
        context.close()

    assert not errors, errors
    off_host = [u for u in requested if urlsplit(u).scheme != "data"]
    off_host = [u for u in off_host if urlsplit(u).hostname != "127.0.0.1"]
    assert not off_host, off_host
    current = http.get("/api/v1/dispatch/current", headers=dispatcher).json()
    assigned = {v["work_order_id"] for r in current["routes"] for v in r["visits"]}
    assert assigned
    assert current["plan_id"] is not None
