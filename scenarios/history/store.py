"""The generated history written into the database, so reports and indices read it with
the live system's own records.

Outages (closed, on the device of the kind that operated), their restoration steps
(``outage_step``), one repair order per sustained unplanned outage (closed, with its 95598
clocks), the fault reports customers filed about them and the hotline's call records go in
by COPY in one transaction. Every outage carries ``explanation.source = "history"``, every
report ``filed_by = "history"`` and every call ``created_by = "history"``, so a rerun
replaces the previous history and never touches live records.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.settings import DispatchSettings
from geo.models import Device, Feeder, Premise, Region
from outages.intake.rules import TOKEN_BYTES
from scenarios.history.call_records import history_calls
from scenarios.history.generate import History
from scenarios.history.territory import Feeder as SummaryFeeder
from scenarios.history.territory import TerritorySummary

SOURCE = "history"
CHANNELS = ("phone", "app", "web", "sms")
CHANNEL_SHARE = (0.7, 0.15, 0.1, 0.05)
# Of the customers an outage cuts off, the share who file a fault report about it.
REPORT_SHARE = 0.08
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class FeederRecord:
    """What the writer needs of one database feeder: ids, region class, a device per kind."""

    feeder_id: int
    region_id: int | None
    region_class: str
    device_by_kind: dict[str, int]
    geom_hex: str


@dataclass(frozen=True)
class LoadedTerritory:
    summary: TerritorySummary
    feeders: dict[str, FeederRecord]


@dataclass(frozen=True)
class WriteCounts:
    outages: int
    steps: int
    work_orders: int
    reports: int
    calls: int = 0


class NoTerritory(ValueError):
    """The database holds no feeders with premises to generate a history on."""


def load_territory(*, session: Session) -> LoadedTerritory:
    """The database's feeders (customers = premises), the history generator's input."""
    counts = dict(
        session.execute(select(Premise.feeder_id, func.count()).group_by(Premise.feeder_id)).all()
    )
    rows = session.execute(
        select(Feeder.id, Feeder.code, Region.id, Region.code, Region.region_class)
        .outerjoin(Region, Region.id == Feeder.region_id)
        .order_by(Feeder.code)
    ).all()
    devices = session.execute(
        select(
            Device.feeder_id,
            Device.kind,
            Device.id,
            Device.upstream_id,
            func.encode(func.ST_AsEWKB(Device.geom), "hex"),
        ).order_by(Device.feeder_id, Device.id)
    ).all()
    by_feeder: dict[int, dict[str, int]] = {}
    geom: dict[int, str] = {}
    for feeder_id, kind, device_id, upstream_id, hex_geom in devices:
        kinds = by_feeder.setdefault(feeder_id, {})
        if upstream_id is None and "breaker" not in kinds:
            kinds["breaker"] = device_id
            geom[feeder_id] = hex_geom
        kinds.setdefault(kind, device_id)
        geom.setdefault(feeder_id, hex_geom)
    feeders: list[SummaryFeeder] = []
    records: dict[str, FeederRecord] = {}
    urban: set[str] = set()
    for feeder_id, code, region_id, region_code, region_class in rows:
        if feeder_id not in by_feeder or not counts.get(feeder_id):
            continue
        region = region_code or "unknown"
        feeders.append(SummaryFeeder(code, region, int(counts[feeder_id])))
        if (region_class or "urban") == "urban":
            urban.add(region)
        records[code] = FeederRecord(
            feeder_id, region_id, region_class or "urban", by_feeder[feeder_id], geom[feeder_id]
        )
    if not feeders:
        msg = "the database holds no feeders with premises and devices: load a territory first"
        raise NoTerritory(msg)
    return LoadedTerritory(TerritorySummary(tuple(feeders), frozenset(urban)), records)


def _ts(values: pd.Series) -> list[str]:
    return [t.isoformat() for t in pd.DatetimeIndex(values)]


def _copy(
    cur: psycopg.Cursor[tuple[object, ...]], table: str, columns: str, lines: Iterator[str]
) -> None:
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buf = io.StringIO()
        for line in lines:
            buf.write(line)
            buf.write("\n")
            if buf.tell() > 8_000_000:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())


def _reserve(cur: psycopg.Cursor[tuple[object, ...]], table: str, n: int) -> int:
    """The first of ``n`` fresh ids of ``table``, its sequence moved past them (the table
    is locked against other writers for the rest of the transaction)."""
    cur.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    found = cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()
    assert found is not None and found[0] is not None, f"{table}.id has no sequence"
    sequence = str(found[0])
    row = cur.execute(
        f"SELECT setval(%s, GREATEST((SELECT COALESCE(max(id), 0) FROM {table}), "
        f"(SELECT last_value FROM {sequence})) + %s)",
        (sequence, max(n, 1)),
    ).fetchone()
    assert row is not None
    return int(str(row[0])) - max(n, 1) + 1


def delete_history(cur: psycopg.Cursor[tuple[object, ...]]) -> None:
    """Remove a previous history (and only it)."""
    old = "SELECT id FROM outage WHERE explanation->>'source' = %s"
    # Calls first: they point at the history's reports and outages.
    cur.execute("DELETE FROM call WHERE created_by = %s", (SOURCE,))
    cur.execute(f"DELETE FROM work_order WHERE outage_id IN ({old})", (SOURCE,))
    cur.execute("DELETE FROM report WHERE filed_by = %s", (SOURCE,))
    cur.execute(f"DELETE FROM outage_step WHERE outage_id IN ({old})", (SOURCE,))
    cur.execute(f"DELETE FROM outage WHERE id IN ({old})", (SOURCE,))


def write_history(
    *,
    session: Session,
    history: History,
    territory: LoadedTerritory,
    settings: DispatchSettings,
    seed: int,
    progress: Progress | None = None,
) -> WriteCounts:
    """Replace the database's generated history with ``history`` in the session's
    transaction (COPY on its connection; the caller commits)."""
    tick = progress or (lambda _label, _n: None)
    rng = np.random.default_rng(seed + 7919)
    session.flush()
    raw = session.connection().connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection), "history is written through psycopg 3"
    with raw.cursor() as cur:
        delete_history(cur)
        tick("cleared", 0)
        events = history.events.reset_index(drop=True)
        first_outage = _reserve(cur, "outage", len(events))
        outage_id = {int(e): first_outage + i for i, e in enumerate(events["event_id"])}
        _copy(cur, "outage", OUTAGE_COLUMNS, _outage_lines(events, outage_id, territory, seed))
        tick("outages", len(events))
        steps = history.interruptions
        first_step = _reserve(cur, "outage_step", len(steps))
        _copy(cur, "outage_step", STEP_COLUMNS, _step_lines(steps, outage_id, first_step))
        tick("restoration steps", len(steps))
        orders = history.work_orders.reset_index(drop=True)
        first_order = _reserve(cur, "work_order", len(orders))
        _copy(
            cur,
            "work_order",
            ORDER_COLUMNS,
            _order_lines(orders, outage_id, territory, settings, first_order),
        )
        tick("work orders", len(orders))
        reports = fault_reports(rng, events)
        first_report = _reserve(cur, "report", len(reports))
        lines = _report_lines(reports, outage_id, territory, first_report)
        _copy(cur, "report", REPORT_COLUMNS, lines)
        tick("reports", len(reports))
        calls = _calls(rng, history, events, reports)
        first_call = _reserve(cur, "call", len(calls))
        lines = _call_lines(calls, reports, outage_id, territory, first_call, first_report)
        _copy(cur, "call", CALL_COLUMNS, lines)
        tick("calls", len(calls))
        for table in ("outage", "outage_step", "work_order", "report", "call"):
            cur.execute(f"ANALYZE {table}")
    return WriteCounts(len(events), len(steps), len(orders), len(reports), len(calls))


def _calls(
    rng: np.random.Generator, history: History, events: pd.DataFrame, reports: pd.DataFrame
) -> pd.DataFrame:
    """The history's call records, the phone fault reports linked to answered calls."""
    region_of = dict(zip(events["event_id"], events["region"], strict=True))
    phone = reports["channel"].to_numpy() == "phone"
    linked = pd.DataFrame(
        {
            "region": [region_of[e] for e in reports["event_id"].to_numpy()[phone]],
            "received_at": reports["received_at"].to_numpy()[phone],
            "report_index": np.flatnonzero(phone),
        }
    )
    linked["received_at"] = pd.to_datetime(linked["received_at"], utc=True)
    return history_calls(rng, history.hourly, linked)


