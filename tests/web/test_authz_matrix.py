"""Access control as a table: every route of the app x every identity, with its expected answer.

``MATRIX`` says who may call each route. The test walks the app's routes, so a new route
without an entry fails with the line to add. Each route is called with ids that name
nothing (999999) and an empty body: an identity that may not call it must be refused
(401 without a usable login, 403 with the wrong role) *before* anything is looked up, and
one that may must get past the check (a 404 or 422 for the made-up input is fine, a 401,
403 or 5xx is not).

Access levels:
  PUBLIC      anyone; a token is ignored or read leniently
  OPEN        anyone, but a token that is sent must be good (disabled, revoked: 401)
  LOGIN       any logged-in, usable account of a person (the ``cti`` service account: 403)
  ACCOUNT     any logged-in, usable account, service accounts included
  roles(...)  those roles (admin may always)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Crew
from geo.auth import create_user
from geo.models import User
from tests.web.routes import api_routes
from web.deps import issue_token
from web.settings import Settings

IDENTITIES = (
    "public",
    "agent",
    "crew",
    "dispatcher",
    "supervisor",
    "admin",
    "cti",
    "disabled",
    "crewless",
)
UNUSABLE = ("public", "disabled", "crewless")  # no login, a disabled user, a crew with no crew
PASSWORD = "matrix-lantern-41"


@dataclass(frozen=True)
class Access:
    level: str  # public, open, login or roles
    roles: tuple[str, ...] = ()


PUBLIC = Access("public")
OPEN = Access("open")
LOGIN = Access("login")
ACCOUNT = Access("account")


def roles(*names: str) -> Access:
    return Access("roles", names)


STAFF = roles("dispatcher", "agent", "crew")
DISPATCHER = roles("dispatcher")
SUPERVISOR = roles("supervisor")
HOTLINE = roles("agent", "supervisor")
CALL_TAKER = roles("cti", "agent", "supervisor")  # the telephony system and the agents
REPORTS = roles("supervisor", "dispatcher")
WALLBOARD = roles("supervisor", "dispatcher", "agent")

MATRIX: dict[tuple[str, str], Access] = {
    ("POST", "/api/v1/auth/logout"): ACCOUNT,
    ("GET", "/api/v1/auth/me"): ACCOUNT,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/users/{username}/revoke"): roles("admin"),
    ("GET", "/api/v1/callers"): HOTLINE,
    ("GET", "/api/v1/calls"): HOTLINE,
    ("POST", "/api/v1/calls"): CALL_TAKER,
    ("GET", "/api/v1/calls/stats"): HOTLINE,
    ("GET", "/api/v1/calls/offer"): HOTLINE,
    ("GET", "/api/v1/calls/{call_id}"): CALL_TAKER,
    ("PATCH", "/api/v1/calls/{call_id}"): CALL_TAKER,
    ("GET", "/api/v1/crews"): STAFF,
    ("POST", "/api/v1/crews/{crew_id}/position"): roles("dispatcher", "crew"),
    ("GET", "/api/v1/departments"): LOGIN,
    ("POST", "/api/v1/departments"): roles("admin"),
    ("PUT", "/api/v1/departments/{code}/members"): SUPERVISOR,
    ("DELETE", "/api/v1/departments/{code}/members/{username}"): SUPERVISOR,
    ("GET", "/api/v1/departments/{code}/queue"): LOGIN,
    ("POST", "/api/v1/devices/{code}/operations"): DISPATCHER,
    ("GET", "/api/v1/dispatch/current"): STAFF,
    ("POST", "/api/v1/dispatch/escalate"): DISPATCHER,
    ("POST", "/api/v1/dispatch/plan"): DISPATCHER,
    ("GET", "/api/v1/dispatch/plans/{plan_id}"): roles("dispatcher", "agent"),
    ("POST", "/api/v1/dispatch/plans/{plan_id}/apply"): DISPATCHER,
    ("GET", "/api/v1/geocode"): PUBLIC,
    ("GET", "/api/v1/kb/articles"): PUBLIC,
    ("POST", "/api/v1/kb/articles"): SUPERVISOR,
    ("GET", "/api/v1/kb/articles/{article_id}"): PUBLIC,
    ("GET", "/api/v1/kb/articles/{article_id}/tickets"): LOGIN,
    ("POST", "/api/v1/kb/articles/{article_id}/versions"): SUPERVISOR,
    ("POST", "/api/v1/kb/articles/{article_id}/versions/{number}/publish"): SUPERVISOR,
    ("GET", "/api/v1/kb/categories"): PUBLIC,
    ("POST", "/api/v1/kb/categories"): SUPERVISOR,
    ("GET", "/api/v1/kb/search"): PUBLIC,
    ("GET", "/api/v1/layers"): PUBLIC,
    ("GET", "/api/v1/layers/{name}"): PUBLIC,
    ("GET", "/api/v1/locate"): PUBLIC,
    ("GET", "/api/v1/outages"): PUBLIC,
    ("POST", "/api/v1/outages"): DISPATCHER,
    ("GET", "/api/v1/outages/{outage_id}"): PUBLIC,
    ("PATCH", "/api/v1/outages/{outage_id}"): DISPATCHER,
    ("GET", "/api/v1/outages/{outage_id}/etr-history"): PUBLIC,
    ("GET", "/api/v1/planned-outages"): roles("dispatcher", "agent"),
    ("POST", "/api/v1/planned-outages"): DISPATCHER,
    ("GET", "/api/v1/planned-outages/{planned_id}"): roles("dispatcher", "agent"),
    ("PATCH", "/api/v1/planned-outages/{planned_id}"): DISPATCHER,
    ("GET", "/api/v1/reports"): roles("dispatcher", "agent"),
    ("POST", "/api/v1/selfservice/lookup"): CALL_TAKER,
    ("GET", "/api/v1/storm-mode"): HOTLINE,
    ("PUT", "/api/v1/storm-mode"): SUPERVISOR,
    ("POST", "/api/v1/reports"): OPEN,
    ("POST", "/api/v1/reports/batch"): OPEN,
    ("GET", "/api/v1/reports/track/{token}"): PUBLIC,
    ("GET", "/api/v1/reports/{report_id}"): roles("dispatcher", "agent"),
    ("POST", "/api/v1/reports/{report_id}/locate"): DISPATCHER,
    ("GET", "/api/v1/stats/daily"): REPORTS,
    ("GET", "/api/v1/stats/indicators"): REPORTS,
    ("GET", "/api/v1/stats/reliability"): REPORTS,
    ("GET", "/api/v1/stats/reported"): REPORTS,
    ("GET", "/api/v1/stats/roster"): REPORTS,
    ("GET", "/api/v1/search"): roles("dispatcher", "agent"),
    ("GET", "/api/v1/stats/staffing"): REPORTS,
    ("GET", "/api/v1/status"): PUBLIC,
    ("GET", "/api/v1/public/outage-map"): PUBLIC,
    ("GET", "/api/v1/ticket-routes"): LOGIN,
    ("PUT", "/api/v1/ticket-routes"): SUPERVISOR,
    ("DELETE", "/api/v1/ticket-routes/{route_id}"): SUPERVISOR,
    ("GET", "/api/v1/tickets"): LOGIN,
    ("POST", "/api/v1/tickets"): LOGIN,
    ("GET", "/api/v1/tickets/track/{token}"): PUBLIC,
    ("POST", "/api/v1/tickets/urge"): SUPERVISOR,
    ("GET", "/api/v1/tickets/{ticket_id}"): LOGIN,
    ("POST", "/api/v1/tickets/{ticket_id}/answer"): LOGIN,
    ("POST", "/api/v1/tickets/{ticket_id}/articles"): LOGIN,
    ("POST", "/api/v1/tickets/{ticket_id}/contact"): LOGIN,
    ("POST", "/api/v1/tickets/{ticket_id}/pause"): LOGIN,
    ("POST", "/api/v1/tickets/{ticket_id}/reopen"): LOGIN,
    ("POST", "/api/v1/tickets/{ticket_id}/reply"): LOGIN,
    ("POST", "/api/v1/tickets/{ticket_id}/resume"): LOGIN,
    ("POST", "/api/v1/tickets/{ticket_id}/return-visit"): LOGIN,
    ("POST", "/api/v1/tickets/{ticket_id}/review"): LOGIN,
    ("POST", "/api/v1/tickets/{ticket_id}/route"): LOGIN,
    ("GET", "/api/v1/wallboard"): WALLBOARD,
    ("GET", "/api/v1/wallboard/stream"): WALLBOARD,
    ("GET", "/api/v1/work-orders"): STAFF,
    ("POST", "/api/v1/work-orders/sync"): DISPATCHER,
    ("GET", "/api/v1/work-orders/{work_order_id}"): STAFF,
    ("POST", "/api/v1/work-orders/{work_order_id}/appointment"): roles("dispatcher", "agent"),
    ("POST", "/api/v1/work-orders/{work_order_id}/assign"): DISPATCHER,
    ("POST", "/api/v1/work-orders/{work_order_id}/completion"): roles("dispatcher", "crew"),
    ("POST", "/api/v1/work-orders/{work_order_id}/help"): roles("dispatcher", "crew"),
    ("POST", "/api/v1/work-orders/{work_order_id}/return-call"): roles("dispatcher", "agent"),
    ("POST", "/api/v1/work-orders/{work_order_id}/review"): DISPATCHER,
    ("POST", "/api/v1/work-orders/{work_order_id}/tasks/{task_id}/made-safe"): roles(
        "dispatcher", "crew"
    ),
    ("POST", "/api/v1/work-orders/{work_order_id}/transition"): roles("dispatcher", "crew"),
    ("GET", "/api/v1/webhooks"): roles("admin"),
    ("POST", "/api/v1/webhooks"): roles("admin"),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): roles("admin"),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): roles("admin"),
    ("POST", "/api/v1/webhooks/{webhook_id}/test"): roles("admin"),
    ("GET", "/"): PUBLIC,
    ("GET", "/console"): PUBLIC,  # the page shell opens on a login; its data is staff-only
    ("GET", "/feeds/cap.xml"): PUBLIC,
    ("GET", "/feeds/cap/{alert_key}.xml"): PUBLIC,
    ("GET", "/feeds/outages.geojson"): PUBLIC,
    ("GET", "/feeds/planned.ics"): PUBLIC,
    ("GET", "/crew"): PUBLIC,
    ("GET", "/desk"): PUBLIC,
    ("GET", "/desk/queue"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    # Counts per region only (no personal data), for a Prometheus scraper without a login.
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/open311/v2/requests.{fmt}"): PUBLIC,
    ("POST", "/open311/v2/requests.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/requests/{service_request_id}.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/services.{fmt}"): PUBLIC,
    ("GET", "/open311/v2/services/{service_code}.{fmt}"): PUBLIC,
    ("GET", "/reports"): PUBLIC,  # a shell: its data comes from /api/v1/stats with a login
    ("GET", "/status"): PUBLIC,
    ("GET", "/wallboard"): PUBLIC,  # a shell: the stream needs a login
    ("GET", "/outages"): PUBLIC,
}
# ``/api/v1/layers/{name}`` is one route whose access depends on the layer (issue 10): the
# layers with premises, reports, crews or critical flags are for staff who work the map.
MAP_STAFF = roles("dispatcher", "agent", "supervisor")
LAYER_ACCESS: dict[str, Access] = {
    "roads": PUBLIC,
    "feeders": PUBLIC,
    "devices": PUBLIC,
    "segments": PUBLIC,
    "substations": PUBLIC,
    "regions": PUBLIC,
    "planned": PUBLIC,
    "premises": MAP_STAFF,
    "crews": MAP_STAFF,
    "outages": MAP_STAFF,
    "outage_premises": MAP_STAFF,
    "reports": MAP_STAFF,
    "unlocated": MAP_STAFF,
}
# Bodies that keep an allowed call cheap (a plan would otherwise be solved for 5 s).
BODIES = {("POST", "/api/v1/dispatch/plan"): {"time_limit_s": -1}}
# Query strings that keep an allowed call finite (the wallboard stream never ends by itself).
QUERIES = {("GET", "/api/v1/wallboard/stream"): "?events=1"}
# Values for path parameters that name nothing.
PATH_VALUES = {"fmt": "json"}


def expected(access: Access, identity: str) -> str:
    """``ok`` (past the check), ``401`` or ``403``."""
    if access.level == "public":
        return "ok"
    if access.level == "open":
        return "401" if identity in ("disabled", "crewless") else "ok"
    if identity in UNUSABLE:
        return "401"
    if access.level == "account":
        return "ok"
    if access.level == "login":
        return "403" if identity == "cti" else "ok"
    if identity == "admin" or identity in access.roles:
        return "ok"
    return "403"


def _path(template: str) -> str:
    out = template
    for part in template.split("{")[1:]:
        name = part.split("}")[0]
        out = out.replace("{" + name + "}", PATH_VALUES.get(name, "999999"))
    return out


@pytest.fixture
def tokens(db_session: Session, settings: Settings) -> dict[str, dict[str, str]]:
    """A bearer header per identity (none for public)."""
    crew_id = db_session.scalar(select(Crew.id).order_by(Crew.id).limit(1))
    headers: dict[str, dict[str, str]] = {"public": {}}
    for role in ("agent", "crew", "dispatcher", "supervisor", "admin", "cti", "disabled"):
        user = create_user(
            session=db_session,
            username=f"matrix-{role}",
            role="agent" if role == "disabled" else role,
            password=PASSWORD,
            crew_id=crew_id if role == "crew" else None,
        )
        headers[role] = {"Authorization": f"Bearer {issue_token(user, settings)}"}
        if role == "disabled":
            user.active = False
    crewless = User(username="matrix-crewless", role="crew", password_hash="x", crew_id=None)
    db_session.add(crewless)
    db_session.flush()
    headers["crewless"] = {"Authorization": f"Bearer {issue_token(crewless, settings)}"}
    return headers


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    body = BODIES.get((method, path), {})
    kwargs = {"json": body} if method in ("POST", "PUT", "PATCH") else {}
    url = _path(path) + QUERIES.get((method, path), "")
    return client.request(method, url, headers=headers, **kwargs).status_code


def test_every_route_has_an_entry(client: TestClient) -> None:
    routes = {(method, path) for method, path, _ in api_routes(client.app)}  # type: ignore[arg-type]
    missing = sorted(routes - MATRIX.keys())
    lines = [f'    ("{m}", "{p}"): PUBLIC | OPEN | LOGIN | roles("..."),' for m, p in missing]
    assert not missing, (
        "routes without an access entry: add to MATRIX in tests/web/test_authz_matrix.py\n"
        + "\n".join(lines)
    )
    stale = sorted(MATRIX.keys() - routes)
    assert not stale, f"MATRIX names routes the app no longer has: {stale}"


def test_access_matrix(client: TestClient, tokens: dict[str, dict[str, str]]) -> None:
    # Logout revokes the caller's tokens: it goes last.
    routes = sorted(MATRIX, key=lambda r: (r == ("POST", "/api/v1/auth/logout"), r))
    wrong = []
    for method, path in routes:
        for identity in IDENTITIES:
            status = _call(client, method, path, tokens[identity])
            want = expected(MATRIX[(method, path)], identity)
            got = "ok" if status not in (401, 403) and status < 500 else str(status)
            if got != want:
                wrong.append(f"{method} {path} as {identity}: {status}, expected {want}")
    assert not wrong, "\n".join(wrong)


def test_expired_and_expiry_free_tokens_are_refused(
    client: TestClient, tokens: dict[str, dict[str, str]], settings: Settings
) -> None:
    import jwt

    now = dt.datetime.now(dt.UTC)
    claims = {"sub": "1", "role": "admin", "ver": 0, "iat": now}
    no_exp = jwt.encode(claims, settings.jwt_secret(), algorithm="HS256")
    expired = jwt.encode(
        {**claims, "exp": now - dt.timedelta(seconds=5)}, settings.jwt_secret(), algorithm="HS256"
    )
    for token in (no_exp, expired):
        answer = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, answer.text


def test_layer_access_by_name(client: TestClient, tokens: dict[str, dict[str, str]]) -> None:
    names = set(client.get("/api/v1/layers").json())
    assert names == LAYER_ACCESS.keys(), "classify every layer in LAYER_ACCESS"
    wrong = []
    for name, access in sorted(LAYER_ACCESS.items()):
        for identity in IDENTITIES:
            answer = client.get(f"/api/v1/layers/{name}", headers=tokens[identity])
            want = expected(access, identity)
            got = "ok" if answer.status_code == 200 else str(answer.status_code)
            if got != want:
                wrong.append(f"layer {name} as {identity}: {answer.status_code}, expected {want}")
    assert not wrong, "\n".join(wrong)
