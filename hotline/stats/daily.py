"""The daily report (and any period's): contacts, calls, fault orders and their 95598 clocks,
tickets and their working-day clocks, satisfaction from return visits.

Pure over the frames ``sources`` reads, so the same function serves the page, the CLI, the
exports, the indicator report (one period per month) and the benchmark. A report is a set
of named tables (``sections``) plus the headline figures; everything a page draws or a
spreadsheet holds is one of these tables, so the exports carry exactly the page's numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hotline.stats.calls import call_figures, calls_by, calls_by_hour, calls_by_region
from hotline.stats.period import Period

SATISFIED = ("very_satisfied", "satisfied")


@dataclass(frozen=True)
class Frames:
    """The records of one period, as ``sources`` reads them."""

    reports: pd.DataFrame
    orders: pd.DataFrame
    tickets: pd.DataFrame
    return_calls: pd.DataFrame
    ticket_satisfaction: pd.DataFrame
    calls: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class StatsReport:
    """A report: its kind, period, headline figures and tables (section name -> frame)."""

    kind: str
    period: Period
    as_of: dt.datetime
    headline: dict[str, float | int | None]
    sections: dict[str, pd.DataFrame]


def _rate(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else round(float(numerator) / float(denominator), 4)


def _counts(frame: pd.DataFrame, column: str, name: str = "contacts") -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame({column: pd.Series(dtype=object), name: pd.Series(dtype="int64")})
    counted = frame.groupby(column, sort=True).size().rename(name).reset_index()
    return counted.astype({name: "int64"})


def contacts_by_hour(reports: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Contacts per local hour of the day, all 24 hours listed (a quiet hour shows 0)."""
    hours = np.zeros(24, dtype=np.int64)
    if not reports.empty:
        local = pd.to_datetime(reports["received_at"], utc=True).dt.tz_convert(tz)
        hours = np.bincount(local.dt.hour.to_numpy(), minlength=24).astype(np.int64)
    return pd.DataFrame({"hour": np.arange(24), "contacts": hours})


def _clock(done: pd.Series, due: pd.Series, as_of: dt.datetime) -> tuple[pd.Series, pd.Series]:
    """(met, missed) per order: done by the deadline; or done late, or not done and past it.

    An order whose deadline is still ahead and not yet reached counts as neither: the
    report does not guess how it will end.
    """
    done_at = pd.to_datetime(done, utc=True)
    due_at = pd.to_datetime(due, utc=True)
    met = done_at.notna() & (done_at <= due_at)
    missed = (done_at.notna() & (done_at > due_at)) | (done_at.isna() & (due_at < as_of))
    return met, missed


def order_clocks(orders: pd.DataFrame, as_of: dt.datetime) -> pd.DataFrame:
    """The orders with four flags: on-site and restore clocks met or missed."""
    out = orders.copy()
    if out.empty:
        for name in ("onsite_met", "onsite_missed", "restore_met", "restore_missed"):
            out[name] = pd.Series(dtype=bool)
        return out
    out["onsite_met"], out["onsite_missed"] = _clock(out["on_site_at"], out["onsite_due_at"], as_of)
    out["restore_met"], out["restore_missed"] = _clock(
        out["restored_at"], out["restore_due_at"], as_of
    )
    return out


def orders_by(flagged: pd.DataFrame, column: str) -> pd.DataFrame:
    """Orders per ``column`` with the share of each clock met (of those decided)."""
    columns = [column, "orders", "onsite_met", "onsite_rate", "restore_met", "restore_rate"]
    if flagged.empty:
        return pd.DataFrame(columns=columns)
    grouped = flagged.groupby(column, sort=True).agg(
        orders=("id", "size"),
        onsite_met=("onsite_met", "sum"),
        onsite_missed=("onsite_missed", "sum"),
        restore_met=("restore_met", "sum"),
        restore_missed=("restore_missed", "sum"),
    )
    grouped["onsite_rate"] = [
        _rate(m, m + x)
        for m, x in zip(grouped["onsite_met"], grouped["onsite_missed"], strict=True)
    ]
    grouped["restore_rate"] = [
        _rate(m, m + x)
        for m, x in zip(grouped["restore_met"], grouped["restore_missed"], strict=True)
    ]
    out = grouped.reset_index()[columns]
    return out.astype({"orders": "int64", "onsite_met": "int64", "restore_met": "int64"})


