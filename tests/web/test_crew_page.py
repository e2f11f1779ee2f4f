"""The crew page on a phone: log in, see my job, en route -> on site (queued through a network
drop) -> restored; the outage and the customer's status follow. And a crew's 403 on another
crew's job.

The browser test commits through ``live_server`` (``committed_dispatch`` cleans up). It
leaves ``var/crew.png``; the README's comes from
``scripts/screenshots.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dispatch.models import Crew
from geo.models import Device, Premise
from tests.dispatch.helpers import NOW, frozen, login, order_of, outage_on, sync, urban_device
from tests.web.axe import assert_accessible
from web.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO_ROOT / "var" / "crew.png"
PHONE = {"width": 390, "height": 844}
CREW = "CREW-08"  # round the clock, skills cable, line and transformer: on shift whenever run
CREW_LOGIN = "crew08"


def _token(http: httpx.Client, username: str) -> dict[str, str]:
    answer = http.post(
        "/api/v1/auth/token", data={"username": username, "password": f"{username}-demo-pass"}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _order_status(http: httpx.Client, headers: dict[str, str], order_id: int) -> str:
    answer = http.get(f"/api/v1/work-orders/{order_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    status: str = answer.json()["status"]
    return status


def _tap(page: Page, order_id: int, step: str) -> None:
    page.locator(f'[data-order="{order_id}"] button[data-step="{step}"]').click()


def _shown(page: Page, order_id: int, status: str) -> None:
    page.wait_for_selector(
        f'[data-order="{order_id}"]:not(.waiting) .chip[data-status="{status}"]', timeout=15_000
    )


def test_crew_takes_a_job_from_en_route_to_restored_through_a_network_drop(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: str,
    db_session: Session,
    committed_dispatch: Engine,
) -> None:
    premise = db_session.scalar(
        select(Premise)
        .join(Device, Device.id == Premise.transformer_id)
        .where(Premise.critical.is_(None))
        .order_by(Premise.id)
        .limit(1)
    )
    assert premise is not None
    account = premise.account
    http = httpx.Client(base_url=live_server, timeout=30)
    request.addfinalizer(http.close)
    dispatcher = _token(http, "dispatcher")
    report = http.post("/api/v1/reports", json={"account": account, "category": "no_power"})
    assert report.status_code in (200, 201), report.text
    outage_id = report.json()["outage_id"]
    assert outage_id is not None, report.json()
    synced = http.post("/api/v1/work-orders/sync", headers=dispatcher)
    assert synced.status_code == 200, synced.text
    orders = http.get("/api/v1/work-orders?live=true", headers=dispatcher).json()
    order_id = next(o["id"] for o in orders if o["outage_id"] == outage_id)
    crews = http.get("/api/v1/crews", headers=dispatcher).json()["features"]
    crew_id = next(f["id"] for f in crews if f["properties"]["code"] == CREW)
    assigned = http.post(
        f"/api/v1/work-orders/{order_id}/assign",
        json={"crew_id": crew_id, "lock": True},
        headers=dispatcher,
    )
    assert assigned.status_code == 200, assigned.text
    assert http.get(f"/api/v1/status?account={account}").json()["state"] == "outage"

    requested: list[str] = []
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Chromium logs each request refused while offline; that is the drop we made.
        if message.type == "error" and "ERR_INTERNET_DISCONNECTED" not in message.text:
            errors.append(f"console: {message.text}")

    def on_request(sent: Request) -> None:
        requested.append(sent.url)

    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        geolocation=_where(db_session, premise),
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("request", on_request)
    try:
        page.goto(f"{live_server}/crew")
        page.wait_for_function("document.documentElement.dataset.crew === 'login'")
        assert_accessible(page)
        page.fill("#username", CREW_LOGIN)
        page.fill("#password", f"{CREW_LOGIN}-demo-pass")
        page.click("#login-form button[type=submit]")
        page.wait_for_function("document.documentElement.dataset.crew === 'ready'", timeout=20_000)
        card = page.locator(f'[data-order="{order_id}"]')
        assert card.is_visible()
        assert CREW in page.locator("#crew-name").inner_text()
        assert re.search(r"\b1 customer off\b|\b\d+ customers off\b", card.inner_text())
        assert not re.search(r"\b1 customers\b|\b1 jobs\b", page.locator("#main").inner_text())
        assert_accessible(page)
        geo_link = card.locator('a[data-nav="geo"]').get_attribute("href") or ""
        assert geo_link.startswith("geo:")
        https_link = card.locator('a[data-nav="https"]').get_attribute("href") or ""
        assert https_link.startswith("https://")
        assert page.locator("path.crew-route").count() >= 1
        # Leaflet sizes the map: the page must not scroll sideways on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        _tap(page, order_id, "en_route")
        _shown(page, order_id, "en_route")
        assert _order_status(http, dispatcher, order_id) == "en_route"

        context.set_offline(True)
        card.locator("textarea.note").fill("Fuse blown at the pole-mounted transformer")
        _tap(page, order_id, "on_site")
        queue = page.locator("#queue")
        queue.wait_for(state="visible")
        assert "1 update waiting" in queue.inner_text()
        assert "waiting" in card.locator(".chip").inner_text()
        assert page.locator("#net").inner_text() == "Offline"
        assert _order_status(http, dispatcher, order_id) == "en_route"
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOT)

        context.set_offline(False)
        queue.wait_for(state="hidden", timeout=15_000)
        _shown(page, order_id, "on_site")
        assert _order_status(http, dispatcher, order_id) == "on_site"

        # Restored asks for a second tap: one slip of the thumb restores no one.
        _tap(page, order_id, "restored")
        page.wait_for_timeout(300)
        assert _order_status(http, dispatcher, order_id) == "on_site"
        page.locator(f'[data-order="{order_id}"] [data-confirm="restored"]').click()
        _shown(page, order_id, "restored")
        assert _order_status(http, dispatcher, order_id) == "restored"
        # ... and can be taken back for two minutes.
        undo = page.locator(f'[data-undo="{order_id}"]')
        undo.wait_for()
        assert "Undo Restored" in undo.inner_text()
    finally:
        context.close()

    assert not errors, errors
    off_host = [u for u in requested if urlsplit(u).scheme not in ("data", "blob")]
    off_host = [u for u in off_host if urlsplit(u).hostname != "127.0.0.1"]
    assert not off_host, off_host
    assert any(u.endswith(f"/api/v1/crews/{crew_id}/position") for u in requested)
    outage = http.get(f"/api/v1/outages/{outage_id}", headers=dispatcher).json()
    assert outage["status"] == "restored", outage
    assert http.get(f"/api/v1/status?account={account}").json()["state"] == "restored"


def _where(session: Session, premise: Premise) -> dict[str, float]:
    """The phone's GPS fix: at the premise."""
    lon, lat = session.execute(
        select(Premise.geom.ST_X(), Premise.geom.ST_Y()).where(Premise.id == premise.id)
    ).one()
    return {"longitude": float(lon), "latitude": float(lat)}


