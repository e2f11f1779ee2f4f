"""Report intake and the outage lifecycle: locate, classify, attach or create, roll up, answer.

Everything a report changes happens in the caller's transaction, so a report that was
answered is a report that was stored, together with any outage it created or moved.
Two advisory locks keep concurrent intake consistent: one per idempotency key (retries
wait for the first attempt and replay its answer) and one per feeder (reports below the
same device cannot race each other into separate outages).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from geo.audit import record
from geo.exceptions import InvalidInput
from geo.models import Device, Feeder, Premise, Region, point
from geo.settings import Settings
from outages.etr import default_etr, set_etr
from outages.exceptions import InvalidTransition, OutageNotFound, ReportNotFound
from outages.locate import Located, locate_report
from outages.models import (
    ACTIVE_OUTAGE_STATUSES,
    HAZARD_CATEGORIES,
    Outage,
    OutagePremise,
    PlannedOutage,
    PlannedOutagePremise,
    Report,
)
from outages.notify import queue_outage_message
from outages.schemas import OutageRead, ReportAnswer, ReportCreate, ReportRead, Where
from outages.topology import Group, RollUpRule, load_feeder_tree, plan_rollups

# Categories that mean the customer has no (or partial) supply, or a hazard on the lines.
OUTAGE_CATEGORIES = ("no_power", "partial_power", *HAZARD_CATEGORIES)
LOCK_FEEDER = 1
LOCK_IDEMPOTENCY = 2
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "suspected": ("confirmed", "restored"),
    "confirmed": ("restored",),
    "restored": ("closed",),
    "closed": (),
    "merged": (),
}


def _lock(session: Session, namespace: int, key: int | str) -> None:
    """Transaction-scoped advisory lock; released by commit or rollback."""
    if isinstance(key, str):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, hashtext(:k))"), {"ns": namespace, "k": key}
        )
    else:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :k)"), {"ns": namespace, "k": int(key)}
        )


def local_time(moment: dt.datetime, settings: Settings) -> str:
    """A time as callers read it: local, with the date when it is not today."""
    local = moment.astimezone(ZoneInfo(settings.timezone))
    return (
        local.strftime("%H:%M on %d %b")
        if local.date() != _today(settings)
        else local.strftime("%H:%M")
    )


def _today(settings: Settings) -> dt.date:
    return dt.datetime.now(ZoneInfo(settings.timezone)).date()


def file_report(
    *,
    session: Session,
    data: ReportCreate,
    settings: Settings,
    now: dt.datetime,
    actor: str,
    is_agent: bool,
    idempotency_key: str | None = None,
) -> ReportAnswer:
    """Store a report, classify it and answer the caller.

    Classification order: inside a planned outage now -> ``planned``; inside an active
    outage -> ``known``; the same premise or caller reported recently -> ``duplicate``;
    else ``new`` (a suspected outage on the premise's transformer, then the roll-up).
    Hazards are never absorbed as duplicates and always carry their flag.
    """
    if idempotency_key:
        _lock(session, LOCK_IDEMPOTENCY, idempotency_key)
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
        _lock(session, LOCK_FEEDER, located.feeder_id)
    hazard = data.category in HAZARD_CATEGORIES
    report = Report(
        received_at=now,
        channel=data.channel,
        category=data.category,
        description=data.description,
        hazard=hazard,
        address_text=data.address,
        caller_phone=data.phone,
        caller_account=data.account,
        located_by=located.located_by,
        premise_id=located.premise_id,
        region_id=located.region_id,
        feeder_id=located.feeder_id,
        classification="unlocated",
        idempotency_key=idempotency_key,
        filed_by=actor,
        geom=None
        if located.lon is None or located.lat is None
        else point(located.lon, located.lat),
    )
    session.add(report)
    session.flush()
    _classify(session, report, located, settings, now, actor)
    answer = _answer(session, report, located, settings)
    report.answer = answer.model_dump(mode="json")
    record(
        session=session,
        actor=actor,
        action="report.filed",
        object_type="report",
        object_id=report.id,
        detail={"classification": report.classification, "outage_id": report.outage_id},
        at=now,
    )
    session.flush()
    return answer


def _classify(
    session: Session,
    report: Report,
    located: Located,
    settings: Settings,
    now: dt.datetime,
    actor: str,
) -> None:
    premise_id = located.proxy_premise_id
    if premise_id is None:
        return  # unlocated: stays in the queue for a dispatcher
    planned = planned_covering(session=session, premise_id=premise_id, now=now)
    if planned is not None:
        report.classification = "planned"
        report.planned_outage_id = planned.id
        return
    outage = active_outage_of(session=session, premise_id=premise_id)
    if outage is not None:
        report.classification = "known"
        report.outage_id = outage.id
        outage.hazard = outage.hazard or report.hazard
        if outage.status == "suspected" and report.category in OUTAGE_CATEGORIES:
            # A known report is more evidence: two transformer outages opened on one report
            # each (too few to roll up then) must still merge once their reports add up.
            session.flush()
            roll_up(
                session=session, feeder_id=outage.feeder_id, settings=settings, now=now, actor=actor
            )
            session.refresh(report)
        return
    if not report.hazard:
        earlier = _recent_open_report(session, report, settings, now)
        if earlier is not None:
            report.classification = "duplicate"
            report.duplicate_of_id = earlier.id
            report.outage_id = earlier.outage_id
            return
    report.classification = "new"
    if report.category not in OUTAGE_CATEGORIES:
        return
    premise = session.get(Premise, premise_id)
    if premise is None or premise.transformer_id is None:
        return
    outage = _open_outage(
        session,
        device_id=premise.transformer_id,
        feeder_id=premise.feeder_id,
        region_id=premise.region_id,
        now=now,
        settings=settings,
        actor=actor,
        explanation={
            "rule": "new report",
            "device": _device_code(session, premise.transformer_id),
            "reports": [report.id],
        },
    )
    outage.hazard = report.hazard
    report.outage_id = outage.id
    session.flush()
    if premise.feeder_id is not None:
        roll_up(
            session=session, feeder_id=premise.feeder_id, settings=settings, now=now, actor=actor
        )
        session.refresh(report)


def planned_covering(
    *, session: Session, premise_id: int, now: dt.datetime
) -> PlannedOutage | None:
    """The scheduled planned outage whose window covers ``now`` and whose area has the premise."""
    return session.scalar(
        select(PlannedOutage)
        .join(PlannedOutagePremise, PlannedOutagePremise.planned_outage_id == PlannedOutage.id)
        .where(
            PlannedOutagePremise.premise_id == premise_id,
            PlannedOutage.status == "scheduled",
            PlannedOutage.starts_at <= now,
            PlannedOutage.ends_at > now,
        )
        .order_by(PlannedOutage.ends_at.desc())
        .limit(1)
    )


def active_outage_of(*, session: Session, premise_id: int) -> Outage | None:
    """The active outage that has this premise without power, if any."""
    return session.scalar(
        select(Outage)
        .join(OutagePremise, OutagePremise.outage_id == Outage.id)
        .where(
            OutagePremise.premise_id == premise_id,
            OutagePremise.restored_at.is_(None),
            Outage.status.in_(ACTIVE_OUTAGE_STATUSES),
        )
        .order_by(Outage.id)
        .limit(1)
    )


def _recent_open_report(
    session: Session, report: Report, settings: Settings, now: dt.datetime
) -> Report | None:
    since = now - dt.timedelta(hours=settings.duplicate_window_h)
    same = Report.premise_id == report.premise_id if report.premise_id is not None else None
    if report.caller_phone:
        by_phone = Report.caller_phone == report.caller_phone
        same = by_phone if same is None else (same | by_phone)
    if same is None:
        return None
    return session.scalar(
        select(Report)
        .where(
            same,
            Report.id != report.id,
            Report.status == "open",
            Report.classification.in_(("new", "known", "duplicate")),
            Report.received_at >= since,
        )
        .order_by(Report.received_at)
        .limit(1)
    )


def _device_code(session: Session, device_id: int) -> str:
    return session.execute(select(Device.code).where(Device.id == device_id)).scalar_one()


def _region_class(session: Session, region_id: int | None) -> str | None:
    if region_id is None:
        return None
    return session.scalar(select(Region.region_class).where(Region.id == region_id))


def _open_outage(
    session: Session,
    *,
    device_id: int,
    feeder_id: int | None,
    region_id: int | None,
    now: dt.datetime,
    settings: Settings,
    actor: str,
    explanation: dict[str, object],
    status: str = "suspected",
    cause: str | None = None,
) -> Outage:
    """Create an outage on a device with every premise below it affected."""
    if feeder_id is None:
        feeder_id = session.execute(
            select(Device.feeder_id).where(Device.id == device_id)
        ).scalar_one()
    etr = default_etr(
        started_at=now,
        region_class=_region_class(session, region_id),
        cause=cause,
        settings=settings,
    )
    outage = Outage(
        status=status,
        device_id=device_id,
        feeder_id=feeder_id,
        region_id=region_id,
        cause=cause,
        started_at=now,
        confirmed_at=now if status == "confirmed" else None,
        explanation=explanation,
        hazard=False,
    )
    session.add(outage)
    session.flush()
    set_etr(
        session=session,
        outage=outage,
        etr_at=etr,
        source="default",
        reason="95598 commitment for the region class and cause",
        actor=actor,
        now=now,
    )
    _mark_affected(session, outage)
    record(
        session=session,
        actor=actor,
        action="outage.opened",
        object_type="outage",
        object_id=outage.id,
        detail={"device_id": device_id, "status": status},
        at=now,
    )
    return outage


def _mark_affected(session: Session, outage: Outage) -> None:
    """Affected premises = every premise fed from the outage's device or below it."""
    tree = load_feeder_tree(session=session, feeder_id=outage.feeder_id)
    devices = (
        sorted(tree.below(outage.device_id))
        if outage.device_id in tree.graph
        else [outage.device_id]
    )
    session.execute(
        text(
            "INSERT INTO outage_premise (outage_id, premise_id) "
            "SELECT :o, id FROM premise WHERE transformer_id = ANY(:devices) "
            "ON CONFLICT DO NOTHING"
        ),
        {"o": outage.id, "devices": devices},
    )
    _refresh_counts(session, outage)


def _refresh_counts(session: Session, outage: Outage) -> None:
    row = session.execute(
        text(
            "SELECT count(*) AS n, count(*) FILTER (WHERE p.critical IS NOT NULL) AS crit, "
            "ST_Buffer(ST_ConvexHull(ST_Collect(p.geom))::geography, 25)::geometry AS hull "
            "FROM outage_premise op JOIN premise p ON p.id = op.premise_id "
            "WHERE op.outage_id = :o AND op.restored_at IS NULL"
        ),
        {"o": outage.id},
    ).one()
    outage.customers_affected = int(row.n)
    outage.critical_affected = int(row.crit)
    outage.geom = row.hull


def roll_up(
    *, session: Session, feeder_id: int, settings: Settings, now: dt.datetime, actor: str
) -> list[int]:
    """Apply the roll-up rule on one feeder; returns the ids of outages that moved."""
    since = now - dt.timedelta(minutes=settings.rollup_window_min)
    rows = session.execute(
        select(Outage.id, Outage.device_id, Report.premise_id)
        .join(Report, Report.outage_id == Outage.id)
        .where(
            Outage.feeder_id == feeder_id,
            Outage.status == "suspected",
            Report.received_at >= since,
            Report.premise_id.is_not(None),
            Report.category.in_(OUTAGE_CATEGORIES),
        )
    ).all()
    groups: dict[int, Group] = {}
    for outage_id, device_id, premise_id in rows:
        group = groups.setdefault(outage_id, Group([outage_id], device_id))
        if premise_id is not None:
            group.reporting_premises.add(premise_id)
    if len(groups) < 2:
        return []
    tree = load_feeder_tree(session=session, feeder_id=feeder_id)
    rule = RollUpRule(
        min_premises=settings.rollup_min_premises,
        min_share=settings.rollup_min_share,
        window_min=settings.rollup_window_min,
    )
    moved = []
    for decision in plan_rollups(tree, groups.values(), rule):
        outages = session.scalars(select(Outage).where(Outage.id.in_(decision.outage_ids))).all()
        report_counts = dict(
            session.execute(
                select(Report.outage_id, func.count())
                .where(Report.outage_id.in_(decision.outage_ids))
                .group_by(Report.outage_id)
            ).all()
        )
        survivor = max(outages, key=lambda o: (report_counts.get(o.id, 0), -o.id))
        others = [o for o in outages if o.id != survivor.id]
        other_ids = [o.id for o in others]
        session.execute(
            update(Report).where(Report.outage_id.in_(other_ids)).values(outage_id=survivor.id)
        )
        session.execute(
            text("DELETE FROM outage_premise WHERE outage_id = ANY(:ids)"), {"ids": other_ids}
        )
        for other in others:
            other.status = "merged"
            other.merged_into_id = survivor.id
            other.customers_affected = 0
        report_ids = session.scalars(select(Report.id).where(Report.outage_id == survivor.id)).all()
        survivor.device_id = decision.device_id
        survivor.started_at = min(o.started_at for o in outages)
        survivor.hazard = any(o.hazard for o in outages)
        survivor.explanation = {
            "rule": "roll-up",
            "device": tree.codes[decision.device_id],
            "device_kind": tree.kinds[decision.device_id],
            "reports": sorted(report_ids),
            "reporting_premises": decision.reporting_premises,
            "customers_below": decision.customers_below,
            "share": decision.share,
            "thresholds": {
                "min_premises": rule.min_premises,
                "min_share": rule.min_share,
                "window_min": rule.window_min,
            },
            "merged_outages": sorted(other_ids),
        }
        latest_etr = max((o.etr_at for o in outages if o.etr_at is not None), default=None)
        if latest_etr is not None and latest_etr != survivor.etr_at:
            set_etr(
                session=session,
                outage=survivor,
                etr_at=latest_etr,
                source="rollup",
                reason="merged outages keep the latest estimate",
                actor=actor,
                now=now,
            )
        session.flush()
        _mark_affected(session, survivor)
        record(
            session=session,
            actor=actor,
            action="outage.rolled_up",
            object_type="outage",
            object_id=survivor.id,
            detail=survivor.explanation,
            at=now,
        )
        moved.append(survivor.id)
    session.flush()
    return moved


def _answer(session: Session, report: Report, located: Located, settings: Settings) -> ReportAnswer:
    region = (
        session.scalar(select(Region.code).where(Region.id == report.region_id))
        if report.region_id
        else None
    )
    feeder = (
        session.scalar(select(Feeder.code).where(Feeder.id == report.feeder_id))
        if report.feeder_id
        else None
    )
    etr = None
    hazard_note = (
        " Keep away from fallen wires and damaged poles: a crew is alerted to the hazard."
        if report.hazard
        else ""
    )
    if report.classification == "planned":
        planned = session.get(PlannedOutage, report.planned_outage_id)
        assert planned is not None
        etr = planned.ends_at
        message = (
            f"Planned work in your area: {planned.reason}. "
            f"Power is planned to be back by {local_time(planned.ends_at, settings)}."
        )
    elif report.classification in ("known", "new", "duplicate") and report.outage_id:
        outage = session.get(Outage, report.outage_id)
        assert outage is not None
        etr = outage.etr_at
        when = f" Expected back by {local_time(etr, settings)}." if etr else ""
        if report.classification == "known":
            message = (
                f"We know about the outage in your area ({outage.customers_affected} customers) "
                f"and are working on it.{when}"
            )
        elif report.classification == "duplicate":
            message = (
                f"We already have your report #{report.duplicate_of_id}; "
                f"no need to call again.{when}"
            )
        else:
            message = (
                f"Thank you: report #{report.id} is registered and we are investigating.{when}"
            )
    elif report.classification == "duplicate":
        message = f"We already have your report #{report.duplicate_of_id}; it is being handled."
    elif report.classification == "unlocated":
        message = (
            f"Report #{report.id} is stored; a dispatcher will locate the address "
            f"{located.address!r} and follow up."
        )
    else:
        message = f"Thank you: report #{report.id} is registered and will be looked at."
    return ReportAnswer(
        id=report.id,
        classification=report.classification,
        outage_id=report.outage_id,
        planned_outage_id=report.planned_outage_id,
        duplicate_of=report.duplicate_of_id,
        region=region,
        feeder=feeder,
        etr=etr,
        hazard=report.hazard,
        received_at=report.received_at,
        message=message + hazard_note,
    )


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
    settings: Settings,
    now: dt.datetime,
    actor: str,
) -> Outage:
    """A dispatcher opens an outage on a device (e.g. a breaker trip seen in SCADA)."""
    device = session.scalar(select(Device).where(Device.code == device_code))
    if device is None:
        msg = f"no device with code {device_code!r}"
        raise InvalidInput(msg)
    region_id = session.scalar(select(Feeder.region_id).where(Feeder.id == device.feeder_id))
    _lock(session, LOCK_FEEDER, device.feeder_id)
    outage = _open_outage(
        session,
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
    if confirmed:
        _notify_confirmed(session, outage, settings)
    return outage


def _notify_confirmed(session: Session, outage: Outage, settings: Settings) -> None:
    when = f" Expected back by {local_time(outage.etr_at, settings)}." if outage.etr_at else ""
    queue_outage_message(
        session=session,
        outage_id=outage.id,
        kind="outage_confirmed",
        event_key=f"outage:{outage.id}:confirmed",
        message=f"Power outage in your area; crews are on it.{when}",
    )


def confirm_outage(
    *, session: Session, outage: Outage, settings: Settings, now: dt.datetime, actor: str
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
    settings: Settings,
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
    settings: Settings,
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
        _refresh_counts(session, outage)
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
    )


def list_outages(*, session: Session, active_only: bool) -> list[OutageRead]:
    query = select(Outage).order_by(Outage.started_at.desc())
    if active_only:
        query = query.where(Outage.status.in_(ACTIVE_OUTAGE_STATUSES))
    return [read_outage(session=session, outage=o) for o in session.scalars(query)]


def read_report(*, session: Session, report: Report, settings: Settings) -> ReportRead:
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
    settings: Settings,
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
        _lock(session, LOCK_FEEDER, located.feeder_id)
    report.located_by = located.located_by
    report.premise_id = located.premise_id
    report.region_id = located.region_id
    report.feeder_id = located.feeder_id
    if located.lon is not None and located.lat is not None:
        report.geom = point(located.lon, located.lat)
    session.flush()
    _classify(session, report, located, settings, now, actor)
    answer = _answer(session, report, located, settings)
    report.answer = answer.model_dump(mode="json")
    record(
        session=session,
        actor=actor,
        action="report.located",
        object_type="report",
        object_id=report.id,
        detail={"classification": report.classification},
        at=now,
    )
    session.flush()
    return answer
