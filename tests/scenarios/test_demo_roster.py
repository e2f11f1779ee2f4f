"""The demo roster is turned to the hour the demo starts, so a storm plans alike at any hour."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Crew
from dispatch.problem import build_problem
from scenarios.demo_city.crews import DAY_SHIFT, shifts_from
from scenarios.demo_city.loader import turn_demo_roster
from tests.dispatch.test_planning import make_orders
from web.settings import Settings

HELSINKI = ZoneInfo("Europe/Helsinki")


def _problem_at(session: Session, settings: Settings, hour: int) -> tuple[set[str], list[str]]:
    turn_demo_roster(session=session, start=dt.time(hour))
    now = dt.datetime(2026, 11, 24, hour, 30, tzinfo=HELSINKI).astimezone(dt.UTC)
    problem, _ = build_problem(session=session, now=now, settings=settings)
    shifts = sorted(c.shift.end_s for c in problem.crews)
    return {c.id for c in problem.crews}, [str(s) for s in shifts]


def test_the_same_crews_are_on_shift_whenever_the_demo_starts(
    db_session: Session, settings: Settings
) -> None:
    make_orders(db_session, settings, n=4)
    morning = _problem_at(db_session, settings, 9)
    night = _problem_at(db_session, settings, 21)
    small_hours = _problem_at(db_session, settings, 3)
    assert morning == night == small_hours
    crews, _ = morning
    assert {"CREW-01", "CREW-02", "CREW-03", "CREW-04", "CREW-07", "CREW-08"} == crews


def test_the_turned_roster_keeps_twelve_hour_shifts_and_round_the_clock_crews() -> None:
    turned = shifts_from(dt.time(21))
    assert turned["CREW-01"] == (dt.time(21), dt.time(9))
    assert turned["CREW-05"] == (dt.time(9), dt.time(21))
    assert turned["CREW-07"] == turned["CREW-08"]
    assert shifts_from(DAY_SHIFT[0])["CREW-01"] == DAY_SHIFT


def test_turning_touches_only_the_demo_crews(db_session: Session) -> None:
    db_session.add(
        Crew(
            code="OTHER-1",
            name="not a demo crew",
            skills=["line"],
            shift_start=dt.time(6),
            shift_end=dt.time(14),
            depot_geom="SRID=4326;POINT(24.94 60.17)",
        )
    )
    db_session.flush()
    assert turn_demo_roster(session=db_session, start=dt.time(13)) == 6
    other = db_session.scalar(select(Crew).where(Crew.code == "OTHER-1"))
    assert other is not None and other.shift_start == dt.time(6)
