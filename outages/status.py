"""Power status of a premise as its customer may see it: normal, outage, planned, restored.

Pure: the facts come from one statement (``dispatch.public_status``, which also reads the
outage order's crew stage), and this module words them. Planned work comes first (a premise
inside planned work is off because we switched it off), then an active outage, then a
restoration within ``restored_recently_h``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from outages.planned_reasons import reason_texts
from outages.schemas import StatusAnswer
from outages.settings import OutageSettings
from outages.wording import local_time

UPCOMING_DAYS = 7


@dataclass(frozen=True)
class PlannedNow:
    """The planned work covering the premise now (the one ending last)."""

    id: int
    reason: str
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class OutageNow:
    """The active outage the premise is still out in (the oldest by id)."""

    id: int
    etr_at: dt.datetime | None
    cause: str | None
    customers_affected: int


@dataclass(frozen=True)
class PremiseStatus:
    """What is known of one premise at one moment: the facts a status answer words."""

    premise_id: int
    address: str
    lon: float
    lat: float
    planned: PlannedNow | None = None
    outage: OutageNow | None = None
    restored_at: dt.datetime | None = None
    upcoming: list[PlannedNow] = field(default_factory=list)
    """Scheduled work starting in the next ``UPCOMING_DAYS``, soonest first."""


def _upcoming(items: list[PlannedNow]) -> list[dict[str, Any]]:
    return [
        {
            "id": p.id,
            "starts_at": p.starts_at,
            "ends_at": p.ends_at,
            "reason": p.reason,
            "reason_texts": reason_texts(p.reason),
        }
        for p in items
    ]


def status_answer(
    facts: PremiseStatus, *, settings: OutageSettings, now: dt.datetime
) -> StatusAnswer:
    """The premise's state now, worded for its customer, with the coming week's work."""
    base: dict[str, Any] = {
        "address": facts.address,
        "premise_id": facts.premise_id,
        "lon": facts.lon,
        "lat": facts.lat,
        "checked_at": now,
        "upcoming_planned": _upcoming(facts.upcoming),
    }
    planned = facts.planned
    if planned is not None:
        return StatusAnswer(
            state="planned",
            message=(
                f"Planned work: {planned.reason}. Power is planned back by "
                f"{local_time(planned.ends_at, settings)}."
            ),
            planned_outage_id=planned.id,
            window_start=planned.starts_at,
            window_end=planned.ends_at,
            reason=planned.reason,
            reason_texts=reason_texts(planned.reason),
            known_outage=True,
            etr=planned.ends_at,
            **base,
        )
    outage = facts.outage
    if outage is not None:
        when = f" Expected back by {local_time(outage.etr_at, settings)}." if outage.etr_at else ""
        return StatusAnswer(
            state="outage",
            message=f"There is a power outage in your area and we are working on it.{when}",
            outage_id=outage.id,
            etr=outage.etr_at,
            cause=outage.cause,
            customers_affected=outage.customers_affected,
            known_outage=True,
            **base,
        )
    if facts.restored_at is not None:
        return StatusAnswer(
            state="restored",
            message=f"Power was restored at {local_time(facts.restored_at, settings)}.",
            restored_at=facts.restored_at,
            **base,
        )
    return StatusAnswer(state="normal", message="No known outage at this address.", **base)
