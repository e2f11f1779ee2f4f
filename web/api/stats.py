"""The centre's reports for supervisors: daily, monthly indicators, the reported form.

Each answers JSON by default, ``format=html`` (the fragment the /reports page shows,
charts included), ``csv`` or ``xlsx`` (downloads with the same numbers).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from geo.models import User
from geo.types import Text
from hotline.stats import StatsReport, daily_report, indicator_report, reported_form
from hotline.stats.export import MEDIA_TYPES, export
from hotline.stats.period import Period
from hotline.stats.reliability import reliability_stats
from hotline.stats.roster_report import roster_report
from hotline.stats.staffing import staffing_stats
from web.deps import NowDep, SessionDep, SettingsDep, require_role
from web.pages.report_views import render_report

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])
REPORT_ROLES = ("supervisor", "dispatcher")
Reader = Annotated[User, Depends(require_role(*REPORT_ROLES))]
Format = Literal["json", "html", "csv", "xlsx"]
Lang = Literal["en", "zh"]
DayQuery = Annotated[dt.date | None, Query(description="Local day (YYYY-MM-DD); today by default.")]
FormatQuery = Annotated[Format, Query(description="json, html (page fragment), csv or xlsx.")]
LangQuery = Annotated[Lang, Query(description="Language of the html fragment.")]


def _today(now: dt.datetime, timezone: str) -> dt.date:
    return now.astimezone(ZoneInfo(timezone)).date()


def _finite(value: object) -> object:
    """JSON has no NaN or infinity: a missing or undefined figure is null."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def report_json(report: StatsReport) -> dict[str, object]:
    """A report as JSON: headline, and each table as a list of rows (missing is null)."""
    sections = {
        name: [
            {str(k): _finite(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
        ]
        for name, frame in report.sections.items()
    }
    return {
        "kind": report.kind,
        "first_day": report.period.first.isoformat(),
        "last_day": report.period.last.isoformat(),
        "as_of": report.as_of.isoformat(),
        "headline": {k: _finite(v) for k, v in report.headline.items()},
        "sections": sections,
    }


def answer(report: StatsReport, fmt: Format, lang: Lang) -> Response:
    """The report in the format asked for."""
    if fmt == "html":
        return HTMLResponse(render_report(report, lang))
    if fmt in ("csv", "xlsx"):
        name = f"stormdesk-{report.kind}-{report.period.first.isoformat()}.{fmt}"
        return Response(
            export(report, fmt),
            media_type=MEDIA_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(report_json(report))


@router.get("/daily", response_model=None)
def daily(
    _user: Reader,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    date: DayQuery = None,
    format: FormatQuery = "json",
    lang: LangQuery = "en",
) -> Response:
    """The daily report: contacts, calls, fault orders and clocks, tickets, satisfaction."""
    day = date or _today(now, settings.timezone)
    report = daily_report(session=session, day=day, now=now, settings=settings)
    return answer(report, format, lang)


@router.get("/indicators", response_model=None)
def indicators(
    _user: Reader,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    month: DayQuery = None,
    months: Annotated[int, Query(ge=1, le=36, description="Months back, this one included.")] = 12,
    format: FormatQuery = "json",
    lang: LangQuery = "en",
) -> Response:
    """Monthly indicators with targets, whether each month met them, and the trend."""
    last = month or _today(now, settings.timezone)
    report = indicator_report(
        session=session, last_month=last, months=months, now=now, settings=settings
    )
    return answer(report, format, lang)


@router.get("/reported", response_model=None)
def reported(
    _user: Reader,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    date: DayQuery = None,
    format: FormatQuery = "json",
    lang: LangQuery = "en",
) -> Response:
    """The reported (上报) form of one day for a superior."""
    day = date or _today(now, settings.timezone)
    report = reported_form(session=session, day=day, now=now, settings=settings)
    return answer(report, format, lang)


@router.get("/reliability", response_model=None)
def reliability(
    _user: Reader,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    start: DayQuery = None,
    end: DayQuery = None,
    format: FormatQuery = "json",
    lang: LangQuery = "en",
) -> Response:
    """IEEE 1366 and DL/T 836 indices by system, region, feeder and cause, major event days
    marked (by default: this year up to yesterday)."""
    last = end or (_today(now, settings.timezone) - dt.timedelta(days=1))
    first = start or dt.date(last.year, 1, 1)
    period = Period(first, last, settings.timezone)
    report = reliability_stats(
        session=session, period=period, now=now, scopes=("system", "region", "feeder", "cause")
    )
    return answer(report, format, lang)


@router.get("/staffing", response_model=None)
def staffing(
    _user: Reader,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    format: FormatQuery = "json",
    lang: LangQuery = "en",
) -> Response:
    """Next week's hourly calls per region (80% intervals), the agents they need for 80/20,
    and the agent-hours the IVR saved."""
    return answer(staffing_stats(session=session, now=now, settings=settings), format, lang)


@router.get("/roster", response_model=None)
def roster(
    _user: Reader,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    week: Annotated[
        dt.date | None,
        Query(description="The week's Monday (YYYY-MM-DD); this week's by default."),
    ] = None,
    region: Annotated[Text | None, Query(max_length=64, description="One region's plan.")] = None,
    format: FormatQuery = "json",
    lang: LangQuery = "en",
) -> Response:
    """The stored roster plan of a week against its forecast, per half hour, with its
    simulated service level and what the IVR saves."""
    today = _today(now, settings.timezone)
    monday = week or today - dt.timedelta(days=today.weekday())
    report = roster_report(
        session=session,
        week=monday,
        now=now,
        settings=settings,
        region_codes=[region] if region else None,
    )
    return answer(report, format, lang)
