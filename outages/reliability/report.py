"""Indices for all days, normal days and major event days, per system, region, feeder, cause.

The report is one long table (scope, group, day class, indices), the shape a page, a CSV
export or a chart takes directly. Major event days are system days (the 2.5-beta method on
system daily SAIDI, over every record given, so years before the reporting period supply
its thresholds); a region's or feeder's indices on normal days leave the same days out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from outages.reliability import med
from outages.reliability.dlt836 import Causes, dlt836_indices
from outages.reliability.ieee1366 import IndexOptions, components, indices
from outages.reliability.records import InvalidInterruptions, prepare

SCOPES = ("system", "region", "feeder", "cause")
DAY_CLASSES = ("all", "normal", "major")
SERVED_COLUMNS = ("feeder", "region", "customers")


@dataclass(frozen=True)
class ReliabilityReport:
    """The indices table, the daily SAIDI with its major-event flags, and each year's T_MED."""

    table: pd.DataFrame
    daily: pd.DataFrame
    thresholds: dict[int, med.Threshold]

    def row(self, scope: str, group: object, day_class: str = "all") -> pd.Series:
        """One row of ``table`` (a KeyError names what was asked when it is not there)."""
        found = self.table[
            (self.table["scope"] == scope)
            & (self.table["group"] == group)
            & (self.table["day_class"] == day_class)
        ]
        if found.empty:
            raise KeyError((scope, group, day_class))
        return found.iloc[0]


def reliability_report(
    interruptions: pd.DataFrame,
    served: pd.DataFrame,
    *,
    start: dt.date,
    end: dt.date,
    tz: str | dt.tzinfo | None = None,
    scopes: tuple[str, ...] = SCOPES,
    options: IndexOptions | None = None,
    include_planned: bool = True,
    causes: Causes | None = None,
) -> ReliabilityReport:
    """IEEE 1366 and DL/T 836 indices over the days ``start`` <= day < ``end``.

    Parameters
    ----------
    interruptions
        Interruption rows (``records.COLUMNS``), including earlier years: up to five years
        before ``start`` give the major-event thresholds of the reporting period.
    served
        Customers served per feeder: ``feeder``, ``region``, ``customers`` and optionally
        ``kva`` (connected load, for ASIFI and ASIDI).
    tz
        Time zone of the calendar days; by default the timestamps' own.
    include_planned
        Count planned interruptions in the IEEE indices and the daily SAIDI (DL/T 836
        always counts them).
    """
    if end <= start:
        msg = f"the period must end after it starts: start {start}, end {end}"
        raise InvalidInterruptions(msg)
    served = _served(served)
    options = options or IndexOptions()
    rows = prepare(interruptions, tz=tz)
    # Categories: grouping on their integer codes is several times faster than hashing
    # strings or objects, and a million customers' five years are a few hundred thousand
    # rows grouped a few dozen times.
    for name in ("event_id", "feeder", "region", "cause", "section"):
        rows[name] = rows[name].astype("category")
    ieee_rows = rows if include_planned else rows[~rows["planned"]]
    total_customers = float(served["customers"].sum())
    daily = med.daily_saidi(ieee_rows, total_customers)
    by_year = med.thresholds(daily, sorted(set(range(start.year, end.year + 1))))
    flags = med.major_event_days(daily, by_year)
    daily_frame = pd.DataFrame({"saidi_min": daily, "major_event_day": flags})
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    daily_frame = daily_frame[(daily_frame.index >= lo) & (daily_frame.index < hi)]
    major_days = set(daily_frame.index[daily_frame["major_event_day"]])
    in_period = (rows["day"] >= lo) & (rows["day"] < hi)
    rows = rows[in_period]
    rows = rows.assign(system="system", major=rows["day"].isin(major_days))
    period_min = (hi - lo).total_seconds() / 60.0
    unknown = set(rows["feeder"]) - set(served["feeder"])
    if unknown:
        msg = f"interruptions on feeders that served does not list: {sorted(map(str, unknown))[:5]}"
        raise InvalidInterruptions(msg)
    table = _table(
        rows,
        served,
        scopes=scopes,
        options=options,
        include_planned=include_planned,
        causes=causes,
        period_min=period_min,
    )
    return ReliabilityReport(table, daily_frame, by_year)


