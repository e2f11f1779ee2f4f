"""The hotline desk in headless Chromium at 1280x720.

- a caller in a known outage: the caller card and the outage script show, the agent
  answers from the screen in three keys and files nothing new;
- a complaint filed at the desk goes to the department's queue only after the
  supervisor's review, the department replies, the agent answers and records the return
  visit, and the customer tracks it on the status page by its code;
- the knowledge-base box finds a two-character Chinese word ("停电") while the agent types;
- the crew page sends an agent's login on to the desk, the desk a department's to its queue.

The tests commit through ``live_server`` (``committed_hotline`` and ``committed_intake``
clean up). The first leaves ``var/desk.png``; ``docs/img/desk.png`` comes from
``scripts/screenshots.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from geo.models import Device
from hotline.models import KbArticle
from outages.models import Report
from outages.planned import create_planned
from outages.schemas import PlannedOutageCreate
from tests.web.axe import assert_accessible
from tests.web.conftest import LIVE_NOW
from tests.web.desk_helpers import (
    DESKTOP,
    HotlineDemo,
    committed_hotline,
    open_desk,
    premise_in,
)
from web.settings import Settings

__all__ = ["committed_hotline"]  # the fixture, imported for the tests below

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO_ROOT / "var" / "desk.png"


def _token(http: httpx.Client, username: str, password: str | None = None) -> dict[str, str]:
    answer = http.post(
        "/api/v1/auth/token",
        data={"username": username, "password": password or f"{username}-demo-pass"},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _reports(engine: Engine) -> int:
    # A connection of its own, closed at once: a lock held until the test's end would make
    # the clean-up's TRUNCATE wait for ever.
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Report)) or 0


def _open_ticket(page: Page, number: str) -> None:
    page.locator("#queue-rows button.link", has_text=number).click()
    page.wait_for_selector(f'#ticket-title:has-text("{number}")')


def _step(page: Page, step: str, fields: dict[str, str], status: str) -> None:
    box = page.locator(f'#step-form [data-step="{step}"]')
    for name, value in fields.items():
        control = box.locator(f'[name="{name}"]')
        if control.evaluate("node => node.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    box.locator(f'button[data-send="{step}"]').click()
    page.wait_for_selector(f'#step-result .ok[data-status="{status}"]')


def test_a_caller_in_a_known_outage_is_answered_from_the_screen_in_three_keys(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: str,
    committed_hotline: HotlineDemo,
    committed_intake: Engine,
) -> None:
    premise = premise_in(committed_intake, "HEL-R2")
    assert premise.phone
    http = httpx.Client(base_url=live_server, timeout=30)
    request.addfinalizer(http.close)
    first = http.post("/api/v1/reports", json={"account": premise.account, "category": "no_power"})
    assert first.status_code in (200, 201), first.text
    outage_id = first.json()["outage_id"]
    assert outage_id is not None
    storm = http.put(
        "/api/v1/storm-mode",
        json={"on": True, "reason": "storm over HEL-R2"},
        headers=_token(http, "supervisor"),
    )
    assert storm.status_code == 200, storm.text
    reports_before = _reports(committed_intake)
    dispatcher = _token(http, "dispatcher")
    orders_before = http.get("/api/v1/work-orders", headers=dispatcher).json()

    page = open_desk(browser, live_server, "agent", "agent-demo-pass")
    # Storm mode: the top outage scripts lead the call column.
    page.wait_for_selector(f'#storm-list [data-outage="{outage_id}"]')
    assert page.locator("#storm").is_visible()
    rung = http.post(
        "/api/v1/calls",
        json={"channel": "phone", "caller_number": premise.phone, "external_id": "cti-0001"},
        headers=_token(http, "cti"),
    )
    assert rung.status_code == 201, rung.text
    call_id = rung.json()["id"]
    page.wait_for_selector("#answer", timeout=15_000)

    keys = ["Alt+A", "Enter", "Enter"]  # answer, answered from screen, wrap up
    page.keyboard.press(keys[0])
    page.wait_for_selector("#script:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "from-screen"
    card = page.locator("#caller-card").inner_text()
    assert premise.account in card and premise.address in card
    script = page.locator("#script-text").inner_text()
    assert script.startswith("No need for a new report")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert_accessible(page)  # the call screen with the caller, the script and storm mode
    assert page.evaluate("document.activeElement.id") == "from-screen"
    for key in keys[1:]:
        page.keyboard.press(key)
    page.wait_for_selector(f'#wrap-result .ok[data-call="{call_id}"]')

    recorded = http.get(f"/api/v1/calls/{call_id}", headers=_token(http, "agent")).json()
    assert recorded["status"] == "wrapped" and recorded["disposition"] == "outage_answered"
    assert recorded["agent"] == "agent" and recorded["outage_id"] == outage_id
    assert recorded["report_id"] is None and recorded["ticket_id"] is None
    assert _reports(committed_intake) == reports_before
    assert http.get("/api/v1/work-orders", headers=dispatcher).json() == orders_before


def test_a_complaint_from_the_desk_to_the_department_and_back_to_the_customer(
    browser: Browser,
    live_server: str,
    committed_hotline: HotlineDemo,
    committed_intake: Engine,
) -> None:
    premise = premise_in(committed_intake, "HEL-R1")
    agent = open_desk(browser, live_server, "agent", "agent-demo-pass")
    agent.keyboard.press("Alt+N")
    agent.keyboard.type(premise.account)
    agent.keyboard.press("Enter")
    agent.wait_for_selector("#caller:not([hidden]) .facts")
    assert premise.account in agent.locator("#caller-card").inner_text()
    agent.keyboard.press("Alt+R")
    agent.select_option("#file-kind", "complaint")
    agent.select_option("#file-class", "service")
    agent.select_option("#file-accused", committed_hotline.department)
    agent.fill("#file-subject", "Rude answer at the service counter")
    agent.fill("#file-description", "Told to come back another day without a reason.")
    agent.fill("#file-name", "Wang Fang")
    agent.locator("#file-send").click()
    token = agent.locator("#tracking-token").inner_text(timeout=10_000).strip()
    number = agent.locator("#file-result").inner_text().split()[1]
    assert number.startswith("TK") and len(token) >= 16

    # The accused department does not see it before the supervisor's review.
    department = open_desk(
        browser, live_server, committed_hotline.department_login, committed_hotline.password
    )
    assert department.locator("#queue").is_visible() and department.locator("#calls").is_hidden()
    assert department.locator("#tab-calls").is_hidden()
    assert number not in department.locator("#queue-rows").inner_text()

    supervisor = open_desk(browser, live_server, "supervisor", "supervisor-demo-pass")
    supervisor.keyboard.press("Alt+Q")
    supervisor.wait_for_selector(f'#queue-rows button.link:has-text("{number}")')
    _open_ticket(supervisor, number)
    _step(supervisor, "review", {"note": "Recording checked."}, "with_department")

    department.reload()
    department.wait_for_function("document.documentElement.dataset.desk === 'ready'")
    department.wait_for_selector(f'#queue-rows button.link:has-text("{number}")')
    _open_ticket(department, number)
    assert "Wang Fang" in department.locator("#ticket-body").inner_text()
    assert_accessible(department)  # the queue with a ticket and its step form open
    _step(department, "reply", {"body": "Counter staff retrained."}, "replied")

    agent.keyboard.press("Alt+Q")
    agent.select_option("#queue-filter", "replied")
    agent.wait_for_selector(f'#queue-rows button.link:has-text("{number}")')
    _open_ticket(agent, number)
    _step(agent, "answer", {"body": "We apologise; the staff member was retrained."}, "answered")
    _step(agent, "return-visit", {"satisfaction": "satisfied"}, "closed")

    status = agent.context.new_page()
    status.goto(f"{live_server}/status")
    status.fill("#ticket-token", token)
    status.locator("#ticket-track-form button").click()
    shown = status.locator('#ticket-track-result .ticket-status[data-status="closed"]')
    shown.wait_for()
    assert number in shown.inner_text()
    public = status.locator("#ticket-track").inner_text()
    for secret in ("Wang Fang", "HEL-R1-SERVICE", "retrained"):
        assert secret not in public
    assert_accessible(status)


def test_the_desk_box_finds_a_two_character_chinese_word_while_typing(
    browser: Browser, live_server: str, engine: Engine, committed_hotline: HotlineDemo
) -> None:
    with Session(engine) as session:
        expected = session.scalar(
            select(KbArticle.id).where(
                KbArticle.slug == "power-failure-what-to-do", KbArticle.language == "zh"
            )
        )
    page = open_desk(browser, live_server, "agent", "agent-demo-pass")
    page.keyboard.press("Alt+K")
    assert page.evaluate("document.activeElement.id") == "kb-q"
    page.keyboard.type("停电", delay=50)
    page.wait_for_selector("#kb-hits .hit")
    shown = [
        int(a)
        for a in page.locator("#kb-hits .hit").evaluate_all(
            "nodes => nodes.map((n) => n.dataset.article)"
        )
    ]
    assert expected in shown[:3], shown
    top = page.locator(f'#kb-hits [data-article="{expected}"]').inner_text()
    assert "停电" in top
    page.locator("#lang").click()  # the page in Chinese, hits shown
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator("#file-title").inner_text().startswith("受理")
    assert_accessible(page)


def test_an_agent_on_the_crew_page_lands_on_the_desk_and_a_department_on_its_queue(
    browser: Browser, live_server: str, committed_hotline: HotlineDemo
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server}/crew")
    page.fill("#username", "agent")
    page.fill("#password", "agent-demo-pass")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/desk", timeout=15_000)
    page.wait_for_function("document.documentElement.dataset.desk === 'ready'")
    assert "agent" in page.locator("#who").inner_text()
    assert page.locator("#calls").is_visible()

    # A department member is sent from the desk's call screen to the department's queue.
    page.locator("#logout").click()
    page.wait_for_function("document.documentElement.dataset.desk === 'login'")
    page.fill("#username", committed_hotline.department_login)
    page.fill("#password", committed_hotline.password)
    page.keyboard.press("Enter")
    page.wait_for_function("document.documentElement.dataset.desk === 'ready'")
    assert page.locator("#queue").is_visible() and page.locator("#calls").is_hidden()
    assert committed_hotline.department in page.locator("#queue-title").inner_text()

    context.close()


def test_the_storm_list_names_planned_work_and_leaves_no_empty_part(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: str,
    settings: Settings,
    committed_hotline: HotlineDemo,
    committed_intake: Engine,
) -> None:
    """Planned work under way has no region or feeder in the storm list: it once read
    "2. · 64 customers"; now "Planned work · 64 customers", "计划检修 · 64 户"."""
    with Session(committed_intake) as session, session.begin():
        device = session.scalars(
            select(Device).where(Device.kind == "transformer").order_by(Device.id)
        ).first()
        assert device is not None
        work = create_planned(
            session=session,
            data=PlannedOutageCreate(
                reason="transformer maintenance",
                starts_at=LIVE_NOW - dt.timedelta(hours=1),
                ends_at=LIVE_NOW + dt.timedelta(hours=3),
                devices=[device.code],
            ),
            settings=settings,
            now=LIVE_NOW - dt.timedelta(hours=2),
            actor="dispatcher",
        )
    assert work.customers_affected > 1
    http = httpx.Client(base_url=live_server, timeout=30)
    request.addfinalizer(http.close)
    storm = http.put(
        "/api/v1/storm-mode",
        json={"on": True, "reason": "storm test"},
        headers=_token(http, "supervisor"),
    )
    assert storm.status_code == 200, storm.text

    page = open_desk(browser, live_server, "agent", "agent-demo-pass")
    heading = page.locator(f'#storm-list [data-planned="{work.id}"] strong')
    heading.wait_for()
    n = work.customers_affected
    assert heading.inner_text() == f"Planned work · {n} customers"
    # In Chinese at once (the list is re-drawn on the switch, not at the next refresh).
    page.locator("#lang").click()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert heading.inner_text() == f"计划检修 · {n} 户"
    script = page.locator(f'#storm-list [data-planned="{work.id}"]').inner_text()
    assert "无需报修" in script
    page.context.close()