CALL_COLUMNS = (
    "id, channel, status, caller_number, region_id, started_at, answered_at, ended_at, "
    "wrapped_at, queue_wait_s, answered_by, disposition, report_id, outage_id, created_by"
)


def _call_lines(
    calls: pd.DataFrame,
    reports: pd.DataFrame,
    outage_id: dict[int, int],
    territory: LoadedTerritory,
    first: int,
    first_report: int,
) -> Iterator[str]:
    region_id = {f.region: territory.feeders[f.code].region_id for f in territory.summary.feeders}
    started, answered, ended = (_ts(calls[c]) for c in ("started_at", "answered_at", "ended_at"))
    report_event = reports["event_id"].to_numpy()
    for i, (region, abandoned, wait, disposition, number, report) in enumerate(
        zip(
            calls["region"],
            calls["abandoned"],
            calls["wait_s"],
            calls["disposition"],
            calls["caller_number"],
            calls["report_index"],
            strict=True,
        )
    ):
        linked = int(report) >= 0
        yield "\t".join(
            [
                str(first + i),
                "phone",
                "abandoned" if abandoned else "wrapped",
                str(number),
                _null(region_id.get(str(region))),
                started[i],
                "\\N" if abandoned else answered[i],
                answered[i] if abandoned else ended[i],
                "\\N" if abandoned else ended[i],
                str(int(wait)),
                "\\N" if abandoned else "agent",
                str(disposition),
                str(first_report + int(report)) if linked else "\\N",
                str(outage_id[int(report_event[int(report)])]) if linked else "\\N",
                SOURCE,
            ]
        )