def _table(
    rows: pd.DataFrame,
    served: pd.DataFrame,
    *,
    scopes: tuple[str, ...],
    options: IndexOptions,
    include_planned: bool,
    causes: Causes | None,
    period_min: float,
) -> pd.DataFrame:
    """The long table: one row per scope, group and day class, scopes in the order asked."""
    tables = []
    for day_class in DAY_CLASSES:
        chosen = _day_class(rows, day_class)
        ieee = chosen if include_planned else chosen[~chosen["planned"]]
        # Sections lie within feeders, so every component is a sum over feeders: the
        # feeders' sums give the regions' and the system's; causes need their own pass.
        by_feeder = components(ieee, "feeder", options)
        for scope in scopes:
            n_t, l_t, groups = _denominators(served, scope, rows)
            if scope == "cause":
                parts = components(ieee, "cause", options)
            else:
                parts = _rolled_up(by_feeder, served, scope)
            parts = parts.reindex(groups, fill_value=0.0)
            table = indices(parts, customers_served=n_t, kva_served=l_t, period_min=period_min)
            china = dlt836_indices(
                chosen, scope, customers_served=n_t, period_h=period_min / 60.0, causes=causes
            ).reindex(groups)
            table = table.join(china)
            table.insert(0, "customers_served", n_t.reindex(groups).to_numpy())
            table.insert(0, "day_class", day_class)
            table.insert(0, "group", groups)
            table.insert(0, "scope", scope)
            tables.append(table.reset_index(drop=True))
    order = {scope: i for i, scope in enumerate(scopes)}
    return pd.concat(tables, ignore_index=True).sort_values(
        ["scope", "day_class"],
        key=lambda c: c.map(order) if c.name == "scope" else c.map(DAY_CLASSES.index),
        kind="stable",
        ignore_index=True,
    )


def _served(served: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in SERVED_COLUMNS if c not in served]
    if missing:
        msg = f"served lacks the columns {missing}; expected {list(SERVED_COLUMNS)} (+ kva)"
        raise InvalidInterruptions(msg)
    served = served.copy()
    if "kva" not in served:
        served["kva"] = 0.0
    if (served["customers"] < 0).any() or served["customers"].sum() <= 0:
        msg = "served customers must be non-negative and add up to more than zero"
        raise InvalidInterruptions(msg)
    return served.assign(system="system")


def _denominators(
    served: pd.DataFrame, scope: str, rows: pd.DataFrame
) -> tuple[pd.Series, pd.Series, pd.Index]:
    """Customers and kVA served per group, and the groups to report (all, even unhit)."""
    if scope not in SCOPES:
        msg = f"unknown scope {scope!r}; expected one of {SCOPES}"
        raise InvalidInterruptions(msg)
    if scope == "cause":
        # A cause has no customers of its own: its indices are its share of the system's.
        groups = pd.Index(sorted(rows["cause"].unique()), name="cause")
        n_t = pd.Series(float(served["customers"].sum()), index=groups)
        l_t = pd.Series(float(served["kva"].sum()), index=groups)
        return n_t, l_t, groups
    sums = served.groupby(scope, observed=True)[["customers", "kva"]].sum().astype("float64")
    return sums["customers"], sums["kva"], sums.index


def _rolled_up(by_feeder: pd.DataFrame, served: pd.DataFrame, scope: str) -> pd.DataFrame:
    """A region's or the system's components: the sums of its feeders'."""
    if scope == "feeder":
        return by_feeder
    owner = served.set_index("feeder")[scope]
    return by_feeder.groupby(owner.reindex(by_feeder.index).to_numpy(), observed=True).sum()


def _day_class(rows: pd.DataFrame, day_class: str) -> pd.DataFrame:
    if day_class == "normal":
        return rows[~rows["major"]]
    if day_class == "major":
        return rows[rows["major"]]
    return rows