def test_a_crew_may_not_touch_another_crews_job(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    outage = outage_on(db_session, settings, urban_device(db_session, "transformer"))
    sync(db_session, settings)
    order = order_of(db_session, outage.id)
    crew08 = db_session.scalar(select(Crew).where(Crew.code == CREW))
    crew01 = db_session.scalar(select(Crew).where(Crew.code == "CREW-01"))
    assert crew08 is not None and crew01 is not None
    dispatcher = login(client, "dispatcher")
    other = login(client, "crew01")
    owner = login(client, CREW_LOGIN)
    with frozen(client, NOW):
        assigned = client.post(
            f"/api/v1/work-orders/{order.id}/assign",
            json={"crew_id": crew08.id},
            headers=dispatcher,
        )
        assert assigned.status_code == 200, assigned.text
        base = f"/api/v1/work-orders/{order.id}"
        refused = client.post(f"{base}/transition", json={"to": "en_route"}, headers=other)
        assert refused.status_code == 403
        assert "not assigned to your crew" in refused.json()["detail"]
        assert client.post(f"{base}/help", json={"note": "x"}, headers=other).status_code == 403
        position = {"lon": 24.94, "lat": 60.17}
        elsewhere = client.post(f"/api/v1/crews/{crew08.id}/position", json=position, headers=other)
        assert elsewhere.status_code == 403
        assert client.get(base, headers=dispatcher).json()["status"] == "dispatched"
        # The owner may; a repeat is idempotent, help is recorded once per request id.
        for _ in range(2):
            mine = client.post(f"{base}/transition", json={"to": "en_route"}, headers=owner)
            assert mine.status_code == 200, mine.text
            assert mine.json()["status"] == "en_route"
        ask = {"note": "need a second crew", "request_id": "r-1"}
        first = client.post(f"{base}/help", json=ask, headers=owner)
        again = client.post(f"{base}/help", json=ask, headers=owner)
        assert first.status_code == again.status_code == 202
        assert first.json()["recorded"] is True
        assert again.json()["recorded"] is False
        # Crew 01's own position is fine.
        own = client.post(f"/api/v1/crews/{crew01.id}/position", json=position, headers=other)
        assert own.status_code == 204


def test_planned_job_can_be_set_out_on_by_its_crew(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    outage = outage_on(db_session, settings, urban_device(db_session, "transformer"))
    sync(db_session, settings)
    order = order_of(db_session, outage.id)
    crew08 = db_session.scalar(select(Crew).where(Crew.code == CREW))
    assert crew08 is not None
    order.crew_id, order.status, order.route_seq = crew08.id, "planned", 1
    db_session.flush()
    with frozen(client, NOW):
        answer = client.post(
            f"/api/v1/work-orders/{order.id}/transition",
            json={"to": "en_route"},
            headers=login(client, CREW_LOGIN),
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "en_route"


def test_crew_page_links_only_local_assets(client: TestClient) -> None:
    html = client.get("/crew").text
    assert 'name="viewport"' in html
    assert "cdn" not in html
    assert "/static/crew.js" in html and "/static/vendor/leaflet/leaflet.js" in html


def test_crew_page_in_chinese_from_the_browser_and_by_the_switch(
    browser: Browser, live_server: str
) -> None:
    """A Chinese phone opens the page in Chinese; the switch changes every text and sticks."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{live_server}/crew")
        page.wait_for_function("document.documentElement.dataset.crew === 'login'")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("#login-title")).to_have_text("抢修班组登录")
        expect(page.locator("#lang-zh")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#net")).to_have_text("在线")
        page.fill("#username", "crew01")
        page.fill("#password", "crew01-demo-pass")
        page.click("#login-form button[type=submit]")
        page.wait_for_function("document.documentElement.dataset.crew === 'ready'", timeout=20_000)
        summary = page.locator("#summary strong")
        expect(summary).to_have_text(re.compile(r"^\d+ 个工单$"))
        expect(page.locator("#logout")).to_have_text("退出登录")
        assert_accessible(page)

        page.locator("#lang-en").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(summary).to_have_text(re.compile(r"^(1 job|\d+ jobs)$"))
        expect(page.locator("#logout")).to_have_text("Log out")
        expect(page.locator("#net")).to_have_text("Online")
        page.reload()
        page.wait_for_function("document.documentElement.dataset.crew === 'ready'", timeout=20_000)
        expect(page.locator("#logout")).to_have_text("Log out")  # remembered over the locale
    finally:
        context.close()
    assert not errors, errors


def test_a_job_with_a_make_safe_task_shows_the_task_and_takes_the_tap(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: str,
    db_session: Session,
    committed_dispatch: Engine,
) -> None:
    """A wire down inside the outage is a make-safe task on the crew's job. Its button once
    called the task instead of the translation (``t`` shadowed), so a crew with a hazard
    job saw no job at all and the page said "Offline"."""
    first, second = db_session.scalars(
        select(Premise)
        .where(Premise.critical.is_(None), Premise.transformer_id.is_not(None))
        .order_by(Premise.transformer_id, Premise.id)
        .limit(2)
    ).all()
    assert first.transformer_id == second.transformer_id
    http = httpx.Client(base_url=live_server, timeout=30)
    request.addfinalizer(http.close)
    dispatcher = _token(http, "dispatcher")
    out = http.post("/api/v1/reports", json={"account": first.account, "category": "no_power"})
    assert out.status_code in (200, 201), out.text
    outage_id = out.json()["outage_id"]
    wire = http.post("/api/v1/reports", json={"account": second.account, "category": "wire_down"})
    assert wire.status_code in (200, 201), wire.text
    assert wire.json()["outage_id"] == outage_id, wire.json()
    assert http.post("/api/v1/work-orders/sync", headers=dispatcher).status_code == 200
    orders = http.get("/api/v1/work-orders?live=true", headers=dispatcher).json()
    order = next(o for o in orders if o["outage_id"] == outage_id)
    assert [t["status"] for t in order["tasks"]] == ["open"], order["tasks"]
    crews = http.get("/api/v1/crews", headers=dispatcher).json()["features"]
    crew_id = next(f["id"] for f in crews if f["properties"]["code"] == CREW)
    assigned = http.post(
        f"/api/v1/work-orders/{order['id']}/assign",
        json={"crew_id": crew_id, "lock": True},
        headers=dispatcher,
    )
    assert assigned.status_code == 200, assigned.text

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{live_server}/crew")
        page.wait_for_function("document.documentElement.dataset.crew === 'login'")
        page.fill("#username", CREW_LOGIN)
        page.fill("#password", f"{CREW_LOGIN}-demo-pass")
        page.click("#login-form button[type=submit]")
        page.wait_for_function("document.documentElement.dataset.crew === 'ready'", timeout=20_000)
        task = page.locator(f'[data-order="{order["id"]}"] li.task')
        expect(task).to_have_count(1)
        expect(page.locator("#net")).to_have_text("Online")
        button = task.locator("button[data-made-safe]")
        expect(button).to_have_text("Made safe")
        button.click()
        expect(task).to_have_class(re.compile(r"\bsafe\b"), timeout=15_000)
        assert_accessible(page)
    finally:
        context.close()
    assert not errors, errors
    tasks = http.get(f"/api/v1/work-orders/{order['id']}", headers=dispatcher).json()["tasks"]
    assert [t["status"] for t in tasks] == ["made_safe"], tasks


def test_a_drawing_bug_surfaces_instead_of_passing_for_offline(
    browser: Browser, live_server: str
) -> None:
    """Only a request with no answer means Offline; an error while drawing the jobs (here a
    job the page cannot read) reaches the console as an error, and the badge stays Online."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.route(
        "**/api/v1/work-orders?live=true*",
        lambda route: route.fulfill(json=[{"id": 1, "status": "dispatched", "tasks": "??"}]),
    )
    try:
        page.goto(f"{live_server}/crew")
        page.wait_for_function("document.documentElement.dataset.crew === 'login'")
        page.fill("#username", "crew01")
        page.fill("#password", "crew01-demo-pass")
        with page.expect_event("pageerror", timeout=15_000) as caught:
            page.click("#login-form button[type=submit]")
        assert str(caught.value)  # the job the page could not read, as an error
        expect(page.locator("#net")).to_have_text("Online")
        expect(page.locator("#updated")).not_to_have_text("Offline: showing the last jobs loaded.")
        expect(page.locator("#login")).to_be_hidden()  # not sent back to log in "offline"
    finally:
        context.close()