OUTAGE_COLUMNS = (
    "id, status, device_id, feeder_id, region_id, cause, hazard, customers_affected, "
    "critical_affected, started_at, etr_at, confirmed_at, restored_at, closed_at, explanation, "
    "updated_at"
)


def _null(value: object) -> str:
    return "\\N" if value is None else str(value)


def _outage_lines(
    events: pd.DataFrame, outage_id: dict[int, int], territory: LoadedTerritory, seed: int
) -> Iterator[str]:
    started, etr, restored = (_ts(events[c]) for c in ("started_at", "etr_at", "restored_at"))
    for i, row in enumerate(events.itertuples(index=False)):
        feeder = territory.feeders[str(row.feeder)]
        device = feeder.device_by_kind.get(str(row.device), feeder.device_by_kind["breaker"])
        explanation = json.dumps(
            {
                "source": SOURCE,
                "seed": seed,
                "device_kind": str(row.device),
                "planned": bool(row.planned),
                "typhoon": bool(row.typhoon),
            }
        )
        yield "\t".join(
            [
                str(outage_id[int(row.event_id)]),
                "closed",
                str(device),
                str(feeder.feeder_id),
                _null(feeder.region_id),
                str(row.cause),
                "f",
                str(int(row.customers)),
                "0",
                started[i],
                etr[i],
                started[i],
                restored[i],
                restored[i],
                explanation,
                restored[i],
            ]
        )


STEP_COLUMNS = "id, outage_id, section, customers, kva, started_at, restored_at"


def _step_lines(steps: pd.DataFrame, outage_id: dict[int, int], first: int) -> Iterator[str]:
    started, restored = _ts(steps["started_at"]), _ts(steps["restored_at"])
    ids = [outage_id[int(e)] for e in steps["event_id"]]
    for i, (section, customers, kva) in enumerate(
        zip(steps["section"], steps["customers"], steps["kva"], strict=True)
    ):
        fields = (first + i, ids[i], f"S{int(section)}", int(customers), float(kva))
        yield "\t".join([*map(str, fields), started[i], restored[i]])


ORDER_COLUMNS = (
    "id, kind, status, outage_id, urgency_score, urgency_breakdown, priority, region_id, "
    "feeder_id, required_skills, repair_s, first_report_at, onsite_due_at, restore_due_at, "
    "locked, pinned, on_site_at, restored_at, closed_at, escalation_level, version, "
    "created_at, updated_at, geom"
)


