"""An anonymous crawl of every GET route of the app finds no personal data (issue 10).

The demo city is loaded, a storm has been played, and on top of it: a report from a
critical premise (so an outage holds one), a web report with a phone and a name in its text,
an agent's unlocated report with free text, an Open311 request with a name, e-mail and
phone, and a hotline ticket with the caller's name. Then every GET route the app has (its
route table: API routes, pages, the OpenAPI document) is called without a login, with real
ids and tokens in its path, and no answer may hold any premise's customer name, phone or
account, any text a caller typed, any report's point, or any critical flag.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.routing import Route

from geo.auth import create_user
from geo.models import Premise
from hotline.departments import seed_departments
from hotline.models import Ticket
from outages.models import Report
from scenarios.storm import play_storm
from tests.hotline.helpers import REGIONS
from tests.web.routes import api_routes
from tests.web.test_authz_matrix import LAYER_ACCESS, MATRIX, PUBLIC
from web.deps import issue_token
from web.settings import Settings

NAME = "Aino Virtanen-Crawl"
PHONE = "+358 40 765 4321"
EMAIL = "aino.crawl@example.org"
FREE_TEXT = "near the big church, by the harbour"
TYPED = [NAME, PHONE, EMAIL, FREE_TEXT, "765 4321", "example.org"]
PAGES = ("/", "/console", "/crew", "/status")
JSON_TYPES = ("application/json", "application/geo+json")


@dataclass
class Seeded:
    """What the crawl must not find, and the real ids and tokens to put in paths."""

    secrets: set[str] = field(default_factory=set)
    points: list[tuple[float, float]] = field(default_factory=list)
    path_values: dict[str, list[str]] = field(default_factory=dict)
    public: Premise | None = None
    homes: list[Premise] = field(default_factory=list)
    """Premises looked up by account: the answer must not say where they are."""


def _staff(db_session: Session, settings: Settings, role: str) -> dict[str, str]:
    user = create_user(
        session=db_session, username=f"crawl-{role}", role=role, password="crawl-lantern-41"
    )
    return {"Authorization": f"Bearer {issue_token(user, settings)}"}


def _file(client: TestClient, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    answer = client.post("/api/v1/reports", json=body, headers=headers or {})
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture
def seeded(client: TestClient, db_session: Session, settings: Settings) -> Seeded:
    now = dt.datetime.now(dt.UTC)  # the reports layer keeps the last 24 h by the DB's clock
    play_storm(session=db_session, settings=settings, now=now, seed=3, reports=40)
    agent = _staff(db_session, settings, "agent")
    critical = db_session.scalars(
        select(Premise)
        .where(Premise.critical.is_not(None), Premise.transformer_id.is_not(None))
        .order_by(Premise.id)
        .limit(1)
    ).one()
    crit = _file(client, {"account": critical.account, "category": "no_power", "phone": PHONE})
    assert crit["outage_id"] is not None
    others = db_session.scalars(
        select(Premise)
        .where(Premise.critical.is_(None), Premise.transformer_id != critical.transformer_id)
        .order_by(Premise.id)
        .limit(3)
    ).all()
    web = {"address": others[0].address, "category": "wire_down", "channel": "web"}
    _file(client, {**web, "phone": PHONE, "description": f"{NAME} {PHONE}"})
    _file(
        client,
        {"address": FREE_TEXT, "category": "no_power", "allow_unlocated": True, "channel": "phone"},
        agent,
    )
    point = to_shape(others[1].geom)
    open311 = client.post(
        "/open311/v2/requests.json",
        data={
            "service_code": "no_power",
            "lat": str(point.y),
            "long": str(point.x),
            "first_name": "Aino",
            "last_name": "Virtanen-Crawl",
            "email": EMAIL,
            "phone": PHONE,
            "description": f"Call {NAME} on {PHONE}",
        },
    )
    assert open311.status_code == 200, open311.text
    seed_departments(session=db_session, regions=REGIONS)
    ticket = client.post(
        "/api/v1/tickets",
        json={
            "ticket_type": "consultation",
            "subject": "Bill question",
            "description": f"{NAME} asks about her bill, call {PHONE}",
            "caller_name": NAME,
            "caller_phone": PHONE,
            "caller_account": others[2].account,
        },
        headers=agent,
    )
    assert ticket.status_code == 201, ticket.text
    db_session.flush()

    found = Seeded()
    for name, phone, account in db_session.execute(
        select(Premise.customer_name, Premise.phone, Premise.account)
    ):
        found.secrets |= {v for v in (name, phone, account) if v}
    found.secrets |= set(TYPED)
    reports = db_session.scalars(select(Report)).all()
    assert len(reports) >= 40
    found.points = [(p.x, p.y) for p in (to_shape(r.geom) for r in reports if r.geom is not None)]
    crit_points = db_session.scalars(select(Premise.geom).where(Premise.critical.is_not(None)))
    found.points += [(p.x, p.y) for p in map(to_shape, crit_points)]
    articles = client.get("/api/v1/kb/articles").json()
    found.path_values = {
        "outage_id": sorted({str(r.outage_id) for r in reports if r.outage_id})[:5],
        "report_id": [str(r.id) for r in reports[:3]],
        "token": [r.token for r in reports[:5]] + [ticket.json()["tracking_token"]],
        "service_request_id": [r.token for r in reports[:5]],
        "fmt": ["json", "xml"],
        "name": sorted(LAYER_ACCESS),
        "service_code": ["no_power", "wire_down"],
        "article_id": [str(a["id"]) for a in articles[:3]] or ["1"],
    }
    reported = {r.premise_id for r in reports}
    found.public = db_session.scalars(
        select(Premise)
        .where(Premise.id.not_in([i for i in reported if i]), Premise.critical.is_(None))
        .order_by(Premise.id.desc())
        .limit(1)
    ).one()
    assert db_session.scalar(select(Ticket.id).limit(1)) is not None
    # The critical customer (inside an outage), a caller, and a premise no one reported.
    found.homes = [critical, others[0], found.public]
    return found


def _queries(seeded: Seeded) -> dict[str, dict[str, str]]:
    """Query parameters that make the search routes answer something."""
    assert seeded.public is not None
    point = to_shape(seeded.public.geom)
    return {
        "/api/v1/geocode": {"q": seeded.public.address.split(",")[0]},
        "/api/v1/locate": {"lon": str(point.x), "lat": str(point.y)},
        "/api/v1/status": {"address": seeded.public.address},
        "/api/v1/outages": {"status": "all"},
        "/api/v1/kb/search": {"q": "outage"},
    }


def _paths(template: str, values: dict[str, list[str]]) -> Iterator[str]:
    names = re.findall(r"{(\w+)}", template)
    if not names:
        yield template
        return
    first = names[0]
    for value in values.get(first, ["1"]):
        yield from _paths(template.replace("{" + first + "}", value, 1), values)


def _get_routes(client: TestClient) -> list[str]:
    """Every GET path template of the app: API routes, pages and the OpenAPI document."""
    templates = {path for method, path, _ in api_routes(client.app) if method == "GET"}  # type: ignore[arg-type]
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route) and "GET" in (route.methods or ()):
            templates.add(route.path)
    return sorted(templates)


def _point_pattern(lon: float, lat: float) -> re.Pattern[str]:
    """A report's point written at 5 decimals (about 1 m) or finer, lon near lat in any order."""
    x, y = (re.escape(f"{v:.7f}"[:-2]) for v in (lon, lat))
    return re.compile(rf"{x}\d*\D{{1,40}}{y}|{y}\d*\D{{1,40}}{x}")


