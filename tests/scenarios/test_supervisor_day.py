"""A supervisor's day on a frozen clock: five years of generated history in the database,
then a storm through the real intake; the daily report of the storm day, the reliability
indices by feeder with the typhoon days as major event days, and the exports read back."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import WorkOrder
from dispatch.orders import sync_work_orders
from hotline.models import Call
from outages.models import Outage, OutageStep, Report
from scenarios.history import HistoryConfig, generate_history
from scenarios.history.store import SOURCE, load_territory, write_history
from scenarios.storm import play_storm
from tests.dispatch.helpers import login
from web.deps import get_now
from web.settings import Settings

STORM_DAY = dt.date(2026, 7, 15)
# On a city of a few feeders the 2.5-beta threshold swings with a handful of big days: with
# seed 1 the earlier years' typhoons widen ln(SAIDI) so far that no day of 2025 passes it
# (the method's known weakness on small systems; tests/hotline/test_history.py checks the
# typhoons on a province-sized territory). Seed 2 gives the demo city typhoons that are.
SEED = 2


@pytest.fixture
def day(client: TestClient, db_session: Session, settings: Settings) -> dict[str, object]:
    tz = ZoneInfo(settings.timezone)
    loaded = load_territory(session=db_session)
    config = HistoryConfig(start=dt.date(2021, 1, 1), years=5, seed=SEED, tz=settings.timezone)
    history = generate_history(loaded.summary, config)
    counts = write_history(
        session=db_session, history=history, territory=loaded, settings=settings, seed=SEED
    )
    now = dt.datetime.combine(STORM_DAY, dt.time(15, 0), tz)
    storm = play_storm(session=db_session, settings=settings, now=now, seed=7, reports=120)
    sync_work_orders(session=db_session, now=now, settings=settings, actor="dispatcher")
    db_session.flush()
    client.app.dependency_overrides[get_now] = lambda: now + dt.timedelta(hours=3)  # type: ignore[attr-defined]
    return {"history": history, "counts": counts, "storm": storm, "now": now}


def _csv_tables(data: bytes) -> dict[str, list[dict[str, str]]]:
    """The CSV export's tables: ``[name]`` line, header, rows, blank line."""
    text = data.decode("utf-8-sig")
    tables: dict[str, list[dict[str, str]]] = {}
    name, header = None, None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            name, header = None, None
        elif len(row) == 1 and row[0].startswith("["):
            name = row[0].strip("[]")
            tables[name] = []
        elif name is not None and header is None:
            header = row
        elif name is not None and header is not None:
            tables[name].append(dict(zip(header, row, strict=True)))
    return tables


def test_history_lands_in_the_database(day: dict[str, object], db_session: Session) -> None:
    counts = day["counts"]
    history = day["history"]
    outages = db_session.scalar(
        select(func.count())
        .select_from(Outage)
        .where(Outage.explanation["source"].astext == SOURCE)
    )
    assert outages == counts.outages == len(history.events)  # type: ignore[attr-defined]
    steps = db_session.scalar(select(func.count()).select_from(OutageStep))
    assert steps == len(history.interruptions)  # type: ignore[attr-defined]
    customers = db_session.scalar(select(func.sum(OutageStep.customers)))
    assert customers == int(history.interruptions["customers"].sum())  # type: ignore[attr-defined]
    assert counts.work_orders == len(history.work_orders) > 0  # type: ignore[attr-defined]
    assert counts.reports > 0  # type: ignore[attr-defined]


