"""What the call tests share: logins for the CTI, an agent and a supervisor, and a clock."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from geo.auth import create_user
from tests.hotline.helpers import Clock
from web.deps import get_now

PASSWORD = "switchboard-otter-73"
Headers = dict[str, str]


def logins(
    client: TestClient, session: Session, now: dt.datetime
) -> tuple[Clock, dict[str, Headers]]:
    """Freeze the app's clock at ``now`` and log in ``cti``, the demo agent and supervisor."""
    clock = Clock(now)
    client.app.dependency_overrides[get_now] = clock  # type: ignore[attr-defined]
    create_user(session=session, username="cti-test", role="cti", password=PASSWORD)
    session.flush()
    headers = {}
    for username, password in (
        ("cti-test", PASSWORD),
        ("agent", "agent-demo-pass"),
        ("supervisor", "supervisor-demo-pass"),
        ("dispatcher", "dispatcher-demo-pass"),
    ):
        answer = client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert answer.status_code == 200, answer.text
        headers[username.removesuffix("-test")] = {
            "Authorization": f"Bearer {answer.json()['access_token']}"
        }
    return clock, headers