def _critical_flags(node: Any, where: str = "") -> Iterator[str]:
    """Every place in a JSON answer that says a premise or an outage is critical."""
    if isinstance(node, dict):
        for key, value in node.items():
            if "critical" in str(key) and value not in (None, False, 0, [], {}):
                yield f"{where}.{key}={value!r}"
            yield from _critical_flags(value, f"{where}.{key}")
    elif isinstance(node, list):
        for n, item in enumerate(node):
            yield from _critical_flags(item, f"{where}[{n}]")


def test_anonymous_crawl_of_every_route_finds_no_personal_data(
    client: TestClient, seeded: Seeded
) -> None:
    queries = _queries(seeded)
    points = [_point_pattern(lon, lat) for lon, lat in seeded.points]
    crawled: dict[str, int] = {}
    leaks: list[str] = []
    for template in _get_routes(client):
        for path in _paths(template, seeded.path_values):
            answer = client.get(path, params=queries.get(template, {}))
            crawled[path] = answer.status_code
            assert answer.status_code < 500, (path, answer.text)
            body = answer.text
            leaks += [f"{path}: {s!r}" for s in seeded.secrets if s in body]
            leaks += [f"{path}: a report's point" for p in points if p.search(body)]
            # (The OpenAPI document names the staff-only fields: it is a schema, not data.)
            kind = answer.headers.get("content-type", "")
            if template != "/openapi.json" and kind.startswith(JSON_TYPES):
                leaks += [f"{path}: {flag}" for flag in _critical_flags(json.loads(body))]
    # Status by account: the account alone must not tell where its premise is.
    for home in seeded.homes:
        answer = client.get("/api/v1/status", params={"account": home.account})
        assert answer.status_code == 200, answer.text
        body, where = answer.text, f"/api/v1/status?account={home.account}"
        point = to_shape(home.geom)
        leaks += [f"{where}: {s!r}" for s in seeded.secrets if s in body]
        told = json.loads(body)
        revealed = {
            "its address": home.address.split(",")[0] in body,
            "its point": _point_pattern(point.x, point.y).search(body) is not None,
            "its premise_id": told["premise_id"] is not None,
        }
        leaks += [f"{where}: {what}" for what, shown in revealed.items() if shown]
        leaks += [f"{where}: {flag}" for flag in _critical_flags(told)]
    assert not leaks, "\n".join(sorted(set(leaks))[:40])

    # The crawl reached what it claims: public routes answered, staff ones refused.
    public = {p for (m, p), access in MATRIX.items() if m == "GET" and access == PUBLIC}
    assert len(crawled) > 60
    assert crawled["/api/v1/outages"] == 200
    assert (
        crawled["/open311/v2/requests.json"] == 200 and crawled["/open311/v2/requests.xml"] == 200
    )
    token = seeded.path_values["token"][0]
    assert crawled[f"/api/v1/reports/track/{token}"] == 200
    assert crawled[f"/open311/v2/requests/{token}.json"] == 200
    assert crawled[f"/api/v1/tickets/track/{seeded.path_values['token'][-1]}"] == 200
    for name, access in LAYER_ACCESS.items():
        assert crawled[f"/api/v1/layers/{name}"] == (200 if access == PUBLIC else 401), name
    assert crawled[f"/api/v1/reports/{seeded.path_values['report_id'][0]}"] == 401
    for page in PAGES:
        assert crawled[page] == 200, page
    assert {"/api/v1/status", "/api/v1/geocode"} <= public


def test_the_crawl_would_see_a_leak(
    client: TestClient, seeded: Seeded, db_session: Session
) -> None:
    """The same checks on a staff answer do find the data: the crawl is not blind."""
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    dispatcher = _staff(db_session, settings, "dispatcher")
    reports = client.get("/api/v1/layers/reports", headers=dispatcher).text
    assert any(_point_pattern(lon, lat).search(reports) for lon, lat in seeded.points)
    premises = client.get("/api/v1/layers/premises", headers=dispatcher).json()
    assert list(_critical_flags(premises))
    one = client.get(
        f"/api/v1/reports/{seeded.path_values['report_id'][0]}", headers=dispatcher
    ).json()
    assert one["address"] in {p.address for p in db_session.scalars(select(Premise))} | {None}
    # A supervisor's status by account does show where the home is, as the checks would see.
    supervisor = _staff(db_session, settings, "supervisor")
    home = seeded.homes[0]
    shown = client.get("/api/v1/status", params={"account": home.account}, headers=supervisor)
    point = to_shape(home.geom)
    assert _point_pattern(point.x, point.y).search(shown.text), shown.text
    assert home.address.split(",")[0] in shown.text