def test_the_storm_days_report_counts_what_happened(
    day: dict[str, object], client: TestClient, db_session: Session, settings: Settings
) -> None:
    storm = day["storm"]
    headers = login(client, "supervisor")
    answer = client.get(f"/api/v1/stats/daily?date={STORM_DAY}", headers=headers)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    tz = ZoneInfo(settings.timezone)
    start = dt.datetime.combine(STORM_DAY, dt.time(), tz)
    end = start + dt.timedelta(days=1)
    in_day = (Report.received_at >= start) & (Report.received_at < end)
    contacts = db_session.scalar(select(func.count()).select_from(Report).where(in_day))
    assert report["headline"]["contacts"] == contacts >= storm.reports  # type: ignore[attr-defined]
    by_channel = dict(
        db_session.execute(
            select(Report.channel, func.count()).where(in_day).group_by(Report.channel)
        ).all()
    )
    got = {r["channel"]: r["contacts"] for r in report["sections"]["contacts_by_channel"]}
    assert got == by_channel
    hours = report["sections"]["contacts_by_hour"]
    assert sum(h["contacts"] for h in hours) == contacts
    orders = db_session.scalar(
        select(func.count())
        .select_from(WorkOrder)
        .where(
            WorkOrder.first_report_at >= start,
            WorkOrder.first_report_at < end,
            WorkOrder.status != "cancelled",
        )
    )
    assert report["headline"]["orders"] == orders >= 1
    by_feeder = report["sections"]["orders_by_feeder"]
    assert sum(r["orders"] for r in by_feeder) == orders
    # Three hours after the storm, no crew has reached the storm's orders: on-site missed.
    assert report["headline"]["onsite_rate"] == 0.0
    # The storm's calls: each offered call once, the rates from the records one by one.
    calls = db_session.scalars(
        select(Call).where(Call.started_at >= start, Call.started_at < end)
    ).all()
    assert report["headline"]["calls_offered"] == len(calls) > 0
    answered = sum(c.answered_at is not None for c in calls)
    abandoned = sum(c.status == "abandoned" for c in calls)
    quick = sum(
        c.answered_at is not None and c.queue_wait_s is not None and c.queue_wait_s <= 20
        for c in calls
    )
    assert report["headline"]["answer_rate"] == round(answered / len(calls), 4)
    assert report["headline"]["abandon_rate"] == round(abandoned / len(calls), 4)
    assert report["headline"]["service_level"] == round(quick / len(calls), 4)
    by_region = {r["region"]: r["calls_offered"] for r in report["sections"]["calls_by_region"]}
    assert sum(by_region.values()) == len(calls)

    exported = client.get(f"/api/v1/stats/daily?date={STORM_DAY}&format=csv", headers=headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    tables = _csv_tables(exported.content)
    headline = {r["name"]: r["value"] for r in tables["headline"]}
    assert int(headline["contacts"]) == contacts
    assert {r["channel"]: int(r["contacts"]) for r in tables["contacts_by_channel"]} == by_channel

    book = client.get(f"/api/v1/stats/daily?date={STORM_DAY}&format=xlsx", headers=headers)
    assert book.status_code == 200
    sheets = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)
    rows = list(sheets["contacts_by_hour"].iter_rows(values_only=True))
    assert rows[0] == ("hour", "contacts")
    assert [r[1] for r in rows[1:]] == [h["contacts"] for h in hours]
    head = {r[0]: r[1] for r in sheets["headline"].iter_rows(min_row=2, values_only=True)}
    assert head["contacts"] == contacts and head["orders"] == orders

    page = client.get(f"/api/v1/stats/daily?date={STORM_DAY}&format=html&lang=zh", headers=headers)
    assert page.status_code == 200
    assert (
        "日报" in page.text
        and "<svg" in page.text
        and "http" not in page.text.replace("http://www.w3.org/2000/svg", "")
    )


def test_typhoon_days_are_major_event_days_by_feeder(
    day: dict[str, object], client: TestClient
) -> None:
    history = day["history"]
    headers = login(client, "supervisor")
    answer = client.get(
        "/api/v1/stats/reliability?start=2025-01-01&end=2025-12-31", headers=headers
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    major = {r["day"] for r in report["sections"]["daily_saidi"] if r["major_event_day"]}
    typhoons = {
        str(d.date())
        for d in history.typhoon_days  # type: ignore[attr-defined]
        if d.year == 2025
    }
    assert typhoons, "the seed gives 2025 typhoon days"
    # Every typhoon is a major event (a two-day one at least on its worse day; a day is
    # the one its interruptions began on), and no ordinary day is.
    spells: list[set[str]] = []
    for d in sorted(typhoons):
        previous = str(dt.date.fromisoformat(d) - dt.timedelta(days=1))
        if spells and previous in spells[-1]:
            spells[-1].add(d)
        else:
            spells.append({d})
    assert all(spell & major for spell in spells), (spells, major)
    assert major <= typhoons
    feeders = report["sections"]["reliability_feeder"]
    classes = {r["day_class"] for r in feeders}
    assert classes == {"all", "normal", "major"}
    all_days = [r for r in feeders if r["day_class"] == "all"]
    assert all(r["saidi_min"] is not None for r in all_days)
    # Normal days leave the typhoons out: the system's SAIDI falls.
    assert report["headline"]["saidi_min_normal"] < report["headline"]["saidi_min_all"]
    book = client.get(
        "/api/v1/stats/reliability?start=2025-01-01&end=2025-12-31&format=xlsx", headers=headers
    )
    sheet = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)["daily_saidi"]
    marked = {r[0] for r in sheet.iter_rows(min_row=2, values_only=True) if r[2]}
    assert marked == major
