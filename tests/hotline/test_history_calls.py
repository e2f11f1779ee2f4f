"""The generated history's call records: they follow the outages, queue and abandon
plausibly, the daily report reads them, and a rerun replaces only the history's calls."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.call_schemas import CallCreate
from hotline.calls import ring
from hotline.models import Call
from hotline.stats.service import daily_report
from hotline.stats.staffing import staffing_stats
from outages.models import Report
from scenarios.history import HistoryConfig, generate_history
from scenarios.history.store import SOURCE, load_territory, write_history
from web.cli_history import history_start
from web.settings import Settings

SEED = 2


def _write(db_session: Session, settings: Settings):  # type: ignore[no-untyped-def]
    loaded = load_territory(session=db_session)
    config = HistoryConfig(start=dt.date(2021, 1, 1), years=5, seed=SEED, tz=settings.timezone)
    history = generate_history(loaded.summary, config)
    counts = write_history(
        session=db_session, history=history, territory=loaded, settings=settings, seed=SEED
    )
    return history, counts


def _calls(db_session: Session, tz: str) -> pd.DataFrame:
    rows = db_session.execute(
        select(Call.started_at, Call.status, Call.queue_wait_s).where(Call.created_by == SOURCE)
    ).all()
    frame = pd.DataFrame(rows, columns=["started_at", "status", "wait_s"])
    frame["day"] = (
        pd.DatetimeIndex(frame["started_at"]).tz_convert(tz).normalize().tz_localize(None)
    )
    frame["abandoned"] = frame["status"] == "abandoned"
    return frame


@pytest.fixture
def written(db_session: Session, settings: Settings):  # type: ignore[no-untyped-def]
    return _write(db_session, settings)


def test_calls_follow_outage_days_and_abandons_follow_waits(
    written, db_session: Session, settings: Settings
) -> None:
    history, counts = written
    calls = _calls(db_session, settings.timezone)
    assert counts.calls == len(calls) == int(history.hourly["calls"].sum()) > 1000
    per_day = calls.groupby("day").size()
    typhoon = per_day.index.isin(history.typhoon_days)
    assert typhoon.any()
    assert per_day[typhoon].mean() > 3 * per_day[~typhoon].mean()
    daily = calls.groupby("day").agg(wait=("wait_s", "mean"), abandon=("abandoned", "mean"))
    long_wait = daily["wait"] > 60
    assert long_wait.any() and (~long_wait).any()
    assert daily.loc[long_wait, "abandon"].mean() > 3 * daily.loc[~long_wait, "abandon"].mean()
    assert daily.loc[typhoon, "abandon"].mean() > 2 * daily.loc[~typhoon, "abandon"].mean()
    # Phone fault reports are linked to answered calls of the same region and hour.
    linked = db_session.execute(
        select(Call.started_at, Report.received_at, Call.outage_id, Report.outage_id)
        .join(Report, Report.id == Call.report_id)
        .where(Call.created_by == SOURCE, Call.disposition == "fault_report")
    ).all()
    assert len(linked) > 0
    for started, received, call_outage, report_outage in linked:
        assert abs(started - received) < dt.timedelta(hours=1)
        assert call_outage == report_outage
    numbers = db_session.scalars(select(Call.caller_number).where(Call.created_by == SOURCE))
    assert all(n is not None and n.startswith("8600") and len(n) == 13 for n in numbers)


def test_the_daily_report_reads_a_typhoon_days_calls(
    written, db_session: Session, settings: Settings
) -> None:
    history, _ = written
    calls = _calls(db_session, settings.timezone)
    per_day = calls.groupby("day").size()
    storm_day = max(history.typhoon_days, key=lambda d: per_day.get(d, 0))
    quiet = per_day[~per_day.index.isin(history.typhoon_days)]
    ordinary_day = quiet.index[len(quiet) // 2]
    now = dt.datetime(2026, 6, 1, tzinfo=ZoneInfo(settings.timezone))
    storm = daily_report(session=db_session, day=storm_day.date(), now=now, settings=settings)
    ordinary = daily_report(session=db_session, day=ordinary_day.date(), now=now, settings=settings)
    assert storm.headline["calls_offered"] == per_day[storm_day]
    assert ordinary.headline["calls_offered"] == per_day[ordinary_day] > 0
    assert storm.headline["answer_rate"] < ordinary.headline["answer_rate"]  # type: ignore[operator]
    assert storm.headline["abandon_rate"] > ordinary.headline["abandon_rate"]  # type: ignore[operator]


def test_a_rerun_replaces_the_history_calls_and_keeps_live_ones(
    written, db_session: Session, settings: Settings
) -> None:
    _, counts = written
    now = dt.datetime.now(dt.UTC)
    live, created = ring(
        session=db_session,
        data=CallCreate(caller_number="+86 138 0000 0001", external_id="cti-live-1"),
        actor="agent",
        now=now,
        phone_region=settings.phone_region,
    )
    assert created
    db_session.flush()
    _, again = _write(db_session, settings)
    assert again.calls == counts.calls
    history = db_session.scalar(
        select(func.count()).select_from(Call).where(Call.created_by == SOURCE)
    )
    assert history == counts.calls
    kept = db_session.get(Call, live.id)
    assert kept is not None and kept.external_id == "cti-live-1" and kept.status == "ringing"


def test_the_cli_history_ends_yesterday() -> None:
    """The forecast reads the last weeks of calls: the history must reach up to today."""
    for today in (dt.date(2026, 12, 2), dt.date(2028, 2, 29)):
        start = history_start(today, 5)
        end = start + dt.timedelta(days=HistoryConfig(start=start, years=5).days)
        assert start.year == today.year - 5
        assert dt.timedelta(0) <= today - end <= dt.timedelta(days=1)


def test_the_staffing_forecast_reads_a_history_ending_yesterday(
    db_session: Session, settings: Settings
) -> None:
    """What the supervisor's forecast needs from a fresh demo: the last weeks' calls."""
    today = dt.date(2026, 6, 1)
    start = history_start(today, 1)
    loaded = load_territory(session=db_session)
    config = HistoryConfig(start=start, years=1, seed=SEED, tz=settings.timezone)
    history = generate_history(loaded.summary, config)
    write_history(
        session=db_session, history=history, territory=loaded, settings=settings, seed=SEED
    )
    zone = ZoneInfo(settings.timezone)
    now = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(18, 0), zone)
    report = staffing_stats(session=db_session, now=now, settings=settings)
    recent = history.hourly[
        history.hourly["hour"] >= pd.Timestamp(today, tz=zone) - pd.Timedelta(weeks=8)
    ]
    weekly = recent["calls"].sum() / 8
    assert weekly > 0
    assert 0.3 * weekly < report.headline["calls_next_week"] < 3 * weekly  # type: ignore[operator]
    assert report.headline["agent_hours_next_week"] > 0  # type: ignore[operator]