def tickets_by_type(tickets: pd.DataFrame) -> pd.DataFrame:
    """Tickets per type and class with their contact and answer clocks kept."""
    columns = [
        "ticket_type",
        "ticket_class",
        "tickets",
        "contacted_on_time",
        "answered",
        "answered_on_time",
        "overdue",
    ]
    if tickets.empty:
        return pd.DataFrame(columns=columns)
    grouped = tickets.groupby(["ticket_type", "ticket_class"], sort=True).agg(
        tickets=("id", "size"),
        contacted_on_time=("contacted_on_time", "sum"),
        answered=("answered", "sum"),
        answered_on_time=("answered_on_time", "sum"),
        overdue=("overdue", "sum"),
    )
    return grouped.reset_index()[columns].astype(dict.fromkeys(columns[2:], "int64"))


def satisfaction(return_calls: pd.DataFrame, ticket_answers: pd.DataFrame) -> pd.DataFrame:
    """Satisfied answers out of customers reached, for repairs and for tickets."""
    reached = return_calls[return_calls["customer_reached"].eq(True)]
    repairs_ok = int(reached["satisfied"].eq(True).sum())
    answered = ticket_answers[ticket_answers["satisfaction"] != "unreachable"]
    tickets_ok = int(answered["satisfaction"].isin(SATISFIED).sum())
    rows = [
        ("repair", len(return_calls), len(reached), repairs_ok, _rate(repairs_ok, len(reached))),
        (
            "ticket",
            len(ticket_answers),
            len(answered),
            tickets_ok,
            _rate(tickets_ok, len(answered)),
        ),
    ]
    return pd.DataFrame(rows, columns=["source", "visits", "reached", "satisfied", "rate"])


def build_report(kind: str, period: Period, frames: Frames, as_of: dt.datetime) -> StatsReport:
    """Every table of the daily report over ``frames`` (records of ``period``)."""
    flagged = order_clocks(frames.orders, as_of)
    tickets = frames.tickets
    sat = satisfaction(frames.return_calls, frames.ticket_satisfaction)
    calls = call_figures(frames.calls)
    reached = int(sat["reached"].sum())
    headline: dict[str, float | int | None] = {
        "contacts": len(frames.reports),
        **calls,
        "orders": len(flagged),
        "onsite_rate": _rate(
            flagged["onsite_met"].sum(),
            flagged["onsite_met"].sum() + flagged["onsite_missed"].sum(),
        ),
        "restore_rate": _rate(
            flagged["restore_met"].sum(),
            flagged["restore_met"].sum() + flagged["restore_missed"].sum(),
        ),
        "tickets": len(tickets),
        "tickets_answered_on_time_rate": _rate(
            tickets["answered_on_time"].sum(), tickets["answered"].sum()
        ),
        "tickets_overdue": int(tickets["overdue"].sum()) if not tickets.empty else 0,
        "satisfaction_rate": _rate(int(sat["satisfied"].sum()), reached),
    }
    sections = {
        "calls_by_region": calls_by_region(frames.calls),
        "calls_by_channel": calls_by(frames.calls, "channel"),
        "calls_by_type": calls_by(frames.calls, "disposition"),
        "calls_by_hour": calls_by_hour(frames.calls, period.tz),
        "contacts_by_channel": _counts(frames.reports, "channel"),
        "contacts_by_category": _counts(frames.reports, "category"),
        "contacts_by_region": _counts(frames.reports, "region"),
        "contacts_by_hour": contacts_by_hour(frames.reports, period.tz),
        "orders_by_region": orders_by(flagged, "region"),
        "orders_by_feeder": orders_by(flagged, "feeder"),
        "orders_by_cause": orders_by(flagged, "cause"),
        "tickets_by_type": tickets_by_type(tickets),
        "satisfaction": sat,
    }
    return StatsReport(kind, period, as_of, headline, sections)
