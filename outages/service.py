"""Report intake and the outage lifecycle: locate, classify, attach or create, roll up, answer.

Everything a report changes happens in the caller's transaction, so a report that was
answered is a report that was stored, together with any outage it created or moved.
Two advisory locks keep concurrent intake consistent: one per idempotency key (retries
wait for the first attempt and replay its answer) and one per feeder (reports below the
same device cannot race each other into separate outages).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from geo.audit import record
from geo.exceptions import InvalidInput
from geo.locks import LockSpace, xact_lock
from geo.models import Device, Feeder, Premise, Region, point
from outages import rules
from outages.etr import set_etr
from outages.exceptions import InvalidTransition, OutageNotFound, ReportNotFound
from outages.locate import locate_report
from outages.models import ACTIVE_OUTAGE_STATUSES, EtrChange, Outage, PlannedOutage, Report
from outages.notify import queue_outage_message
from outages.rules import OUTAGE_CATEGORIES, local_time
from outages.schemas import EtrConflict, OutageRead, ReportAnswer, ReportCreate, ReportRead, Where
from outages.settings import OutageSettings
from outages.store import SessionStore, refresh_counts
from outages.topology import load_feeder_tree

__all__ = ["OUTAGE_CATEGORIES", "local_time"]  # kept importable from here

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "suspected": ("confirmed", "restored"),
    "confirmed": ("restored",),
    "restored": ("closed",),
    "closed": (),
    "merged": (),
}


def file_report(
    *,
    session: Session,
    data: ReportCreate,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
    is_agent: bool,
    idempotency_key: str | None = None,
) -> ReportAnswer:
    """Store a report, classify it and answer the caller.

    Classification order: inside a planned outage now -> ``planned``; inside an active
    outage -> ``known``; the same premise or caller reported recently -> ``duplicate``;
    else ``new`` (a suspected outage on the premise's transformer, then the roll-up).
    Hazards are never absorbed as duplicates and always carry their flag. The rules are
    ``outages.rules``, shared with the batch path (``outages.batch.file_batch``).
    """
    if idempotency_key:
        xact_lock(session, LockSpace.IDEMPOTENCY, idempotency_key)
        earlier = session.scalar(select(Report).where(Report.idempotency_key == idempotency_key))
        if earlier is not None:
            return ReportAnswer.model_validate(earlier.answer)
    if data.allow_unlocated and not is_agent:
        msg = "only hotline agents may file unlocated reports: log in as an agent"
        raise InvalidInput(msg)
    located = locate_report(
        session=session,
        data=data,
        settings=settings,
        may_file_unlocated=is_agent and data.allow_unlocated,
    )
    if located.feeder_id is not None:
        xact_lock(session, LockSpace.FEEDER, located.feeder_id)
    report = Report(
        **rules.report_fields(
            data=data,
            located_by=located.located_by,
            premise_id=located.premise_id,
            region_id=located.region_id,
            feeder_id=located.feeder_id,
            now=now,
            actor=actor,
            idempotency_key=idempotency_key,
        ),
        geom=None
        if located.lon is None or located.lat is None
        else point(located.lon, located.lat),
    )
    session.add(report)
    session.flush()
    answer = rules.file_located(
        SessionStore(session),
        report,
        rules.Where(proxy_premise_id=located.proxy_premise_id, address=located.address),
        settings=settings,
        now=now,
        actor=actor,
    )
    session.flush()
    return answer


def planned_covering(
    *, session: Session, premise_id: int, now: dt.datetime
) -> PlannedOutage | None:
    """The scheduled planned outage whose window covers ``now`` and whose area has the premise."""
    return SessionStore(session).planned_covering(premise_id, now)


def active_outage_of(*, session: Session, premise_id: int) -> Outage | None:
    """The active outage that has this premise without power, if any."""
    return SessionStore(session).active_outage_of(premise_id)


def roll_up(
    *, session: Session, feeder_id: int, settings: OutageSettings, now: dt.datetime, actor: str
) -> list[int]:
    """Apply the roll-up rule on one feeder; returns the ids of outages that moved."""
    moved = rules.roll_up(
        SessionStore(session), feeder_id=feeder_id, settings=settings, now=now, actor=actor
    )
    session.flush()
    return moved


def get_report(*, session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        msg = f"no report #{report_id}"
        raise ReportNotFound(msg)
    return report


def get_outage(*, session: Session, outage_id: int) -> Outage:
    outage = session.get(Outage, outage_id)
    if outage is None:
        msg = f"no outage #{outage_id}"
        raise OutageNotFound(msg)
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
    if outage.status not in ACTIVE_OUTAGE_STATUSES:
        _transition(outage, "restored")  # raises with the allowed steps
    tree = load_feeder_tree(session=session, feeder_id=outage.feeder_id)
    devices: list[int] | None = None
    if device_code is not None:
        device_id = session.scalar(select(Device.id).where(Device.code == device_code))
        if (
            device_id is None
            or device_id not in tree.graph
            or not tree.contains(outage.device_id, device_id)
        ):
            top = tree.codes.get(outage.device_id)
            msg = f"device {device_code!r} is not on or below the outage's device {top}"
            raise InvalidInput(msg)
        devices = sorted(tree.below(device_id))
    premise_filter = (
        ""
        if devices is None
        else "AND premise_id IN (SELECT id FROM premise WHERE transformer_id = ANY(:devices))"
    )
    restored = (
        session.execute(
            text(
                "UPDATE outage_premise SET restored_at = :now "
                f"WHERE outage_id = :o AND restored_at IS NULL {premise_filter} "
                "RETURNING premise_id"
            ),
            {"now": now, "o": outage.id, "devices": devices},
        )
        .scalars()
        .all()
    )
    queue_outage_message(
        session=session,
        outage_id=outage.id,
        kind="restored",
        event_key=f"outage:{outage.id}:restored",
        message="Power is back in your area. If you still have no power, please report it again.",
        premise_ids=list(restored),
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


def close_outage(*, session: Session, outage: Outage, now: dt.datetime, actor: str) -> None:
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


def list_outages(*, session: Session, active_only: bool) -> list[OutageRead]:
    query = select(Outage).order_by(Outage.started_at.desc())
    if active_only:
        query = query.where(Outage.status.in_(ACTIVE_OUTAGE_STATUSES))
    return [read_outage(session=session, outage=o) for o in session.scalars(query)]


def read_report(*, session: Session, report: Report, settings: OutageSettings) -> ReportRead:
    """A report as its filer tracks it: state, outage and ETR, no personal data."""
    outage = session.get(Outage, report.outage_id) if report.outage_id else None
    while outage is not None and outage.merged_into_id is not None:
        outage = session.get(Outage, outage.merged_into_id)
    address = session.scalar(select(Premise.address).where(Premise.id == report.premise_id))
    region = session.scalar(select(Region.code).where(Region.id == report.region_id))
    feeder = session.scalar(select(Feeder.code).where(Feeder.id == report.feeder_id))
    if outage is not None and outage.status in ("restored", "closed"):
        message = "Power has been restored. If you still have no power, please report again."
    elif outage is not None and outage.etr_at is not None:
        message = (
            f"Crews are working on it; expected back by {local_time(outage.etr_at, settings)}."
        )
    else:
        message = str(report.answer.get("message", "Your report is registered."))
    return ReportRead(
        id=report.id,
        received_at=report.received_at,
        channel=report.channel,
        category=report.category,
        status=report.status,
        classification=report.classification,
        hazard=report.hazard,
        located_by=report.located_by,
        address=address,
        region=region,
        feeder=feeder,
        outage_id=outage.id if outage else None,
        outage_status=outage.status if outage else None,
        etr=outage.etr_at if outage else None,
        message=message,
    )


def locate_unlocated(
    *,
    session: Session,
    report: Report,
    where: Where,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
) -> ReportAnswer:
    """A dispatcher places a report from the unlocated queue; it is then classified as usual."""
    if report.located_by != "unlocated":
        msg = f"report #{report.id} is already located"
        raise InvalidInput(msg)
    located = locate_report(
        session=session, data=where, settings=settings, may_file_unlocated=False
    )
    if located.feeder_id is not None:
        xact_lock(session, LockSpace.FEEDER, located.feeder_id)
    report.located_by = located.located_by
    report.premise_id = located.premise_id
    report.region_id = located.region_id
    report.feeder_id = located.feeder_id
    if located.lon is not None and located.lat is not None:
        report.geom = point(located.lon, located.lat)
    session.flush()
    answer = rules.file_located(
        SessionStore(session),
        report,
        rules.Where(proxy_premise_id=located.proxy_premise_id, address=located.address),
        settings=settings,
        now=now,
        actor=actor,
        action="report.located",
    )
    session.flush()
    return answer
