"""The hotline's part of the demo: departments and their routes, the knowledge base, a login
per department, and callers the desk can recognize (a few phones shared by several premises).

Run after the demo city is loaded; running it again adds nothing (each part checks first).
Department logins follow the demo rule: the username is the department code in lower case,
the password ``<username>-demo-pass``; each is its department's head (it receives urging).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from geo.auth import create_user
from geo.models import Premise, Region, User
from hotline.departments import seed_departments, set_member
from hotline.kb_seed import read_seed_file, seed_articles
from hotline.models import Department

ARTICLES = Path(__file__).parent / "knowledge_base" / "articles.json"
# Shared phones: a landlord with three flats, a family with a house and a summer place...
SHARED_PHONES = ("+358 40 100 0001", "+358 40 100 0002", "+358 40 100 0003")
PREMISES_PER_SHARED_PHONE = (3, 2, 2)


@dataclass(frozen=True)
class HotlineDemo:
    departments: int
    articles: int
    logins: list[str]
    shared_phones: dict[str, list[str]]


def _department_logins(session: Session, departments: dict[str, Department]) -> list[str]:
    """One login per department (its head), made if missing; all their usernames."""
    logins = []
    for code, department in sorted(departments.items()):
        username = code.lower()
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = create_user(
                session=session,
                username=username,
                role="dispatcher",
                password=f"{username}-demo-pass",
            )
            set_member(session=session, username=username, department_code=code)
        if department.head_user_id is None:
            department.head_user_id = user.id
        logins.append(username)
    session.flush()
    return logins


def _share_phones(session: Session) -> dict[str, list[str]]:
    """Give a few premises of each region's first ones a common phone (new numbers)."""
    if session.scalar(select(exists().where(Premise.phone == SHARED_PHONES[0]))):
        return {}
    accounts = list(
        session.scalars(select(Premise.account).order_by(Premise.region_id, Premise.id).limit(20))
    )
    shared: dict[str, list[str]] = {}
    start = 0
    for phone, count in zip(SHARED_PHONES, PREMISES_PER_SHARED_PHONE, strict=True):
        group = accounts[start : start + count]
        start += count + 1
        session.execute(update(Premise).where(Premise.account.in_(group)).values(phone=phone))
        shared[phone] = group
    session.flush()
    return shared


def seed_hotline_demo(*, session: Session) -> HotlineDemo:
    """Seed what the hotline desk needs on the demo city (idempotent)."""
    departments: dict[str, Department] = {d.code: d for d in session.scalars(select(Department))}
    if not departments:
        with_premises = select(Premise.region_id).distinct().scalar_subquery()
        regions = list(
            session.scalars(
                select(Region.code).where(Region.id.in_(with_premises)).order_by(Region.code)
            )
        )
        departments = seed_departments(session=session, regions=regions)
    articles = seed_articles(session=session, articles=read_seed_file(ARTICLES))
    logins = _department_logins(session, departments)
    return HotlineDemo(
        departments=len(departments),
        articles=articles,
        logins=logins,
        shared_phones=_share_phones(session),
    )
