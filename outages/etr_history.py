"""The ETR history of an outage: every change kept with who made it, when and why.

Writing a change goes through ``set_etr`` (the single path and the lifecycle); the batch
path writes the same rows with COPY (``outages.intake.batch_write``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outages.etr import check_etr
from outages.models import EtrChange, Outage
from outages.schemas import EtrChangeRead


def set_etr(
    *,
    session: Session,
    outage: Outage,
    etr_at: dt.datetime,
    source: str,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> EtrChange:
    """Change an outage's ETR and keep the change; an ETR in the past is refused."""
    check_etr(etr_at=etr_at, now=now)
    change = EtrChange(
        outage_id=outage.id,
        changed_at=now,
        previous_etr_at=outage.etr_at,
        etr_at=etr_at,
        source=source,
        reason=reason,
        actor=actor,
    )
    outage.etr_at = etr_at
    session.add(change)
    session.flush()
    return change


def list_etr_changes(*, session: Session, outage: Outage) -> list[EtrChangeRead]:
    """Every ETR the outage has had, oldest first."""
    rows = session.scalars(
        select(EtrChange).where(EtrChange.outage_id == outage.id).order_by(EtrChange.id)
    )
    return [
        EtrChangeRead(
            changed_at=r.changed_at,
            previous_etr=r.previous_etr_at,
            etr=r.etr_at,
            source=r.source,
            reason=r.reason,
            actor=r.actor,
        )
        for r in rows
    ]


def last_etr_change_at(*, session: Session, outage_id: int) -> dt.datetime | None:
    """When the outage's ETR last moved (None when it never had one)."""
    moment: dt.datetime | None = session.scalar(
        select(func.max(EtrChange.changed_at)).where(EtrChange.outage_id == outage_id)
    )
    return moment
