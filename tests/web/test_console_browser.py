"""The dispatch console in headless Chromium: layers drawn, no errors, nothing fetched off-host.

Chromium is Debian's (``/usr/bin/chromium``): ``playwright install`` cannot download here.
The test leaves a screenshot in ``var/console.png``; the README's are made by
``scripts/screenshots.py``, so test runs never dirty a committed file.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.models import Feeder

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSET_URL = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"([^\"]+)\"")
SCREENSHOT = REPO_ROOT / "var" / "console.png"


def test_console_html_links_only_local_assets(client: TestClient) -> None:
    response = client.get("/console")
    assert response.status_code == 200
    html = response.text
    assets = ASSET_URL.findall(html)
    assert any(a.endswith("/leaflet.js") for a in assets)
    assert any(a.endswith("/leaflet.markercluster.js") for a in assets)
    assert all(a.startswith("/static/") for a in assets), assets
    assert "cdn" not in html
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def login(page: Page, username: str) -> None:
    page.fill("#sd-login input[name=username]", username)
    page.fill("#sd-login input[name=password]", f"{username}-demo-pass")
    page.click("#sd-login button[type=submit]")


def test_console_draws_layers_offline(
    browser: Browser, live_server: str, db_session: Session
) -> None:
    feeders = db_session.scalar(select(func.count()).select_from(Feeder))
    assert feeders
    requested: list[str] = []
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    def on_request(request: Request) -> None:
        requested.append(request.url)

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("request", on_request)
    page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
    try:
        page.goto(f"{live_server}/console")
        # Staff only: the page opens on the login and fetches no layer before it.
        page.wait_for_function("document.documentElement.dataset.console === 'login'")
        assert not [u for u in requested if "/api/v1/layers" in u], requested
        assert page.locator("path.sd-feeder").count() == 0
        login(page, "dispatcher")
        page.wait_for_function(
            "['ready', 'error'].includes(document.documentElement.dataset.console)",
            timeout=20_000,
        )
        state = page.evaluate("document.documentElement.dataset.console")
        assert state == "ready", page.locator("#sd-status").inner_text()

        assert page.locator("path.sd-feeder").count() >= feeders
        assert page.locator("path.sd-segment").count() > 0
        assert page.locator(".sd-device").count() > 0
        assert page.locator(".sd-substation").count() >= 1
        assert page.locator(".marker-cluster").count() > 0
        # At 1440x900 the legend starts folded; its summary unfolds it.
        legend = page.locator(".sd-legend")
        assert not legend.is_visible()
        page.click(".sd-legend-toggle")
        assert legend.is_visible()
        assert legend.locator(".sd-swatch").count() == feeders
        assert page.locator("#sd-credit").is_visible()
        assert "OpenStreetMap contributors, ODbL" in page.locator("#sd-credit").inner_text()
        assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
        assert "synthetic grid" in page.locator("#sd-status").inner_text()
        # The live intake panel (the committed test data has no outage and no report).
        assert page.locator(".sd-panel-outages").is_visible()
        assert page.locator("#sd-outage-sum").inner_text() == "No active outages."
        assert page.locator("#sd-unlocated-count").inner_text() == "0"
        assert "updated" in page.locator("#sd-updated").inner_text()
        assert legend.locator(".sd-area-swatch").count() == 3

        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOT)
    finally:
        context.close()

    assert not errors, errors
    off_host = [u for u in requested if urlsplit(u).scheme != "data"]
    off_host = [u for u in off_host if urlsplit(u).hostname != "127.0.0.1"]
    assert not off_host, off_host
    assert any(u.endswith("/api/v1/layers/premises") for u in requested)
    for live in ("outages", "outage_premises", "reports", "planned", "unlocated"):
        assert any(u.endswith(f"/api/v1/layers/{live}") for u in requested), live


def test_console_login_roles_agent_views_crew_is_refused_logout_clears(
    browser: Browser, live_server: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/console")
        page.wait_for_function("document.documentElement.dataset.console === 'login'")
        login(page, "crew01")
        expect(page.locator("#sd-dispatch .sd-msg-error")).to_have_text(
            "A crew login cannot open the console: use a dispatcher, agent or supervisor login."
        )
        assert page.evaluate("document.documentElement.dataset.console") == "login"
        login(page, "agent")
        page.wait_for_function("document.documentElement.dataset.console === 'ready'")
        note = page.locator("#sd-dispatch .sd-login-note")
        expect(note).to_contain_text("View only: an agent login sees the map")
        assert page.locator("path.sd-feeder").count() > 0
        assert page.locator("#sd-plan").count() == 0
        # Logging out reloads to the bare login: nothing staff-only stays on the screen.
        page.locator("#sd-dispatch [data-act=logout]").click()
        page.wait_for_function("document.documentElement.dataset.console === 'login'")
        assert page.locator("path.sd-feeder").count() == 0
        assert page.evaluate("sessionStorage.getItem('stormdesk.console.token')") is None
    finally:
        context.close()
