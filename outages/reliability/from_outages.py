"""stormdesk's own outage records turned into interruption rows (pure: frames in, frame out).

The database keeps an outage (feeder, region, cause, ``started_at``, ``restored_at``) and
the premises it cut off, each with its own ``restored_at`` when a switching step gave some
of them power back earlier. Premises restored at the same moment behind the same section
(their transformer when known) become one row, so a partial restoration is one row per
step, and an outage still on is counted up to ``as_of``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from outages.reliability.records import COLUMNS, InvalidInterruptions, empty_interruptions

OUTAGE_COLUMNS = ("outage_id", "feeder", "region", "cause", "started_at", "restored_at")
AFFECTED_COLUMNS = ("outage_id", "premise_id", "restored_at")


def interruptions_from_outages(
    outages: pd.DataFrame,
    affected: pd.DataFrame,
    *,
    as_of: dt.datetime | None = None,
) -> pd.DataFrame:
    """One interruption row per outage, section and restoration time.

    Parameters
    ----------
    outages
        One row per outage: ``OUTAGE_COLUMNS``, optionally ``planned``. ``restored_at`` is
        empty while the outage is on.
    affected
        One row per premise cut off: ``AFFECTED_COLUMNS``, optionally ``section`` (the
        premise's transformer or device: premises sharing one share their interruptions),
        ``customers`` (default 1 per premise) and ``kva`` (the premise's connected load).
        An empty ``restored_at`` means the premise came back with its outage.
    as_of
        The time an outage still on is counted up to (live indices); without it, an
        unrestored outage is an error rather than a silently wrong duration.
    """
    _require(outages, OUTAGE_COLUMNS, "outages")
    _require(affected, AFFECTED_COLUMNS, "affected")
    if affected.empty:
        return empty_interruptions()
    steps = affected.copy()
    if "section" not in steps:
        steps["section"] = steps["premise_id"]
    steps["section"] = steps["section"].fillna(steps["premise_id"])
    if "customers" not in steps:
        steps["customers"] = 1
    if "kva" not in steps:
        steps["kva"] = 0.0
    header = outages.rename(columns={"restored_at": "outage_restored_at"})
    if "planned" not in header:
        header["planned"] = False
    unknown = set(steps["outage_id"]) - set(header["outage_id"])
    if unknown:
        msg = f"affected premises name outages that are not given: {sorted(unknown)[:5]}"
        raise InvalidInterruptions(msg)
    steps = steps.drop(columns=[c for c in ("feeder", "region", "cause") if c in steps])
    steps = steps.merge(header, on="outage_id", how="left", validate="many_to_one")
    restored = pd.to_datetime(steps["restored_at"]).fillna(
        pd.to_datetime(steps["outage_restored_at"])
    )
    if as_of is not None:
        restored = restored.fillna(pd.Timestamp(as_of))
    steps["restored_at"] = restored
    steps["cause"] = steps["cause"].fillna("unknown")
    keys = ["outage_id", "section", "restored_at"]
    rows = steps.groupby(keys, sort=False, dropna=False).agg(
        feeder=("feeder", "first"),
        region=("region", "first"),
        cause=("cause", "first"),
        planned=("planned", "first"),
        started_at=("started_at", "first"),
        customers=("customers", "sum"),
        kva=("kva", "sum"),
    )
    rows = rows.reset_index().rename(columns={"outage_id": "event_id"})
    return rows[[*COLUMNS, "planned"]]


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in frame]
    if missing:
        msg = f"{name} lacks the columns {missing}; expected at least {list(columns)}"
        raise InvalidInterruptions(msg)
