"""What the desk's browser tests share: the hotline's demo data committed for the live
server (departments and routes, the knowledge base, one department login), logging in at
``/desk``, and a premise in a region.

The live server reads committed data only, so ``committed_hotline`` commits what the demo
city does not hold yet and takes it away afterwards: tickets, calls and the storm switch
always; departments, articles and the department login only when it made them, so demo data
loaded elsewhere stays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from geo.auth import create_user
from geo.models import Premise, Region, User
from geo.settings import REPO_ROOT
from hotline.departments import seed_departments, set_member
from hotline.kb_seed import read_seed_file, seed_articles
from hotline.models import Department, KbArticle
from tests.web.axe import assert_accessible

DESKTOP = {"width": 1280, "height": 720}
DEPARTMENT_LOGIN = "svc1"
DEPARTMENT = "HEL-R1-SERVICE"
PASSWORD = "lantern-quartz-41"
# Emptied after every test: what the desk and the CTI made.
# ``event`` too: ticket ids restart, and a later test's ticket must not inherit this one's
# trail (a complaint once read ten steps, five of them another ticket's).
HOTLINE_TABLES = (
    "ticket_article",
    "ticket_message",
    "ticket",
    '"call"',
    "storm_mode_switch",
    "event",
)
SEEDED_DEPARTMENT_TABLES = ("department_member", "ticket_route", "department")
SEEDED_KB_TABLES = ("kb_term", "kb_article_version", "kb_article", "kb_category")


@dataclass(frozen=True)
class HotlineDemo:
    """The committed hotline data: the department login and its password."""

    department_login: str
    department: str
    password: str


@pytest.fixture
def committed_hotline(engine: Engine) -> Iterator[HotlineDemo]:
    made_departments = made_kb = made_user = False
    with Session(engine) as session, session.begin():
        if not session.scalar(select(func.count()).select_from(Department)):
            regions = list(session.scalars(select(Region.code).order_by(Region.code)))
            seed_departments(session=session, regions=regions)
            made_departments = True
        if not session.scalar(select(func.count()).select_from(KbArticle)):
            seed = read_seed_file(REPO_ROOT / "scenarios" / "knowledge_base" / "articles.json")
            seed_articles(session=session, articles=seed)
            made_kb = True
        if session.scalar(select(User).where(User.username == DEPARTMENT_LOGIN)) is None:
            create_user(
                session=session, username=DEPARTMENT_LOGIN, role="dispatcher", password=PASSWORD
            )
            made_user = True
        set_member(session=session, username=DEPARTMENT_LOGIN, department_code=DEPARTMENT)
    yield HotlineDemo(DEPARTMENT_LOGIN, DEPARTMENT, PASSWORD)
    tables = [*HOTLINE_TABLES]
    if made_departments:
        tables += SEEDED_DEPARTMENT_TABLES
    if made_kb:
        tables += SEEDED_KB_TABLES
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        if made_user:
            conn.execute(
                text("DELETE FROM user_account WHERE username = :u"), {"u": DEPARTMENT_LOGIN}
            )


def open_desk(browser: Browser, live_server: str, username: str, password: str) -> Page:
    """A 1280x720 page logged in at ``/desk`` (ready), failing the test on any page error."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/desk")
    page.wait_for_function("document.documentElement.dataset.desk === 'login'")
    assert_accessible(page)  # the login form
    page.fill("#username", username)
    page.fill("#password", password)
    page.keyboard.press("Enter")
    page.wait_for_function("document.documentElement.dataset.desk === 'ready'", timeout=20_000)
    assert not errors, errors
    return page


def premise_in(engine: Engine, region_code: str, *, critical: bool = False) -> Premise:
    """The first premise of a region (a critical one if asked), read on a connection of its
    own that is closed at once (a test's open transaction would block the clean-up)."""
    query = select(Premise).join(Region, Region.id == Premise.region_id)
    query = query.where(Region.code == region_code)
    query = query.where(Premise.critical.is_not(None) if critical else Premise.critical.is_(None))
    with Session(engine, expire_on_commit=False) as session:
        premise = session.scalar(query.order_by(Premise.id).limit(1))
        assert premise is not None, f"the demo city has no such premise in {region_code}"
        session.expunge(premise)
    return premise
