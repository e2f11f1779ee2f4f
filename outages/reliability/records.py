"""Interruption records: the one table every reliability index is computed from.

One row is one *restoration step*: a number of customers of one ``section`` who lost power
at ``started_at`` and got it back at ``restored_at``. An outage that restores 600 of its
1,000 customers after an hour and the other 400 after two and a half gives two rows, so
partial restorations count exactly (600 x 60 + 400 x 150 customer-minutes), not as 1,000
customers out for the whole outage.

A ``section`` is a group of customers that share their fate (a premise, or a transformer or
fuse section): the indices that count *distinct* customers (CTAIDI, CAIFI, CEMI_n, CELID)
count them per section. Within a section, the customers a smaller event hit are assumed to
be among those a larger event hit (true for a device tree, exact for premises), and the
steps of one event hit different customers (each is restored once).

Attribution to days: an interruption belongs to the day it began, in the territory's time
zone, however long it lasts (IEEE 1366-2012 accrues an interruption that spans days,
and its minutes of daily SAIDI, to the day on which it began). So an
interruption from 23:50 to 01:10 adds its 80 minutes to the first day only.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

COLUMNS = (
    "event_id",
    "feeder",
    "region",
    "cause",
    "section",
    "customers",
    "kva",
    "started_at",
    "restored_at",
)
OPTIONAL_DEFAULTS: dict[str, object] = {"kva": 0.0, "cause": "unknown", "planned": False}
# IEEE 1366-2012: an interruption of 5 minutes or less is momentary, longer is sustained.
MOMENTARY_MAX_MIN = 5.0


class InvalidInterruptions(ValueError):
    """Interruption records that cannot be computed on: the message names the bad part."""


def empty_interruptions() -> pd.DataFrame:
    """An interruption table with no rows and the right columns (no interruptions at all)."""
    frame = pd.DataFrame({name: pd.Series(dtype="object") for name in COLUMNS})
    frame["customers"] = frame["customers"].astype("int64")
    frame["kva"] = frame["kva"].astype("float64")
    for name in ("started_at", "restored_at"):
        frame[name] = pd.Series(dtype="datetime64[ns, UTC]")
    frame["planned"] = pd.Series(dtype="bool")
    return frame


def prepare(frame: pd.DataFrame, *, tz: str | dt.tzinfo | None = None) -> pd.DataFrame:
    """Checked copy of ``frame`` with ``duration_min``, ``day`` and ``momentary`` added.

    Parameters
    ----------
    frame
        Interruption rows (``COLUMNS``; ``kva``, ``cause`` and ``planned`` may be missing).
    tz
        Time zone whose calendar days the interruptions are attributed to; by default the
        zone the timestamps carry.
    """
    frame = frame.copy()
    for name, default in OPTIONAL_DEFAULTS.items():
        if name not in frame:
            frame[name] = default
    missing = [name for name in COLUMNS if name not in frame]
    if missing:
        msg = f"interruption records lack the columns {missing}; expected {list(COLUMNS)}"
        raise InvalidInterruptions(msg)
    if frame.empty:
        frame = empty_interruptions()
    started = _timestamps(frame["started_at"], "started_at")
    restored = _timestamps(frame["restored_at"], "restored_at")
    duration_min = (restored - started).dt.total_seconds().to_numpy() / 60.0
    bad = np.flatnonzero(duration_min < 0)
    if bad.size:
        msg = f"restored_at before started_at in {bad.size} rows (first at position {bad[0]})"
        raise InvalidInterruptions(msg)
    customers = pd.to_numeric(frame["customers"], errors="coerce")
    if customers.isna().any() or (customers < 0).any():
        msg = "customers must be a non-negative whole number in every row"
        raise InvalidInterruptions(msg)
    frame["customers"] = customers.astype("int64")
    frame["kva"] = pd.to_numeric(frame["kva"], errors="coerce").fillna(0.0).astype("float64")
    frame["planned"] = frame["planned"].fillna(False).astype(bool)
    frame["started_at"], frame["restored_at"] = started, restored
    frame["duration_min"] = duration_min
    frame["momentary"] = duration_min <= MOMENTARY_MAX_MIN
    local = started.dt.tz_convert(tz) if tz is not None else started
    frame["day"] = local.dt.normalize().dt.tz_localize(None)
    return frame.reset_index(drop=True)


def _timestamps(column: pd.Series, name: str) -> pd.Series:
    values = pd.to_datetime(column, utc=False)
    if values.isna().any():
        msg = f"{name} is missing in {int(values.isna().sum())} rows; ongoing interruptions "
        msg += "need an as-of time (interruptions_from_outages(as_of=...))"
        raise InvalidInterruptions(msg)
    if values.dt.tz is None:
        msg = f"{name} must carry a time zone (ISO 8601 with offset)"
        raise InvalidInterruptions(msg)
    return values