def _order_lines(
    orders: pd.DataFrame,
    outage_id: dict[int, int],
    territory: LoadedTerritory,
    settings: DispatchSettings,
    first: int,
) -> Iterator[str]:
    created = pd.DatetimeIndex(orders["created_at"])
    columns = {c: _ts(orders[c]) for c in ("created_at", "on_site_at", "completed_at")}
    onsite_min = settings.onsite_minutes_by_region_class
    restore_h = settings.etr_hours_by_region_class
    for i, row in enumerate(orders.itertuples(index=False)):
        feeder = territory.feeders[str(row.feeder)]
        region_class = feeder.region_class
        onsite_due = created[i] + dt.timedelta(minutes=onsite_min.get(region_class, 45.0))
        restore_due = created[i] + dt.timedelta(hours=restore_h.get(region_class, 3.0))
        done = columns["completed_at"][i]
        repair_s = int(
            (pd.Timestamp(row.completed_at) - pd.Timestamp(row.on_site_at)).total_seconds()
        )
        yield "\t".join(
            [
                str(first + i),
                "outage",
                "closed",
                str(outage_id[int(row.event_id)]),
                "0",
                "[]",
                "3",
                _null(feeder.region_id),
                str(feeder.feeder_id),
                "{}",
                str(max(0, repair_s)),
                columns["created_at"][i],
                onsite_due.isoformat(),
                restore_due.isoformat(),
                "f",
                "f",
                columns["on_site_at"][i],
                done,
                done,
                "0",
                "1",
                columns["created_at"][i],
                done,
                feeder.geom_hex,
            ]
        )


def fault_reports(rng: np.random.Generator, events: pd.DataFrame) -> pd.DataFrame:
    """Fault reports about the sustained unplanned outages: a share of the customers cut
    off call, most within the first half hour; the first report of an outage is ``new``,
    the others ``known``."""
    chosen = events[~events["planned"] & ~events["momentary"]]
    counts = rng.poisson(np.maximum(chosen["customers"].to_numpy(), 0) * REPORT_SHARE)
    counts = np.maximum(counts, 1)
    index = np.repeat(np.arange(len(chosen)), counts)
    started = pd.DatetimeIndex(chosen["started_at"].to_numpy()[index])
    span = (
        (pd.DatetimeIndex(chosen["restored_at"].to_numpy()[index]) - started)
        .total_seconds()
        .to_numpy()
    )
    delay = np.minimum(rng.exponential(900.0, index.size), np.maximum(span - 1.0, 1.0))
    first = np.zeros(index.size, dtype=bool)
    first[np.concatenate([[0], np.cumsum(counts)[:-1]])] = True
    return pd.DataFrame(
        {
            "event_id": chosen["event_id"].to_numpy()[index],
            "feeder": chosen["feeder"].to_numpy()[index],
            "received_at": (started + pd.to_timedelta(delay, unit="s")).tz_convert("UTC"),
            "channel": rng.choice(CHANNELS, size=index.size, p=CHANNEL_SHARE),
            "classification": np.where(first, "new", "known"),
        }
    )


REPORT_COLUMNS = (
    "id, received_at, channel, category, hazard, located_by, region_id, feeder_id, "
    "classification, outage_id, status, filed_by, answer, token"
)


def _report_lines(
    reports: pd.DataFrame, outage_id: dict[int, int], territory: LoadedTerritory, first: int
) -> Iterator[str]:
    received = _ts(reports["received_at"])
    for i, (event, feeder_code, channel, classification) in enumerate(
        zip(
            reports["event_id"],
            reports["feeder"],
            reports["channel"],
            reports["classification"],
            strict=True,
        )
    ):
        feeder = territory.feeders[str(feeder_code)]
        yield "\t".join(
            [
                str(first + i),
                received[i],
                str(channel),
                "no_power",
                "f",
                "account",
                _null(feeder.region_id),
                str(feeder.feeder_id),
                str(classification),
                str(outage_id[int(event)]),
                "closed",
                SOURCE,
                "{}",
                # Every report has a tracking code (issue 10), generated ones too.
                secrets.token_urlsafe(TOKEN_BYTES),
            ]
        )
