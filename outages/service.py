"""The outage lifecycle: open, confirm, ETR, restore, close, cause, and reading outages.

Reports reach outages through intake (``outages.intake``); here a dispatcher (or a
dispatch flow) moves an outage through its states. Every step is kept in the audit log,
and customers are told through the outbox (``outages.notify``) when it concerns them.

Every step first takes ``lock_outage``: the feeder's advisory lock (the one intake and
device operations take, so a report cannot attach while the outage changes) and then the
outage's row, re-read, so a step decides on the state the previous step committed. Two
steps racing therefore run one after the other, and the second is judged against the
first's result: a second confirm is a 409 that names the allowed steps (not a silent
repeat with a second audit row), a confirm after a restore is a 409, and the ETR and its
history entry are written under the same lock, so the outage's ETR is its last entry.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from geo.audit import record
from geo.exceptions import InvalidInput
from geo.locks import LockSpace, xact_lock
from geo.models import Device, Feeder, Region
from outages.etr_history import set_etr
from outages.exceptions import InvalidTransition, OutageNotFound
from outages.intake import rules
from outages.intake.session_store import SessionStore, refresh_counts
from outages.models import ACTIVE_OUTAGE_STATUSES, EtrChange, Outage, Report
from outages.notify import queue_outage_message
from outages.schemas import EtrConflict, OutageRead, OutageUpdate
from outages.settings import OutageSettings
from outages.topology import load_feeder_tree
from outages.wording import local_time

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "suspected": ("confirmed", "restored"),
    "confirmed": ("restored",),
    "restored": ("closed",),
    "closed": (),
    "merged": (),
}


def active_outage_of(*, session: Session, premise_id: int) -> Outage | None:
    """The active outage that has this premise without power, if any."""
    return SessionStore(session).active_outage_of(premise_id)


def get_outage(*, session: Session, outage_id: int) -> Outage:
    outage = session.get(Outage, outage_id)
    if outage is None:
        msg = f"no outage #{outage_id}"
        raise OutageNotFound(msg)
    return outage


def lock_outage(*, session: Session, outage: Outage) -> Outage:
    """Lock the outage for a step: its feeder first (the order intake locks in), then its
    row, refreshed in place from what is committed."""
    xact_lock(session, LockSpace.FEEDER, outage.feeder_id)
    locked = session.scalars(
        select(Outage)
        .where(Outage.id == outage.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    assert locked is outage  # the identity map's object, refreshed in place
    return outage


def _transition(outage: Outage, target: str) -> None:
    allowed = TRANSITIONS.get(outage.status, ())
    if target not in allowed:
        msg = f"outage #{outage.id} is {outage.status}: it cannot become {target}"
        raise InvalidTransition(msg, list(allowed))
    outage.status = target


def open_outage(
    *,
    session: Session,
    device_code: str,
    cause: str | None,
    confirmed: bool,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
) -> Outage:
    """A dispatcher opens an outage on a device (e.g. a breaker trip seen in SCADA)."""
    device = session.scalar(select(Device).where(Device.code == device_code))
    if device is None:
        msg = f"no device with code {device_code!r}"
        raise InvalidInput(msg)
    region_id = session.scalar(select(Feeder.region_id).where(Feeder.id == device.feeder_id))
    xact_lock(session, LockSpace.FEEDER, device.feeder_id)
    outage = rules.open_outage(
        SessionStore(session),
        device_id=device.id,
        feeder_id=device.feeder_id,
        region_id=region_id,
        now=now,
        settings=settings,
        actor=actor,
        explanation={"rule": "opened by dispatcher", "device": device.code},
        status="confirmed" if confirmed else "suspected",
        cause=cause,
    )
    assert isinstance(outage, Outage)
    if confirmed:
        _notify_confirmed(session, outage, settings)
    return outage


def _notify_confirmed(session: Session, outage: Outage, settings: OutageSettings) -> None:
    when = f" Expected back by {local_time(outage.etr_at, settings)}." if outage.etr_at else ""
    queue_outage_message(
        session=session,
        outage_id=outage.id,
        kind="outage_confirmed",
        event_key=f"outage:{outage.id}:confirmed",
        message=f"Power outage in your area; crews are on it.{when}",
    )


def confirm_outage(
    *, session: Session, outage: Outage, settings: OutageSettings, now: dt.datetime, actor: str
) -> None:
    lock_outage(session=session, outage=outage)
    _transition(outage, "confirmed")
    outage.confirmed_at = now
    _notify_confirmed(session, outage, settings)
    record(
        session=session,
        actor=actor,
        action="outage.confirmed",
        object_type="outage",
        object_id=outage.id,
        at=now,
    )
    session.flush()


def change_etr(
    *,
    session: Session,
    outage: Outage,
    etr_at: dt.datetime,
    reason: str,
    source: str,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """Set a new ETR; customers are told when it moves by more than the configured shift."""
    lock_outage(session=session, outage=outage)
    if outage.status not in ACTIVE_OUTAGE_STATUSES:
        msg = f"outage #{outage.id} is {outage.status}: its ETR can no longer change"
        raise InvalidTransition(msg, list(TRANSITIONS.get(outage.status, ())))
    previous = outage.etr_at
    set_etr(
        session=session,
        outage=outage,
        etr_at=etr_at,
        source=source,
        reason=reason or "updated",
        actor=actor,
        now=now,
    )
    shift_min = abs((etr_at - previous).total_seconds()) / 60 if previous else float("inf")
    if outage.status == "confirmed" and shift_min > settings.etr_notify_shift_min:
        queue_outage_message(
            session=session,
            outage_id=outage.id,
            kind="etr_changed",
            event_key=f"outage:{outage.id}:etr:{etr_at.isoformat()}",
            message=(
                "Update on the outage in your area: now expected back by "
                f"{local_time(etr_at, settings)}."
            ),
        )
    record(
        session=session,
        actor=actor,
        action="outage.etr_changed",
        object_type="outage",
        object_id=outage.id,
        detail={
            "from": previous.isoformat() if previous else None,
            "to": etr_at.isoformat(),
            "source": source,
        },
        at=now,
    )
    session.flush()


def restore_outage(
    *,
    session: Session,
    outage: Outage,
    device_code: str | None,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
) -> int:
    """Restore the whole outage, or only the premises below ``device_code`` (a partial step).

    Returns the number of premises restored by this step. The outage becomes ``restored``
    when no affected premise is left without power.
    """
    lock_outage(session=session, outage=outage)
    if outage.status not in ACTIVE_OUTAGE_STATUSES:
        _transition(outage, "restored")  # raises with the allowed steps
    devices = _devices_restored(session, outage, device_code)
    restored = _restore_premises(session, outage, devices, now)
    queue_outage_message(
        session=session,
        outage_id=outage.id,
        kind="restored",
        event_key=f"outage:{outage.id}:restored",
        message="Power is back in your area. If you still have no power, please report it again.",
        premise_ids=restored,
    )
    remaining = session.execute(
        text("SELECT count(*) FROM outage_premise WHERE outage_id = :o AND restored_at IS NULL"),
        {"o": outage.id},
    ).scalar_one()
    if remaining == 0:
        outage.status = "restored"
        outage.restored_at = now
        session.execute(
            update(Report)
            .where(Report.outage_id == outage.id, Report.status == "open")
            .values(status="closed")
        )
    else:
        refresh_counts(session, outage)
    record(
        session=session,
        actor=actor,
        action="outage.restored" if remaining == 0 else "outage.partially_restored",
        object_type="outage",
        object_id=outage.id,
        detail={
            "device": device_code,
            "premises_restored": len(restored),
            "remaining": int(remaining),
        },
        at=now,
    )
    session.flush()
    return len(restored)


def reopen_outage(
    *, session: Session, outage: Outage, settings: OutageSettings, now: dt.datetime, actor: str
) -> int:
    """Undo the last restoration step of a restored outage (a crew's mistaken tap).

    The premises that step restored are dark again, the outage is confirmed again and its
    reports open, and customers who were told power is back are told it is not yet.
    Returns the number of premises darkened again.
    """
    lock_outage(session=session, outage=outage)
    if outage.status != "restored" or outage.restored_at is None:
        msg = f"outage #{outage.id} is {outage.status}: only a restored outage can be reopened"
        raise InvalidTransition(msg, list(TRANSITIONS.get(outage.status, ())))
    step_at = outage.restored_at
    darkened = (
        session.execute(
            text(
                "UPDATE outage_premise SET restored_at = NULL "
                "WHERE outage_id = :o AND restored_at = :at RETURNING premise_id"
            ),
            {"o": outage.id, "at": step_at},
        )
        .scalars()
        .all()
    )
    outage.status, outage.restored_at = "confirmed", None
    outage.confirmed_at = outage.confirmed_at or now
    session.execute(
        update(Report)
        .where(Report.outage_id == outage.id, Report.status == "closed")
        .values(status="open")
    )
    refresh_counts(session, outage)
    when = f" Expected back by {local_time(outage.etr_at, settings)}." if outage.etr_at else ""
    queue_outage_message(
        session=session,
        outage_id=outage.id,
        kind="reopened",
        event_key=f"outage:{outage.id}:reopened:{now.isoformat()}",
        message=f"Sorry: power in your area is not back yet; crews are on it.{when}",
        premise_ids=list(darkened),
    )
    record(
        session=session,
        actor=actor,
        action="outage.reopened",
        object_type="outage",
        object_id=outage.id,
        detail={"premises": len(darkened), "restored_at": step_at.isoformat()},
        at=now,
    )
    session.flush()
    return len(darkened)


def _devices_restored(
    session: Session, outage: Outage, device_code: str | None
) -> list[int] | None:
    """The devices a partial step restores (None: the whole outage); the device named must
    be on or below the outage's device."""
    if device_code is None:
        return None
    tree = load_feeder_tree(session=session, feeder_id=outage.feeder_id)
    device_id = session.scalar(select(Device.id).where(Device.code == device_code))
    if (
        device_id is None
        or device_id not in tree.graph
        or not tree.contains(outage.device_id, device_id)
    ):
        top = tree.codes.get(outage.device_id)
        msg = f"device {device_code!r} is not on or below the outage's device {top}"
        raise InvalidInput(msg)
    return sorted(tree.below(device_id))


def _restore_premises(
    session: Session, outage: Outage, devices: list[int] | None, now: dt.datetime
) -> list[int]:
    """Mark the outage's dark premises (below ``devices``, or all) restored; their ids."""
    premise_filter = (
        ""
        if devices is None
        else "AND premise_id IN (SELECT id FROM premise WHERE transformer_id = ANY(:devices))"
    )
    restored = session.execute(
        text(
            "UPDATE outage_premise SET restored_at = :now "
            f"WHERE outage_id = :o AND restored_at IS NULL {premise_filter} "
            "RETURNING premise_id"
        ),
        {"now": now, "o": outage.id, "devices": devices},
    )
    return list(restored.scalars().all())


def close_outage(*, session: Session, outage: Outage, now: dt.datetime, actor: str) -> None:
    lock_outage(session=session, outage=outage)
    _transition(outage, "closed")
    outage.closed_at = now
    record(
        session=session,
        actor=actor,
        action="outage.closed",
        object_type="outage",
        object_id=outage.id,
        at=now,
    )
    session.flush()


def set_cause(
    *, session: Session, outage: Outage, cause: str, now: dt.datetime, actor: str
) -> None:
    lock_outage(session=session, outage=outage)
    if outage.status == "merged":
        msg = f"outage #{outage.id} was merged into #{outage.merged_into_id}: set the cause there"
        raise InvalidTransition(msg, [])
    outage.cause = cause
    record(
        session=session,
        actor=actor,
        action="outage.cause_set",
        object_type="outage",
        object_id=outage.id,
        detail={"cause": cause},
        at=now,
    )
    session.flush()


def update_outage(
    *,
    session: Session,
    outage: Outage,
    data: OutageUpdate,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """One step a dispatcher asks for: confirm, restore, close, set the ETR or the cause."""
    if data.action == "confirm":
        confirm_outage(session=session, outage=outage, settings=settings, now=now, actor=actor)
    elif data.action == "restore":
        restore_outage(
            session=session,
            outage=outage,
            device_code=data.device,
            settings=settings,
            now=now,
            actor=actor,
        )
    elif data.action == "close":
        close_outage(session=session, outage=outage, now=now, actor=actor)
    elif data.action == "set_etr":
        if data.etr is None:
            msg = "set_etr needs etr (ISO 8601 with offset)"
            raise InvalidInput(msg)
        change_etr(
            session=session,
            outage=outage,
            etr_at=data.etr,
            reason=data.reason,
            source="dispatcher",
            settings=settings,
            now=now,
            actor=actor,
        )
    else:
        if not data.cause:
            msg = "set_cause needs cause"
            raise InvalidInput(msg)
        set_cause(session=session, outage=outage, cause=data.cause, now=now, actor=actor)


def read_outage(*, session: Session, outage: Outage) -> OutageRead:
    """An outage as the console and the API show it."""
    device = session.get(Device, outage.device_id)
    assert device is not None
    feeder = session.execute(select(Feeder.code).where(Feeder.id == outage.feeder_id)).scalar_one()
    region = session.scalar(select(Region.code).where(Region.id == outage.region_id))
    counts = session.execute(
        text(
            "SELECT count(*) FILTER (WHERE restored_at IS NOT NULL) AS restored, "
            "(SELECT count(*) FROM report WHERE outage_id = :o) AS reports "
            "FROM outage_premise WHERE outage_id = :o"
        ),
        {"o": outage.id},
    ).one()
    return OutageRead(
        id=outage.id,
        status=outage.status,
        device=device.code,
        device_kind=device.kind,
        feeder=feeder,
        region=region,
        cause=outage.cause,
        hazard=outage.hazard,
        customers_affected=outage.customers_affected,
        customers_restored=int(counts.restored),
        critical_affected=outage.critical_affected,
        started_at=outage.started_at,
        etr=outage.etr_at,
        confirmed_at=outage.confirmed_at,
        restored_at=outage.restored_at,
        report_count=int(counts.reports),
        merged_into=outage.merged_into_id,
        explanation=outage.explanation,
        etr_conflict=etr_conflict(session=session, outage=outage),
    )


def etr_conflict(*, session: Session, outage: Outage) -> EtrConflict | None:
    """The dispatcher's last ETR when customers are told another one, read off the history:
    a later entry from the crew's plan replaced it (``dispatch.flows.feed_etr``)."""
    last_manual = session.scalar(
        select(EtrChange)
        .where(EtrChange.outage_id == outage.id, EtrChange.source == "dispatcher")
        .order_by(EtrChange.id.desc())
        .limit(1)
    )
    if last_manual is None or outage.etr_at is None or last_manual.etr_at == outage.etr_at:
        return None
    replaced_by = session.scalar(
        select(EtrChange)
        .where(EtrChange.outage_id == outage.id, EtrChange.id > last_manual.id)
        .order_by(EtrChange.id.desc())
        .limit(1)
    )
    return EtrConflict(
        dispatcher_etr=last_manual.etr_at,
        told_etr=outage.etr_at,
        reason=replaced_by.reason if replaced_by is not None else "replaced",
    )


def count_active(*, session: Session) -> tuple[int, int]:
    """How many outages are active and how many customers they leave without power."""
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(Outage.customers_affected), 0)).where(
            Outage.status.in_(ACTIVE_OUTAGE_STATUSES)
        )
    ).one()
    return int(row[0]), int(row[1])


def public_outage(read: OutageRead) -> OutageRead:
    """The outage as anyone may see it: no count of critical customers (in a small outage it
    points at a hospital or a life-support home), no placing rule (it lists reports and
    premises), no dispatcher ETR that customers are not told."""
    return read.model_copy(
        update={"critical_affected": None, "explanation": {}, "etr_conflict": None}
    )


def list_outages(*, session: Session, active_only: bool) -> list[OutageRead]:
    query = select(Outage).order_by(Outage.started_at.desc())
    if active_only:
        query = query.where(Outage.status.in_(ACTIVE_OUTAGE_STATUSES))
    return [read_outage(session=session, outage=o) for o in session.scalars(query)]
