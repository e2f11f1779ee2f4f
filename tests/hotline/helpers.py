"""What the hotline tests share: the demo's departments and routes, department staff, logins,
a clock the app reads, and a premise in a known region."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.auth import create_user
from geo.models import Premise, Region, User
from hotline.departments import get_department, seed_departments, set_member
from hotline.models import Department
from web.deps import get_now

REGIONS = ("HEL-R1", "HEL-R2", "HEL-R3")
PASSWORD = "lantern-quartz-41"
LOCAL = ZoneInfo("Europe/Helsinki")  # the test settings' time zone
# Department staff made per test: username -> department code (role dispatcher).
STAFF = {
    "svc1": "HEL-R1-SERVICE",
    "svc1-head": "HEL-R1-SERVICE",
    "ops1": "HEL-R1-OPS",
    "svc2": "HEL-R2-SERVICE",
    "hotline1": "HOTLINE",
}
Headers = dict[str, str]


def local(text: str) -> dt.datetime:
    """A wall-clock time in the installation's zone."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL)


@dataclass
class Clock:
    """The app's clock: tests move ``now``; every request reads it."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Desk:
    session: Session
    client: TestClient | None
    clock: Clock
    departments: dict[str, Department]
    users: dict[str, User]
    headers: dict[str, Headers] = field(default_factory=dict)

    def h(self, username: str) -> Headers:
        """Bearer header of a user (demo logins or the staff made here), logged in once."""
        if username not in self.headers:
            assert self.client is not None
            password = PASSWORD if username in self.users else f"{username}-demo-pass"
            answer = self.client.post(
                "/api/v1/auth/token", data={"username": username, "password": password}
            )
            assert answer.status_code == 200, answer.text
            self.headers[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        return self.headers[username]

    def user(self, username: str) -> User:
        user = self.users.get(username) or self.session.scalar(
            select(User).where(User.username == username)
        )
        assert user is not None, username
        return user


def make_desk(session: Session, client: TestClient | None, now: dt.datetime) -> Desk:
    """Departments and routes of the demo regions, department staff, a frozen app clock."""
    departments = seed_departments(session=session, regions=REGIONS)
    users = {}
    for username, code in STAFF.items():
        users[username] = create_user(
            session=session, username=username, role="dispatcher", password=PASSWORD
        )
        set_member(session=session, username=username, department_code=code)
    get_department(session=session, code="HEL-R1-SERVICE").head_user_id = users["svc1-head"].id
    session.flush()
    clock = Clock(now)
    if client is not None:
        client.app.dependency_overrides[get_now] = clock  # type: ignore[attr-defined]
    return Desk(session=session, client=client, clock=clock, departments=departments, users=users)


def premise_in(session: Session, region_code: str) -> Premise:
    premise = session.scalar(
        select(Premise)
        .join(Region, Region.id == Premise.region_id)
        .where(Region.code == region_code)
        .order_by(Premise.id)
        .limit(1)
    )
    assert premise is not None, f"the demo city has no premise in {region_code}"
    return premise


def complaint(premise: Premise, **changes: object) -> dict[str, object]:
    """The body of a service complaint from the caller at ``premise``."""
    body: dict[str, object] = {
        "ticket_type": "complaint",
        "ticket_class": "service",
        "channel": "phone",
        "subject": "Rude answer at the service counter",
        "description": "The caller was told to come back another day without a reason.",
        "caller_name": "Wang Fang",
        "caller_phone": "+358 40 555 0101",
        "premise_id": premise.id,
    }
    body.update(changes)
    return body
