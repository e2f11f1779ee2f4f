"""The desk rings the call the region rule offers, in headless Chromium.

A storm region's older call waits while the supervisor is on another of its calls; a quiet
region's newer call rings too. The old desk showed the oldest ringing call (the storm's);
the desk now shows the server's offer (``GET /api/v1/calls/offer``): the quiet region's
call, since that region holds none of its guaranteed agents. Alt+A answers that call.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from geo.models import Premise, Region
from tests.web.desk_helpers import HotlineDemo, committed_hotline, open_desk

__all__ = ["committed_hotline"]  # the fixture, imported for the test below


def _token(http: httpx.Client, username: str) -> dict[str, str]:
    answer = http.post(
        "/api/v1/auth/token", data={"username": username, "password": f"{username}-demo-pass"}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _largest_and_smallest(engine: Engine) -> tuple[str, str]:
    with Session(engine) as session:
        rows = session.execute(
            select(Region.code, func.count(Premise.id))
            .outerjoin(Premise, Premise.region_id == Region.id)
            .group_by(Region.code)
            .order_by(func.count(Premise.id).desc(), Region.code)
        ).all()
    return rows[0][0], rows[-1][0]


def test_the_desk_rings_the_offered_call_not_the_oldest(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: str,
    committed_hotline: HotlineDemo,
    engine: Engine,
) -> None:
    storm, quiet = _largest_and_smallest(engine)
    http = httpx.Client(base_url=live_server, timeout=30)
    request.addfinalizer(http.close)
    cti = _token(http, "cti")
    made: dict[str, list[int]] = {storm: [], quiet: []}
    for n, region in enumerate([storm, storm, quiet]):
        rung = http.post(
            "/api/v1/calls",
            json={"caller_number": f"+358 40 777 {n:04d}", "region_code": region},
            headers=cti,
        )
        assert rung.status_code == 201, rung.text
        made[region].append(rung.json()["id"])
    taken = http.patch(
        f"/api/v1/calls/{made[storm][0]}",
        json={"action": "answer"},
        headers=_token(http, "supervisor"),
    )
    assert taken.status_code == 200, taken.text

    page = open_desk(browser, live_server, "agent", "agent-demo-pass")
    quiet_id = made[quiet][0]
    page.wait_for_selector(f'#ring .ringing[data-call="{quiet_id}"]', timeout=15_000)
    assert quiet in page.locator("#ring .ringing").inner_text()
    page.keyboard.press("Alt+A")
    page.wait_for_selector("#ring .in-call")
    agent = _token(http, "agent")
    answered = http.get(f"/api/v1/calls/{quiet_id}", headers=agent).json()
    assert answered["status"] == "answered" and answered["agent"] == "agent"
    older = http.get(f"/api/v1/calls/{made[storm][1]}", headers=agent).json()
    assert older["status"] == "ringing"
