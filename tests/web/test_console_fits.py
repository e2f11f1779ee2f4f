"""The console fits a laptop screen with a storm loaded, in headless Chromium at 1280x720 and
1440x900: element boxes are measured, not guessed.

A storm is played once for the module and committed (the live server reads committed data
only), the dispatcher syncs orders; afterwards the intake and dispatch tables are emptied as
``committed_dispatch`` does. The 1280x720 run leaves ``var/console-1280.png`` and
``var/console-1280-proposal.png`` (the README's, in ``docs/img/``, come from
``scripts/screenshots.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from dispatch import solve_worker
from geo.models import Device, Feeder, Region, RoadEdge
from outages.models import ACTIVE_OUTAGE_STATUSES, Outage
from outages.service import open_outage
from scenarios.storm import StormSummary, play_storm
from tests.web.axe import assert_accessible
from tests.web.conftest import DISPATCH_TABLES, INTAKE_TABLES, LIVE_NOW
from tests.web.test_console_browser import login
from web.pages.console import REFRESH_S
from web.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAN_TIMEOUT_MS = 90_000
SIZES = [(1280, 720), (1440, 900)]
SMALL_FAULTS = 4
# The console reloads its live layers every 10 s (web.pages.console.REFRESH_S).
REFRESH_WAIT_MS = int(REFRESH_S * 1000) + 2000
COUNTDOWN = re.compile(r"^(under 1 min|\d+ min|\d+ h|\d+ h \d+ min) (left|over)$")


@pytest.fixture(scope="module")
def storm(engine: Engine, settings: Settings) -> Iterator[StormSummary]:
    """A committed storm at the live server's frozen clock, cleaned away after the module."""
    with Session(engine) as session, session.begin():
        summary = play_storm(session=session, settings=settings, now=LIVE_NOW, seed=7, reports=300)
        # The storm rolls up to one recloser; small faults elsewhere make the list long.
        fuses = session.scalars(
            select(Device)
            .join(Feeder, Feeder.id == Device.feeder_id)
            .where(Device.kind == "fuse", Feeder.code != summary.feeder)
            .order_by(Device.feeder_id, Device.id)
        ).all()
        small: dict[int, Device] = {}
        for fuse in fuses:
            small.setdefault(fuse.feeder_id, fuse)
        for fuse in list(small.values())[:SMALL_FAULTS]:
            open_outage(
                session=session,
                device_code=fuse.code,
                cause="tree on the line",
                confirmed=False,
                settings=settings,
                now=LIVE_NOW - dt.timedelta(minutes=20),
                actor="dispatcher",
            )
    try:
        yield summary
    finally:
        solve_worker.shutdown()
        _clear_dispatch(engine)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(INTAKE_TABLES)} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="module")
def active(engine: Engine, storm: StormSummary) -> list[Any]:
    """The active outages (id, customers_affected), by id."""
    with Session(engine) as session:
        return list(
            session.execute(
                select(Outage.id, Outage.customers_affected)
                .where(Outage.status.in_(ACTIVE_OUTAGE_STATUSES))
                .order_by(Outage.id)
            ).all()
        )


@pytest.fixture(scope="module")
def http(live_server: str, storm: StormSummary) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=120) as client:
        yield client


