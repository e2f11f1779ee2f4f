"""Request dependencies: the database session, the current user, role checks, and the
existence checks of each domain (path ids -> objects, 404 when missing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from dispatch.crews import get_crew
from dispatch.models import Crew, DispatchPlan, WorkOrder
from dispatch.orders import get_work_order
from dispatch.proposals import get_plan
from geo.exceptions import AuthError, Forbidden, StormdeskError
from geo.models import User
from geo.types import INT32_MAX, INT64_MAX, Text
from outages.intake.group_commit import GroupWriter
from outages.models import Outage, PlannedOutage, Report
from outages.planned import get_planned
from outages.reports import get_report
from outages.service import get_outage
from web.settings import Settings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
JWT_ALGORITHM = "HS256"
# A token must say who (sub), when it was issued and when it ends, and which of the user's
# token versions it belongs to (logout and revocation bump the version).
REQUIRED_CLAIMS = ["sub", "iat", "exp", "ver"]
SERVICE_ROLES = ("cti",)

# Path parameters, bounded so that no id overflows its column (a 422, never a 500).
IdPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="An id (integer).")]
BigIdPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="An id (bigint).")]
CodePath = Annotated[Text, Path(min_length=1, max_length=64)]


async def get_settings(request: Request) -> Settings:
    # async: a plain attribute read, which would cost a thread-pool hop as a sync function.
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """The unit of work: one transaction per request, committed when the route returns and
    before the response is sent, so an answer the client saw is an answer that was stored.

    The dependency has ``scope="function"`` (see ``SessionDep``): FastAPI runs this teardown
    right after the route, outside the thread pool's limit, so a commit that releases an
    intake advisory lock never waits for a pool thread held by a request waiting for that
    lock. A domain error rolls the transaction back unless it says ``keep_changes`` (a plan
    marked as a conflict stays marked).
    """
    factory = request.app.state.sessionmaker
    # Not ``session.begin()`` as a context manager: the planning route ends its read-only
    # transaction before the solve and writes in a second one.
    with factory() as session:
        try:
            yield session
        except StormdeskError as error:
            if error.keep_changes:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        session.commit()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """A session for routes that only read: every statement commits on its own (autocommit).

    A lookup answered by one statement (the customer status) then costs one round trip
    instead of three (BEGIN, the statement, COMMIT), which is most of its database time.
    Nothing it reads needs one snapshot across statements; a route that writes, or reads
    twice what must agree, takes ``SessionDep``. It is opened and closed on the event loop:
    a session takes its connection only at its first statement (in the route's thread),
    and closing an autocommit session has no transaction to end, so neither blocks; a
    thread hop each way would cost more than the lookup's query.
    """
    session = request.app.state.read_sessionmaker()
    try:
        yield session
    finally:
        session.close()


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


@contextmanager
def background_session(app: FastAPI) -> Iterator[Session]:
    """A unit of work outside a request (a server-sent event stream's ticks): the same
    transaction rules as ``get_session``, and the same override when a test set one."""
    override = app.dependency_overrides.get(get_session)
    if override is not None:
        provided = override()
        try:
            yield next(provided)
        finally:
            provided.close()
        return
    with app.state.sessionmaker() as session:
        yield session
        session.commit()


async def get_group_writer(request: Request) -> GroupWriter | None:
    """The worker's intake group-commit writer (None when ``intake_group_commit`` is off).

    async: an attribute read, which as a sync function would cost a thread-pool hop."""
    writer: GroupWriter | None = getattr(request.app.state, "group_writer", None)
    return writer


GroupWriterDep = Annotated[GroupWriter | None, Depends(get_group_writer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def utc_now() -> dt.datetime:
    """The real clock, for code that calls it (``get_now`` is the dependency)."""
    return dt.datetime.now(dt.UTC)


async def get_now() -> dt.datetime:
    """The clock; tests override this dependency to freeze time. async: reading it in the
    thread pool cost each request a hop for nothing."""
    return utc_now()


NowDep = Annotated[dt.datetime, Depends(get_now)]


def issue_token(user: User, settings: Settings) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": str(user.id),
        "role": user.role,
        "ver": user.token_version,
        "iat": now,
        "exp": now + dt.timedelta(seconds=settings.token_ttl_s),
    }
    return jwt.encode(claims, settings.jwt_secret(), algorithm=JWT_ALGORITHM)


def optional_user(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    """The user behind a bearer token, None without one; a bad token is a 401.

    Refused: a token without an expiry (or past it), one of an older token version (the
    user logged out or was revoked), a disabled user, and a crew account bound to no crew.
    """
    if token is None:
        return None
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret(),
            algorithms=[JWT_ALGORITHM],
            options={"require": REQUIRED_CLAIMS},
        )
        user_id, version = int(claims["sub"]), int(claims["ver"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        msg = "invalid or expired token: log in again"
        raise AuthError(msg) from exc
    user = session.get(User, user_id) if 1 <= user_id <= INT32_MAX else None
    if user is None or not user.active:
        msg = "the user of this token no longer exists or is disabled"
        raise AuthError(msg)
    if version != user.token_version:
        msg = "this token was revoked (logged out): log in again"
        raise AuthError(msg)
    if user.role == "crew" and user.crew_id is None:
        msg = "this crew account is bound to no crew: an admin must assign it one"
        raise AuthError(msg)
    return user


async def optional_reader(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    """``optional_user`` for async routes: an anonymous caller (no token) costs no session,
    no query and no thread hop (building a session was a tenth of a storm report's time on
    the event loop); a token is checked in the thread pool, a bad one is a 401."""
    if token is None:
        return None

    def check() -> User | None:
        with background_session(request.app) as session:
            return optional_user(session, settings, token)

    return await run_in_threadpool(check)


def lenient_account(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    """Like ``optional_user``, but an expired or bad token reads as anonymous: for public
    resources that only show staff more, a stale login must not break the page."""
    try:
        return optional_user(session, settings, token)
    except AuthError:
        return None


async def lenient_reader(
    session: ReadSessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User | None:
    """``lenient_user`` for routes on ``ReadSessionDep``: an anonymous caller (no token)
    costs no query and no thread hop; a token is checked in the thread pool."""
    if token is None:
        return None
    user = await run_in_threadpool(lenient_account, session, settings, token)
    return None if user is not None and user.role in SERVICE_ROLES else user


def lenient_user(user: Annotated[User | None, Depends(lenient_account)]) -> User | None:
    """``lenient_account`` where a service account reads public resources as the public
    does (no internal articles)."""
    return None if user is not None and user.role in SERVICE_ROLES else user


def any_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The logged-in account, whatever its role (service accounts included)."""
    if user is None:
        msg = "not authenticated: log in at POST /api/v1/auth/token"
        raise AuthError(msg)
    return user


def current_user(user: Annotated[User, Depends(any_user)]) -> User:
    """A logged-in person. The ``cti`` service account is refused: it is the telephony
    system, which may open and close calls (routes that name the role) and nothing else, so
    a leaked CTI password does not read tickets or caller data."""
    if user.role in SERVICE_ROLES:
        msg = f"the {user.role} service account may only use the routes made for it (calls)"
        raise Forbidden(msg)
    return user


def require_role(*roles: str) -> Callable[[User], User]:
    """A dependency that lets through only users with one of ``roles`` (admin always)."""

    def check(user: Annotated[User, Depends(any_user)]) -> User:
        if user.role != "admin" and user.role not in roles:
            msg = f"role {user.role!r} may not do this; it needs one of {', '.join(roles)}"
            raise Forbidden(msg)
        return user

    return check


# --- dispatch existence checks ----------------------------------------------------------------
# Dispatch objects are staff-only: each check needs a login first, so an anonymous caller
# learns nothing from 404 against 401. Routes name their role dependency before these, so a
# logged-in user of the wrong role gets 403 before the lookup (tests/web/test_authz_matrix.py).

StaffUser = Annotated[User, Depends(current_user)]


def valid_work_order_id(work_order_id: IdPath, session: SessionDep, _user: StaffUser) -> WorkOrder:
    return get_work_order(session=session, work_order_id=work_order_id)


def locked_work_order_id(work_order_id: IdPath, session: SessionDep, _user: StaffUser) -> WorkOrder:
    """The order, its row locked for the rest of the request (writes check its version)."""
    return get_work_order(session=session, work_order_id=work_order_id, for_update=True)


def valid_crew_id(crew_id: IdPath, session: SessionDep, _user: StaffUser) -> Crew:
    return get_crew(session=session, crew_id=crew_id)


def valid_plan_id(plan_id: IdPath, session: SessionDep, _user: StaffUser) -> DispatchPlan:
    return get_plan(session=session, plan_id=plan_id)


OrderDep = Annotated[WorkOrder, Depends(valid_work_order_id)]
LockedOrderDep = Annotated[WorkOrder, Depends(locked_work_order_id)]
CrewDep = Annotated[Crew, Depends(valid_crew_id)]
PlanDep = Annotated[DispatchPlan, Depends(valid_plan_id)]


# -- outages existence checks ------------------------------------------------------------
# A route names the object in its path; these turn the id into the object or a 404 (the
# domain's NotFound, mapped in web/errors.py) before the route runs.


def valid_outage_id(outage_id: IdPath, session: SessionDep) -> Outage:
    return get_outage(session=session, outage_id=outage_id)


def valid_report_id(report_id: BigIdPath, session: SessionDep) -> Report:
    return get_report(session=session, report_id=report_id)


def valid_planned_id(planned_id: IdPath, session: SessionDep) -> PlannedOutage:
    return get_planned(session=session, planned_id=planned_id)


ValidOutage = Annotated[Outage, Depends(valid_outage_id)]
ValidReport = Annotated[Report, Depends(valid_report_id)]
ValidPlanned = Annotated[PlannedOutage, Depends(valid_planned_id)]