def _dispatcher(http: httpx.Client) -> dict[str, str]:
    answer = http.post(
        "/api/v1/auth/token", data={"username": "dispatcher", "password": "dispatcher-demo-pass"}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _clear_dispatch(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(DISPATCH_TABLES)} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE dispatch_state SET version = 0"))
        conn.execute(text("UPDATE crew SET geom = NULL, position_at = NULL, status = 'available'"))


@pytest.fixture
def live_orders(http: httpx.Client, engine: Engine) -> list[dict[str, Any]]:
    """Orders synced afresh for each test (an earlier test may have applied a plan)."""
    _clear_dispatch(engine)
    headers = _dispatcher(http)
    synced = http.post("/api/v1/work-orders/sync", headers=headers)
    assert synced.status_code == 200, synced.text
    orders: list[dict[str, Any]] = http.get("/api/v1/work-orders?live=true", headers=headers).json()
    return orders


DROP_REASONS = (
    "no crew on shift has the skills",
    "cannot be reached before the crews' shifts end",
    "a more urgent order is served instead",
)


def _drop(i: int) -> dict[str, Any]:
    """The i-th of a made-up list of dropped orders: 12, 9 and 9 of three reasons."""
    reason = DROP_REASONS[0] if i < 12 else DROP_REASONS[1 + i % 2]
    return {"work_order_id": 100 + i, "priority": 1 + i % 3, "reason": reason}


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not rendered"
    return box


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["y"] >= outer["y"] - 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
        and inner["x"] >= outer["x"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
    )


def _in_viewport(page: Page, locator: Locator) -> bool:
    size = page.viewport_size
    assert size is not None
    return _inside(
        _box(locator), {"x": 0, "y": 0, "width": size["width"], "height": size["height"]}
    )


def _shown_text(page: Page, selector: str) -> str:
    """The text of ``selector``'s element, asserting it lies wholly in the viewport
    (measured in one script, so a re-render cannot slip in between)."""
    found: dict[str, Any] | None = page.evaluate(
        """(selector) => {
            const node = document.querySelector(selector);
            if (!node) return null;
            const r = node.getBoundingClientRect();
            const inside = r.height > 0 && r.top >= 0 && r.left >= 0 &&
                r.bottom <= window.innerHeight && r.right <= window.innerWidth;
            return { inside, text: node.innerText };
        }""",
        selector,
    )
    assert found is not None, f"no {selector}"
    assert found["inside"], f"{selector} is out of view"
    return str(found["text"])


def _fully_shown(page: Page, items: Locator, container: Locator) -> int:
    """How many of ``items`` lie wholly inside ``container``'s box and the viewport."""
    frame = _box(container)
    return sum(
        1
        for i in range(items.count())
        if _inside(_box(items.nth(i)), frame) and _in_viewport(page, items.nth(i))
    )


def _open_logged_in(browser: Browser, live_server: str, width: int, height: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{live_server}/console")
    page.wait_for_function("document.documentElement.dataset.console === 'login'")
    # The login is the first thing in the column, whatever the screen.
    assert _in_viewport(page, page.locator("#sd-login button[type=submit]"))
    login(page, "dispatcher")
    page.wait_for_function("document.documentElement.dataset.console === 'ready'")
    page.wait_for_function("document.documentElement.dataset.dispatch === 'ready'")
    return page


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_outages_queue_proposal_and_confirmation_fit(
    browser: Browser,
    live_server: str,
    active: list[Any],
    live_orders: list[dict[str, Any]],
    width: int,
    height: int,
) -> None:
    assert len(active) >= 5, active
    assert live_orders
    errors: list[str] = []
    page = _open_logged_in(browser, live_server, width, height)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        outages = page.locator("#sd-outage-list .sd-outage-item")
        assert outages.count() == len(active)
        assert _fully_shown(page, outages, page.locator("#sd-outage-list")) >= 4
        orders = page.locator("#sd-orders .sd-order")
        assert orders.count() == len([o for o in live_orders if o["crew_id"] is None])
        assert _fully_shown(page, orders, page.locator(".sd-dispatch-scroll")) >= 1
        # Countdowns are durations in words, not "19:56".
        clocks = [t.strip() for t in page.locator("#sd-orders .sd-clock").all_inner_texts()]
        assert clocks and all(COUNTDOWN.match(c) for c in clocks if c), clocks
        # The legend and the layer list start folded on these screens.
        assert page.locator("details.sd-legend-box").get_attribute("open") is None
        assert page.locator(".leaflet-control-layers-expanded").count() == 0
        if width == 1280:
            page.screenshot(path=REPO_ROOT / "var" / "console-1280.png")
        assert_accessible(page)  # with a storm on the lists and the map

        page.click("#sd-plan")
        summary = page.locator("#sd-proposal-summary")
        summary.wait_for(timeout=PLAN_TIMEOUT_MS)
        apply = summary.locator("[data-act=apply]")
        assert _in_viewport(page, apply)
        assert _in_viewport(page, summary.locator("h3"))
        assert _box(summary)["height"] <= height / 2
        # Dropped orders: one line per reason with its count, the numbers folded inside.
        proposal = page.evaluate("window.stormdesk.console.dispatch.proposal()")
        reasons = {d["reason"] for d in proposal["dropped"]}
        groups = summary.locator(".sd-drop-group")
        assert groups.count() == len(reasons)
        counts = [int(c) for c in summary.locator(".sd-drop-count").all_inner_texts()]
        assert sum(counts) == len(proposal["dropped"])
        assert counts == sorted(counts, reverse=True)
        # A storm night drops more (the issue measured 30 lines above Apply): 30 drops of
        # three reasons are three lines, and Apply stays where it was.
        apply_y = _box(apply)["y"]
        many = {**proposal, "dropped": [_drop(i) for i in range(30)]}
        page.evaluate("(p) => window.stormdesk.console.dispatch.preview(p)", many)
        assert [int(c) for c in summary.locator(".sd-drop-count").all_inner_texts()] == [12, 9, 9]
        assert summary.locator(".sd-drop-group[open]").count() == 0
        assert _box(apply)["y"] == apply_y and _in_viewport(page, apply)
        assert _box(summary)["height"] <= height / 2
        group = summary.locator(".sd-drop-group").first
        group.locator("summary").click()
        assert "#100 P1" in group.inner_text()
        assert _box(apply)["y"] == apply_y
        page.evaluate("(p) => window.stormdesk.console.dispatch.preview(p)", proposal)
        # The outage list still shows its four while the proposal is open.
        assert _fully_shown(page, outages, page.locator("#sd-outage-list")) >= 4
        if width == 1280:
            page.screenshot(path=REPO_ROOT / "var" / "console-1280-proposal.png")
        assert_accessible(page)

        apply.click()
        page.locator(".sd-msg-ok").wait_for()
        # The panel re-renders on every refresh: read the confirmation in one go.
        assert "applied" in _shown_text(page, ".sd-msg-ok")
        page.evaluate("window.stormdesk.console.dispatch.refresh()")
        assert "applied" in _shown_text(page, ".sd-msg-ok")  # still there, still in view
    finally:
        page.context.close()
    assert not errors, errors


def test_keyboard_skip_link_and_enter_opens_an_outage(
    browser: Browser, live_server: str, active: list[Any], live_orders: list[dict[str, Any]]
) -> None:
    page = _open_logged_in(browser, live_server, 1280, 720)
    try:
        # A fresh load (still logged in: the token is in sessionStorage) starts Tab at the top.
        page.reload()
        page.wait_for_function("document.documentElement.dataset.dispatch === 'ready'")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "sd-skip"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "sd-side"
        presses = 0
        while not page.evaluate("document.activeElement.classList.contains('sd-outage-row')"):
            page.keyboard.press("Tab")
            presses += 1
            assert presses <= 6, page.evaluate("document.activeElement.outerHTML.slice(0, 200)")
        first = page.locator("#sd-outage-list .sd-outage-item").first
        page.keyboard.press("Enter")
        assert "sd-open" in (first.get_attribute("class") or "")
        assert first.locator(".sd-explain").is_visible()
        assert first.locator(".sd-outage-row").get_attribute("aria-expanded") == "true"
        # Map markers and paths are not Tab stops: from the top, the map's own controls
        # (zoom, layers) come within a few presses, never hundreds of features.
        focusable = page.evaluate(
            """() => [...document.querySelectorAll(
                    '.leaflet-pane [tabindex], .leaflet-pane a[href]'
                )].filter((n) => n.tabIndex >= 0).length"""
        )
        assert focusable == 0
    finally:
        page.context.close()


def test_regions_street_names_and_search(
    browser: Browser,
    live_server: str,
    active: list[Any],
    live_orders: list[dict[str, Any]],
    db_session: Session,
) -> None:
    regions = db_session.scalar(select(func.count()).select_from(Region))
    page = _open_logged_in(browser, live_server, 1440, 900)
    try:
        # The region summary: one row per region, the customers out adding up to the outages'.
        assert page.locator("#sd-regions-box").get_attribute("open") is not None  # 900 px high
        rows = page.locator("#sd-region-rows tr")
        assert 1 <= rows.count() <= regions
        out = sum(
            int(r.replace(",", ""))
            for r in page.locator("#sd-region-rows td:nth-child(3)").all_inner_texts()
        )
        assert out == sum(o.customers_affected for o in active)
        assert "%" in page.locator("#sd-region-rows td:nth-child(4)").first.inner_text()

        # Street names appear at high zoom, from the roads' stored OSM names.
        name, lon, lat = db_session.execute(
            select(
                RoadEdge.name,
                func.ST_X(func.ST_Centroid(RoadEdge.geom)),
                func.ST_Y(func.ST_Centroid(RoadEdge.geom)),
            )
            .where(RoadEdge.name.is_not(None))
            .order_by(RoadEdge.length_m.desc())
            .limit(1)
        ).one()
        assert page.locator(".sd-street").count() == 0
        page.evaluate(
            f"void window.stormdesk.console.map.setView([{lat}, {lon}], 18, {{animate: false}})"
        )
        page.wait_for_selector(".sd-street")
        assert name in page.locator(".sd-street").all_inner_texts()

        # One search box: an outage by number opens it in the list.
        target = active[-1].id
        page.fill("#sd-q", f"#{target}")
        page.wait_for_selector("#sd-search-hits li")
        assert "Outage" in page.locator("#sd-search-hits li").first.inner_text()
        page.press("#sd-q", "Enter")
        opened = page.locator(f"#sd-outage-list [data-outage='{target}']")
        assert "sd-open" in (opened.get_attribute("class") or "")
    finally:
        page.context.close()


def _set_visibility(page: Page, state: str) -> None:
    page.evaluate(
        """(state) => {
            const get = () => state;
            Object.defineProperty(document, "visibilityState", { configurable: true, get });
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_a_hidden_console_polls_nothing_and_catches_up_when_shown(
    browser: Browser, live_server: str, active: list[Any], live_orders: list[dict[str, Any]]
) -> None:
    page = _open_logged_in(browser, live_server, 1280, 720)
    polled: list[str] = []
    page.on(
        "request",
        lambda r: polled.append(r.url) if "/layers/" in r.url or "/work-orders" in r.url else None,
    )
    try:
        page.wait_for_timeout(REFRESH_WAIT_MS)
        assert any("/layers/outages" in u for u in polled), polled  # visible: it polls
        _set_visibility(page, "hidden")
        page.wait_for_timeout(300)  # a poll already under way may finish
        polled.clear()
        page.wait_for_timeout(REFRESH_WAIT_MS)
        assert polled == []
        _set_visibility(page, "visible")
        page.wait_for_timeout(1500)
        assert any("/layers/outages" in u for u in polled), polled  # at once, not 10 s later
        assert any("/work-orders" in u for u in polled), polled
    finally:
        page.context.close()
