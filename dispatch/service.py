"""Work orders: created from outages and reports, their lifecycle, crews and the closing loop.

Every change is written to the audit log (who, when, from, to) in the caller's transaction.
Assignment changes (crew, lock) bump the global ``dispatch_state.version`` that plans are
made against; crew status steps (en route, on site) do not, so a storm's stream of crew
updates does not invalidate the plan a dispatcher is reviewing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dispatch import clocks, urgency
from dispatch.exceptions import CloseRefused, CrewNotFound, StaleVersion, WorkOrderNotFound
from dispatch.models import (
    BEFORE_SITE_STATUSES,
    LIVE_STATUSES,
    STATUSES,
    CompletionReport,
    DispatchState,
    WorkOrder,
)
from dispatch.schemas import (
    CompletionCreate,
    CompletionRead,
    CrewCollection,
    CrewFeature,
    CrewProperties,
    SyncResult,
    UrgencyRead,
    WorkOrderRead,
)
from dispatch.settings import DispatchSettings
from geo.audit import record
from geo.exceptions import InvalidInput
from geo.locks import LockSpace, xact_lock
from geo.models import Crew, Device, Feeder, Premise, Region
from outages import service as outages
from outages.exceptions import InvalidTransition
from outages.intake.rules import OUTAGE_CATEGORIES
from outages.models import ACTIVE_OUTAGE_STATUSES, Outage, OutagePremise, Report

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("planned", "dispatched", "cancelled"),
    "planned": ("dispatched", "new", "cancelled"),
    "dispatched": ("en_route", "planned", "new", "cancelled"),
    "en_route": ("on_site", "dispatched", "cancelled"),
    "on_site": ("restored", "dispatched"),
    "restored": ("closed",),
    "closed": (),
    "cancelled": (),
}
"""Allowed next states. Back-steps: ``dispatched -> new`` unassigns, ``en_route ->
dispatched`` turns a crew back, ``on_site -> dispatched`` leaves a job to finish later
(or to hand to another crew). ``restored -> closed`` needs the 95598 loop (``close``)."""
CREW_TARGETS = ("en_route", "on_site", "restored")
"""The steps a crew may take on its own orders; the rest are the dispatcher's."""
NEEDS_CREW = ("planned", "dispatched", "en_route", "on_site")
ASSIGNABLE = ("new", "planned", "dispatched", "en_route")
BOOKABLE = ("new", "planned", "dispatched")
PROGRESS = {status: rank for rank, status in enumerate(STATUSES)}


# --- lookups -------------------------------------------------------------------------------


def get_work_order(*, session: Session, work_order_id: int, for_update: bool = False) -> WorkOrder:
    """An order by id; ``for_update`` locks its row until the transaction ends."""
    query = select(WorkOrder).where(WorkOrder.id == work_order_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    order = session.scalar(query)
    if order is None:
        msg = f"no work order #{work_order_id}"
        raise WorkOrderNotFound(msg)
    return order


def get_crew(*, session: Session, crew_id: int) -> Crew:
    crew = session.get(Crew, crew_id)
    if crew is None:
        msg = f"no crew #{crew_id}"
        raise CrewNotFound(msg)
    return crew


def state_version(*, session: Session) -> int:
    """The current dispatch version (plans record it; see ``DispatchState``)."""
    return int(session.execute(select(DispatchState.version).where(DispatchState.id == 1)).one()[0])


def bump_state(session: Session, now: dt.datetime) -> int:
    """Raise the dispatch version after an assignment change; plans made before go stale.

    The row lock this takes serializes assignment changes until the transaction ends.
    """
    return int(
        session.execute(
            text(
                "UPDATE dispatch_state SET version = version + 1, updated_at = :now "
                "WHERE id = 1 RETURNING version"
            ),
            {"now": now},
        ).scalar_one()
    )


def _check_version(order: WorkOrder, expected: int | None) -> None:
    if expected is not None and expected != order.version:
        msg = (
            f"work order #{order.id} is at version {order.version}, not {expected}: "
            "someone changed it meanwhile; reload it and try again"
        )
        raise StaleVersion(msg, order.version)


def _touch(order: WorkOrder, now: dt.datetime) -> None:
    order.version += 1
    order.updated_at = now


def _audit(
    session: Session, order: WorkOrder, action: str, actor: str, now: dt.datetime, **detail: Any
) -> None:
    record(
        session=session,
        actor=actor,
        action=f"work_order.{action}",
        object_type="work_order",
        object_id=order.id,
        detail=detail,
        at=now,
    )


# --- sync from outages and reports ---------------------------------------------------------


def sync_work_orders(
    *, session: Session, now: dt.datetime, settings: DispatchSettings, actor: str
) -> SyncResult:
    """Create and update orders from active outages and open reports; refresh urgency.

    - One live order per active outage. When outages merge in a roll-up, the merged
      outage's order moves onto the survivor when the survivor has none; when both have
      one, the order further along (a crew on it beats none) is kept on the survivor, with
      its crew, and the other is cancelled, "merged into outage #N".
    - An outage restored or closed before a crew was sent cancels its unstarted order;
      an order with a crew stays for the crew to finish and report.
    - One order per hazard report (also when it belongs to an outage), and one per
      located fault report that cut no supply (category outside the outage categories).
      A cancelled report order is never re-created; an active outage whose order was
      cancelled gets a new one (the outage still needs a crew).
    - Every live order's deadlines, urgency and (for outages) place, skills and repair
      time are refreshed: a roll-up moves the outage to another device.
    """
    xact_lock(session, LockSpace.DISPATCH_SYNC, 0)
    result = SyncResult()
    _follow_outages(session, result, now=now, actor=actor)
    _create_outage_orders(session, result, now=now, settings=settings, actor=actor)
    _create_report_orders(session, result, now=now, settings=settings, actor=actor)
    session.flush()
    result.refreshed = _refresh_live(session, now=now, settings=settings)
    session.flush()
    return result


def _survivor(session: Session, outage: Outage) -> Outage:
    seen = {outage.id}
    while outage.merged_into_id is not None and outage.merged_into_id not in seen:
        nxt = session.get(Outage, outage.merged_into_id)
        if nxt is None:
            break
        seen.add(nxt.id)
        outage = nxt
    return outage


def _live_outage_order(session: Session, outage_id: int) -> WorkOrder | None:
    return session.scalar(
        select(WorkOrder)
        .where(
            WorkOrder.kind == "outage",
            WorkOrder.outage_id == outage_id,
            WorkOrder.status != "cancelled",
        )
        .with_for_update()
    )


def _follow_outages(session: Session, result: SyncResult, *, now: dt.datetime, actor: str) -> None:
    rows = session.execute(
        select(WorkOrder, Outage)
        .join(Outage, WorkOrder.outage_id == Outage.id)
        .where(
            WorkOrder.kind == "outage",
            WorkOrder.status.in_(LIVE_STATUSES),
            Outage.status.not_in(ACTIVE_OUTAGE_STATUSES),
        )
        .order_by(WorkOrder.id)
        .with_for_update(of=WorkOrder)
    ).all()
    for order, outage in rows:
        if outage.status != "merged":
            if order.status in ("new", "planned"):
                _cancel(
                    session,
                    order,
                    reason=f"outage #{outage.id} was {outage.status} before a crew was sent",
                    actor=actor,
                    now=now,
                )
                result.cancelled.append(order.id)
            continue
        survivor = _survivor(session, outage)
        keeper = _live_outage_order(session, survivor.id)
        if keeper is not None and _progress(keeper) >= _progress(order):
            _cancel(
                session,
                order,
                reason=f"merged into outage #{survivor.id} (order #{keeper.id})",
                actor=actor,
                now=now,
            )
            result.cancelled.append(order.id)
            continue
        if keeper is not None:
            _cancel(
                session,
                keeper,
                reason=f"outage #{survivor.id} is served by order #{order.id}, already under way",
                actor=actor,
                now=now,
            )
            result.cancelled.append(keeper.id)
            session.flush()  # the unique live-order index must see the keeper cancelled first
        order.outage_id = survivor.id
        _touch(order, now)
        _audit(
            session,
            order,
            "moved",
            actor,
            now,
            from_outage=outage.id,
            to_outage=survivor.id,
            reason="outages merged in a roll-up",
        )
        result.moved.append(order.id)
        session.flush()


def _progress(order: WorkOrder) -> tuple[int, int]:
    return (PROGRESS[order.status], 1 if order.crew_id is not None else 0)


def _cancel(
    session: Session, order: WorkOrder, *, reason: str, actor: str, now: dt.datetime
) -> None:
    previous = order.status
    order.status = "cancelled"
    order.cancel_reason = reason
    _touch(order, now)
    _audit(
        session,
        order,
        "transition",
        actor,
        now,
        **{"from": previous, "to": "cancelled"},
        note=reason,
    )
    if order.crew_id is not None:
        bump_state(session, now)
        session.flush()
        crew = session.get(Crew, order.crew_id)
        if crew is not None:
            _refresh_crew_status(session, crew, now=now, actor=actor)


def _create_outage_orders(
    session: Session,
    result: SyncResult,
    *,
    now: dt.datetime,
    settings: DispatchSettings,
    actor: str,
) -> None:
    has_order = (
        select(WorkOrder.id)
        .where(
            WorkOrder.kind == "outage",
            WorkOrder.outage_id == Outage.id,
            WorkOrder.status != "cancelled",
        )
        .exists()
    )
    rows = session.execute(
        select(Outage, Device)
        .join(Device, Device.id == Outage.device_id)
        .where(Outage.status.in_(ACTIVE_OUTAGE_STATUSES), ~has_order)
        .order_by(Outage.id)
    ).all()
    region_classes = _region_classes(session)
    for outage, device in rows:
        due = clocks.deadlines(
            kind="outage",
            first_report_at=outage.started_at,
            region_class=region_classes.get(outage.region_id),
            settings=settings,
        )
        order = _new_order(
            kind="outage",
            outage_id=outage.id,
            region_id=outage.region_id,
            feeder_id=outage.feeder_id,
            geom=device.geom,
            required_skills=_skills_for_device(device.kind, settings),
            repair_s=_repair_s_for_device(device.kind, settings),
            first_report_at=outage.started_at,
            onsite_due_at=due.onsite_due_at,
            restore_due_at=due.restore_due_at,
            now=now,
        )
        session.add(order)
        session.flush()
        _audit(session, order, "created", actor, now, kind="outage", outage_id=outage.id)
        result.created.append(order.id)


def _create_report_orders(
    session: Session,
    result: SyncResult,
    *,
    now: dt.datetime,
    settings: DispatchSettings,
    actor: str,
) -> None:
    any_order = select(WorkOrder.id).where(WorkOrder.report_id == Report.id).exists()
    fault = (
        ~Report.hazard
        & Report.category.not_in(OUTAGE_CATEGORIES)
        & (Report.classification == "new")
        & Report.outage_id.is_(None)
    )
    reports = session.scalars(
        select(Report)
        .where(
            Report.status == "open",
            Report.geom.is_not(None),
            Report.hazard | fault,
            ~any_order,
        )
        .order_by(Report.id)
    ).all()
    region_classes = _region_classes(session)
    for report in reports:
        kind = "hazard" if report.hazard else "fault"
        assert report.geom is not None
        repair_s = _repair_s_for_category(report.category, settings)
        due = clocks.deadlines(
            kind=kind,
            first_report_at=report.received_at,
            region_class=region_classes.get(report.region_id),
            settings=settings,
        )
        order = _new_order(
            kind=kind,
            report_id=report.id,
            region_id=report.region_id,
            feeder_id=report.feeder_id,
            geom=report.geom,
            required_skills=list(settings.skills_by_category.get(report.category, ["line"])),
            repair_s=repair_s,
            first_report_at=report.received_at,
            onsite_due_at=due.onsite_due_at,
            restore_due_at=due.restore_due_at,
            now=now,
        )
        session.add(order)
        session.flush()
        _audit(
            session,
            order,
            "created",
            actor,
            now,
            kind=kind,
            report_id=report.id,
            category=report.category,
            outage_id=report.outage_id,
        )
        result.created.append(order.id)


def _skills_for_device(kind: str, settings: DispatchSettings) -> list[str]:
    return list(settings.skills_by_device_kind.get(kind, ["line"]))


def _repair_s_for_device(kind: str, settings: DispatchSettings) -> int:
    return int(settings.repair_min_by_device_kind.get(kind, 60.0) * 60)


def _repair_s_for_category(category: str, settings: DispatchSettings) -> int:
    return int(settings.repair_min_by_category.get(category, 60.0) * 60)


def _new_order(*, now: dt.datetime, **fields: Any) -> WorkOrder:
    """A fresh order: status new, version 1, unscored until the sync refreshes its urgency."""
    return WorkOrder(
        status="new",
        created_at=now,
        updated_at=now,
        version=1,
        escalation_level=0,
        locked=False,
        priority=3,
        urgency_score=0.0,
        urgency_breakdown=[],
        **fields,
    )


def _region_classes(session: Session) -> dict[int | None, str]:
    return dict(session.execute(select(Region.id, Region.region_class)).all())


def _critical_counts(session: Session, outage_ids: list[int]) -> dict[int, dict[str, int]]:
    """Critical premises still without power, by outage and kind."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if not outage_ids:
        return counts
    rows = session.execute(
        select(OutagePremise.outage_id, Premise.critical, func.count())
        .join(Premise, Premise.id == OutagePremise.premise_id)
        .where(
            OutagePremise.outage_id.in_(outage_ids),
            OutagePremise.restored_at.is_(None),
            Premise.critical.is_not(None),
        )
        .group_by(OutagePremise.outage_id, Premise.critical)
    ).all()
    for outage_id, kind, count in rows:
        counts[outage_id][str(kind)] = int(count)
    return counts


def _refresh_live(session: Session, *, now: dt.datetime, settings: DispatchSettings) -> int:
    # Outage orders follow their outage's device (a roll-up moves it up the feeder).
    session.execute(
        text(
            "UPDATE work_order w SET geom = d.geom, feeder_id = o.feeder_id, "
            "region_id = o.region_id "
            "FROM outage o JOIN device d ON d.id = o.device_id "
            "WHERE w.kind = 'outage' AND w.outage_id = o.id AND w.status = ANY(:live) "
            "AND (NOT ST_Equals(w.geom, d.geom) OR w.feeder_id IS DISTINCT FROM o.feeder_id "
            "OR w.region_id IS DISTINCT FROM o.region_id)"
        ),
        {"live": list(LIVE_STATUSES)},
    )
    orders = session.scalars(
        select(WorkOrder)
        .where(WorkOrder.status.in_(LIVE_STATUSES))
        .order_by(WorkOrder.id)
        .execution_options(populate_existing=True)
    ).all()
    refresh_orders(session=session, orders=list(orders), now=now, settings=settings)
    return len(orders)


def refresh_orders(
    *, session: Session, orders: list[WorkOrder], now: dt.datetime, settings: DispatchSettings
) -> None:
    """Recompute deadlines and urgency (and, for outages, skills and repair time)."""
    outage_ids = [o.outage_id for o in orders if o.outage_id is not None]
    outage_rows = (
        session.execute(
            select(Outage, Device.kind)
            .join(Device, Device.id == Outage.device_id)
            .where(Outage.id.in_(outage_ids))
        ).all()
        if outage_ids
        else []
    )
    outage_by_id = {outage.id: (outage, kind) for outage, kind in outage_rows}
    critical = _critical_counts(
        session, [o.id for o, _ in outage_rows if o.status in ACTIVE_OUTAGE_STATUSES]
    )
    region_classes = _region_classes(session)
    for order in orders:
        supply_lost, hazard, customers = False, order.kind == "hazard", 0
        counts: dict[str, int] = {}
        if order.kind == "outage" and order.outage_id in outage_by_id:
            outage, device_kind = outage_by_id[order.outage_id]
            order.required_skills = _skills_for_device(device_kind, settings)
            order.repair_s = _repair_s_for_device(device_kind, settings)
            if outage.status in ACTIVE_OUTAGE_STATUSES:
                order.first_report_at = min(order.first_report_at, outage.started_at)
                supply_lost, hazard = True, outage.hazard
                customers = outage.customers_affected
                counts = critical.get(outage.id, {})
        elif order.kind == "fault":
            customers = 1
        due = clocks.deadlines(
            kind=order.kind,
            first_report_at=order.first_report_at,
            region_class=region_classes.get(order.region_id),
            settings=settings,
            appointment_end_at=order.appointment_end_at,
            repair_s=order.repair_s,
        )
        order.onsite_due_at, order.restore_due_at = due.onsite_due_at, due.restore_due_at
        slack = (
            (order.onsite_due_at - now).total_seconds() / 60
            if order.status in BEFORE_SITE_STATUSES
            else None
        )
        scored = urgency.score(
            hazard=hazard,
            supply_lost=supply_lost,
            life_support=counts.get("life_support", 0),
            hospital=counts.get("hospital", 0),
            other_critical=sum(
                v for k, v in counts.items() if k not in ("life_support", "hospital")
            ),
            customers_affected=customers,
            waiting_min=(now - order.first_report_at).total_seconds() / 60,
            sla_slack_min=slack,
            weights=settings.urgency,
            big_outage_customers=settings.big_outage_customers,
        )
        order.urgency_score = scored.score
        order.priority = scored.priority
        if order.urgency_breakdown != scored.breakdown:
            order.urgency_breakdown = scored.breakdown
    session.flush()


# --- lifecycle -----------------------------------------------------------------------------


def transition(
    *,
    session: Session,
    order: WorkOrder,
    to: str,
    actor: str,
    now: dt.datetime,
    settings: DispatchSettings,
    note: str | None = None,
    expected_version: int | None = None,
) -> bool:
    """Move an order to ``to``; returns False when it already is there (nothing written).

    A repeat is not an error: the crew page retries queued updates after a network drop.
    Not allowed steps raise ``InvalidTransition`` with the allowed next states; ``closed``
    also needs the completion report, its accepted review and the return call.
    """
    if order.status == to:
        return False
    _check_version(order, expected_version)
    if to not in STATUSES:
        msg = f"unknown work order status {to!r}: use one of {', '.join(STATUSES)}"
        raise InvalidInput(msg)
    allowed = TRANSITIONS[order.status]
    if to not in allowed:
        msg = f"work order #{order.id} is {order.status}: it cannot become {to}"
        raise InvalidTransition(msg, list(allowed))
    if to == "closed":
        _require_close_loop(session, order)
    if to in NEEDS_CREW and order.crew_id is None:
        msg = f"work order #{order.id} has no crew: assign one before it becomes {to}"
        raise InvalidInput(msg)
    previous = order.status
    crew = session.get(Crew, order.crew_id) if order.crew_id is not None else None
    order.status = to
    _touch(order, now)
    if to == "new":  # unassign
        order.crew_id, order.locked, order.route_seq, order.eta_at = None, False, None, None
        bump_state(session, now)
    elif to == "cancelled":
        order.cancel_reason = note or f"cancelled by {actor}"
        if crew is not None:
            bump_state(session, now)
    elif to in ("dispatched", "en_route") and crew is not None:
        order.eta_at = _eta(session, crew, order, now, settings)
    elif to == "on_site":
        order.on_site_at = now
    elif to == "restored":
        order.restored_at = now
    elif to == "closed":
        order.closed_at = now
    _audit(
        session,
        order,
        "transition",
        actor,
        now,
        **{"from": previous, "to": to},
        note=note,
        crew=crew.code if crew else None,
    )
    session.flush()
    if crew is not None:
        _refresh_crew_status(session, crew, now=now, actor=actor)
    if to == "restored":
        _restore_outage(session, order, settings=settings, now=now, actor=actor)
    elif to in ("en_route", "on_site") and crew is not None:
        arrival = now if to == "on_site" else (order.eta_at or now)
        feed_etr(session, order, crew, arrival, settings=settings, now=now, actor=actor)
    session.flush()
    return True


def _restore_outage(
    session: Session, order: WorkOrder, *, settings: DispatchSettings, now: dt.datetime, actor: str
) -> None:
    """A crew reporting power back restores its outage, so customers see it on the status page."""
    if order.kind != "outage" or order.outage_id is None:
        return
    outage = session.get(Outage, order.outage_id)
    if outage is None:
        return
    outage = _survivor(session, outage)
    if outage.status in ACTIVE_OUTAGE_STATUSES:
        outages.restore_outage(
            session=session,
            outage=outage,
            device_code=None,
            settings=settings,
            now=now,
            actor=actor,
        )


def feed_etr(
    session: Session,
    order: WorkOrder,
    crew: Crew,
    arrival: dt.datetime,
    *,
    settings: DispatchSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """Outage ETR = crew arrival + repair time (customers are told when it moves enough)."""
    if order.kind != "outage" or order.outage_id is None:
        return
    outage = session.get(Outage, order.outage_id)
    if outage is None or outage.status not in ACTIVE_OUTAGE_STATUSES:
        return
    etr = (max(arrival, now) + dt.timedelta(seconds=order.repair_s)).replace(microsecond=0)
    if outage.etr_at == etr:
        return
    outages.change_etr(
        session=session,
        outage=outage,
        etr_at=etr,
        reason=(
            f"crew {crew.code} {order.status.replace('_', ' ')}: arrival "
            f"{arrival.isoformat(timespec='minutes')} + {order.repair_s // 60} min repair"
        ),
        source="dispatch",
        settings=settings,
        now=now,
        actor=actor,
    )


def _eta(
    session: Session, crew: Crew, order: WorkOrder, now: dt.datetime, settings: DispatchSettings
) -> dt.datetime:
    """Straight-line distance at ``straight_line_speed_kmh`` until the planner gives road ETAs."""
    distance_m = session.execute(
        text(
            "SELECT ST_DistanceSphere(COALESCE(c.geom, c.depot_geom), w.geom) "
            "FROM crew c, work_order w WHERE c.id = :c AND w.id = :w"
        ),
        {"c": crew.id, "w": order.id},
    ).scalar_one()
    speed_m_s = max(settings.straight_line_speed_kmh, 1.0) / 3.6
    return now + dt.timedelta(seconds=math.ceil(float(distance_m or 0.0) / speed_m_s))


def _refresh_crew_status(session: Session, crew: Crew, *, now: dt.datetime, actor: str) -> None:
    """A crew is ``on_site`` or ``en_route`` while one of its orders is; else ``available``."""
    statuses = set(
        session.scalars(
            select(WorkOrder.status).where(
                WorkOrder.crew_id == crew.id, WorkOrder.status.in_(("en_route", "on_site"))
            )
        )
    )
    status = "on_site" if "on_site" in statuses else "en_route" if statuses else "available"
    if crew.status != status:
        record(
            session=session,
            actor=actor,
            action="crew.status_changed",
            object_type="crew",
            object_id=crew.id,
            detail={"from": crew.status, "to": status},
            at=now,
        )
        crew.status = status


def assign(
    *,
    session: Session,
    order: WorkOrder,
    crew: Crew | None,
    lock: bool,
    actor: str,
    now: dt.datetime,
    settings: DispatchSettings,
    expected_version: int | None = None,
) -> bool:
    """A dispatcher sends a crew (or changes the lock, or unassigns with ``crew=None``).

    The order becomes ``dispatched`` (also from ``en_route``: a reassigned crew starts over),
    its ETA comes from the crew's position, and the outage ETR follows. Returns False when
    nothing changed (same crew, same lock).
    """
    if crew is None:
        if order.crew_id is None:
            return False
        return transition(
            session=session,
            order=order,
            to="new",
            actor=actor,
            now=now,
            settings=settings,
            note="unassigned",
            expected_version=expected_version,
        )
    if order.crew_id == crew.id and order.locked == lock:
        return False
    _check_version(order, expected_version)
    if order.status not in ASSIGNABLE:
        msg = (
            f"work order #{order.id} is {order.status}: only orders whose crew is not yet on "
            f"site can be (re)assigned ({', '.join(ASSIGNABLE)})"
        )
        raise InvalidTransition(msg, list(TRANSITIONS[order.status]))
    missing = sorted(set(order.required_skills) - set(crew.skills))
    if missing:
        msg = f"crew {crew.code} lacks skills {missing} needed by work order #{order.id}"
        raise InvalidInput(msg)
    if order.crew_id == crew.id:
        order.locked = lock
        _touch(order, now)
        bump_state(session, now)
        _audit(session, order, "locked" if lock else "unlocked", actor, now, crew=crew.code)
        session.flush()
        return True
    previous_crew = session.get(Crew, order.crew_id) if order.crew_id is not None else None
    previous_status = order.status
    order.crew_id = crew.id
    order.locked = lock
    order.route_seq = None
    order.status = "dispatched"
    _touch(order, now)
    session.flush()
    order.eta_at = _eta(session, crew, order, now, settings)
    bump_state(session, now)
    _audit(
        session,
        order,
        "reassigned" if previous_crew else "assigned",
        actor,
        now,
        from_crew=previous_crew.code if previous_crew else None,
        to_crew=crew.code,
        **{"from": previous_status, "to": "dispatched"},
        locked=lock,
        eta_at=order.eta_at.isoformat(),
    )
    session.flush()
    for each in (previous_crew, crew):
        if each is not None:
            _refresh_crew_status(session, each, now=now, actor=actor)
    feed_etr(session, order, crew, order.eta_at, settings=settings, now=now, actor=actor)
    session.flush()
    return True


def post_position(
    *,
    session: Session,
    crew: Crew,
    lon: float,
    lat: float,
    now: dt.datetime,
    settings: DispatchSettings,
) -> None:
    """The crew page posts where the crew is; ETAs of its orders en route follow.

    Not audited (it arrives every few seconds); the ETR is fed back on status steps only,
    so customers are not messaged on every position.
    """
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or not (
        math.isfinite(lon) and math.isfinite(lat)
    ):
        msg = f"position ({lon}, {lat}) is not a lon/lat in EPSG:4326"
        raise InvalidInput(msg)
    session.execute(
        text(
            "UPDATE crew SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), "
            "position_at = :now WHERE id = :id"
        ),
        {"lon": lon, "lat": lat, "now": now, "id": crew.id},
    )
    session.expire(crew, ["geom", "position_at"])
    for order in session.scalars(
        select(WorkOrder).where(WorkOrder.crew_id == crew.id, WorkOrder.status == "en_route")
    ):
        order.eta_at = _eta(session, crew, order, now, settings)
    session.flush()


# --- the 95598 closing loop ----------------------------------------------------------------


def _completion(session: Session, order: WorkOrder) -> CompletionReport | None:
    return session.scalar(
        select(CompletionReport).where(CompletionReport.work_order_id == order.id)
    )


def file_completion(
    *, session: Session, order: WorkOrder, data: CompletionCreate, actor: str, now: dt.datetime
) -> CompletionReport:
    """The crew's report: cause found, action taken, device, materials.

    Filed on site or after restoration; refiling replaces a report not yet accepted.
    """
    if order.status not in ("on_site", "restored"):
        msg = (
            f"work order #{order.id} is {order.status}: the completion report is filed "
            "on site or after restoration"
        )
        raise InvalidTransition(msg, list(TRANSITIONS[order.status]))
    report = _completion(session, order)
    if report is not None and report.review_ok:
        msg = f"the completion report of work order #{order.id} is already accepted"
        raise InvalidTransition(msg, list(TRANSITIONS[order.status]))
    if report is None:
        report = CompletionReport(work_order_id=order.id)
        session.add(report)
    report.cause_found = data.cause_found
    report.action = data.action
    report.device_code = data.device_code
    report.materials = [m.model_dump() for m in data.materials]
    report.filed_by, report.filed_at = actor, now
    report.reviewed_by = report.reviewed_at = report.review_ok = report.review_note = None
    _touch(order, now)
    _audit(
        session,
        order,
        "completion_filed",
        actor,
        now,
        cause_found=data.cause_found,
        action_taken=data.action,
        device=data.device_code,
        materials=report.materials,
    )
    session.flush()
    return report


def review_completion(
    *,
    session: Session,
    order: WorkOrder,
    ok: bool,
    note: str | None,
    actor: str,
    now: dt.datetime,
) -> CompletionReport:
    """A supervisor accepts the report, or rejects it (with a note) for the crew to refile."""
    report = _completion(session, order)
    if report is None:
        msg = f"work order #{order.id} has no completion report to review yet"
        raise InvalidTransition(msg, list(TRANSITIONS[order.status]))
    if order.status != "restored":
        msg = f"work order #{order.id} is {order.status}: review it once power is restored"
        raise InvalidTransition(msg, list(TRANSITIONS[order.status]))
    if report.review_ok:
        msg = f"the completion report of work order #{order.id} is already accepted"
        raise InvalidTransition(msg, list(TRANSITIONS[order.status]))
    if not ok and not note:
        msg = "a rejected report needs a note telling the crew what to fix"
        raise InvalidInput(msg)
    report.reviewed_by, report.reviewed_at = actor, now
    report.review_ok, report.review_note = ok, note
    _touch(order, now)
    _audit(session, order, "completion_reviewed", actor, now, ok=ok, note=note)
    session.flush()
    return report


def record_return_call(
    *,
    session: Session,
    order: WorkOrder,
    customer_reached: bool,
    satisfied: bool | None,
    note: str | None,
    actor: str,
    now: dt.datetime,
) -> CompletionReport:
    """The return call (回访) after an accepted review; a later attempt replaces an earlier one."""
    report = _completion(session, order)
    if report is None or not report.review_ok:
        msg = f"work order #{order.id}: the return call follows an accepted completion review"
        raise InvalidTransition(msg, list(TRANSITIONS[order.status]))
    if order.status != "restored":
        msg = f"work order #{order.id} is {order.status}: no return call is due"
        raise InvalidTransition(msg, list(TRANSITIONS[order.status]))
    if not customer_reached:
        satisfied = None
    report.return_call_at, report.return_call_by = now, actor
    report.customer_reached, report.satisfied = customer_reached, satisfied
    report.return_call_note = note
    _touch(order, now)
    _audit(
        session,
        order,
        "return_call",
        actor,
        now,
        customer_reached=customer_reached,
        satisfied=satisfied,
        note=note,
    )
    session.flush()
    return report


def _require_close_loop(session: Session, order: WorkOrder) -> None:
    report = _completion(session, order)
    missing = []
    if report is None:
        missing.append("completion report")
    elif not report.review_ok:
        missing.append("accepted review")
    if report is None or report.return_call_at is None:
        missing.append("return call")
    if missing:
        msg = f"work order #{order.id} cannot close yet: missing {', '.join(missing)}"
        raise CloseRefused(msg, missing)


def close(
    *, session: Session, order: WorkOrder, actor: str, now: dt.datetime, settings: DispatchSettings
) -> bool:
    """Close a restored order once its report is accepted and the return call is recorded."""
    return transition(
        session=session, order=order, to="closed", actor=actor, now=now, settings=settings
    )


def book_appointment(
    *,
    session: Session,
    order: WorkOrder,
    start_at: dt.datetime,
    end_at: dt.datetime,
    actor: str,
    now: dt.datetime,
    settings: DispatchSettings,
) -> None:
    """Book the slot a customer agreed for a non-urgent fault; it becomes the job's window.

    The slot must lie in the future, within business hours on one local day, and last at
    most ``appointment_max_h``. The on-site deadline becomes the end of the slot.
    """
    if order.kind != "fault" or order.priority < 3:
        msg = (
            f"work order #{order.id} ({order.kind}, priority {order.priority}) is urgent: "
            "only faults of priority 3-4 are booked; urgent work is served at once"
        )
        raise InvalidInput(msg)
    if order.status not in BOOKABLE:
        msg = f"work order #{order.id} is {order.status}: too late to book a slot"
        raise InvalidTransition(msg, list(TRANSITIONS[order.status]))
    for name, value in (("start_at", start_at), ("end_at", end_at)):
        if value.tzinfo is None:
            msg = f"{name} must carry a UTC offset, e.g. 2026-11-24T09:00:00+02:00"
            raise InvalidInput(msg)
    if start_at <= now:
        msg = f"slot start {start_at.isoformat()} is not in the future"
        raise InvalidInput(msg)
    if end_at <= start_at:
        msg = "slot end must be after its start"
        raise InvalidInput(msg)
    if end_at - start_at > dt.timedelta(hours=settings.appointment_max_h):
        msg = f"a slot lasts at most {settings.appointment_max_h:g} h"
        raise InvalidInput(msg)
    zone = ZoneInfo(settings.timezone)
    start_local, end_local = start_at.astimezone(zone), end_at.astimezone(zone)
    day_start, day_end = settings.appointment_day_start, settings.appointment_day_end
    if (
        start_local.date() != end_local.date()
        or start_local.time() < day_start
        or end_local.time() > day_end
    ):
        msg = (
            f"slots lie within business hours, {day_start:%H:%M}-{day_end:%H:%M} "
            f"({settings.timezone}) on one day"
        )
        raise InvalidInput(msg)
    order.appointment_start_at, order.appointment_end_at = start_at, end_at
    _touch(order, now)
    if order.crew_id is not None:
        bump_state(session, now)
    _audit(
        session,
        order,
        "appointment_booked",
        actor,
        now,
        start_at=start_at.isoformat(),
        end_at=end_at.isoformat(),
    )
    refresh_orders(session=session, orders=[order], now=now, settings=settings)


# --- reading -------------------------------------------------------------------------------


def _countdown(due: dt.datetime, now: dt.datetime) -> int:
    return math.floor((due - now).total_seconds())


def list_work_orders(
    *,
    session: Session,
    now: dt.datetime,
    status: str | None = None,
    crew_id: int | None = None,
    escalated: bool | None = None,
    ids: list[int] | None = None,
) -> list[WorkOrderRead]:
    """Orders, most urgent first, with breakdown, deadlines and countdowns.

    ``status`` is one status, or ``live`` (default when None: every status).
    """
    query = (
        select(
            WorkOrder,
            func.ST_X(WorkOrder.geom),
            func.ST_Y(WorkOrder.geom),
            Region.code,
            Feeder.code,
            Crew.code,
            CompletionReport,
        )
        .outerjoin(Region, Region.id == WorkOrder.region_id)
        .outerjoin(Feeder, Feeder.id == WorkOrder.feeder_id)
        .outerjoin(Crew, Crew.id == WorkOrder.crew_id)
        .outerjoin(CompletionReport, CompletionReport.work_order_id == WorkOrder.id)
        .order_by(WorkOrder.urgency_score.desc(), WorkOrder.id)
    )
    if status == "live":
        query = query.where(WorkOrder.status.in_(LIVE_STATUSES))
    elif status is not None:
        query = query.where(WorkOrder.status == status)
    if crew_id is not None:
        query = query.where(WorkOrder.crew_id == crew_id)
    if escalated is not None:
        query = query.where(
            WorkOrder.escalation_level > 0 if escalated else WorkOrder.escalation_level == 0
        )
    if ids is not None:
        query = query.where(WorkOrder.id.in_(ids))
    return [
        _read(order, lon, lat, region, feeder, crew, report, now)
        for order, lon, lat, region, feeder, crew, report in session.execute(query)
    ]


def read_work_order(*, session: Session, order: WorkOrder, now: dt.datetime) -> WorkOrderRead:
    session.flush()
    return list_work_orders(session=session, now=now, ids=[order.id])[0]


def _read(
    order: WorkOrder,
    lon: float,
    lat: float,
    region: str | None,
    feeder: str | None,
    crew: str | None,
    report: CompletionReport | None,
    now: dt.datetime,
) -> WorkOrderRead:
    return WorkOrderRead(
        id=order.id,
        kind=order.kind,
        status=order.status,
        allowed_transitions=list(TRANSITIONS[order.status]),
        outage_id=order.outage_id,
        report_id=order.report_id,
        urgency=UrgencyRead(
            score=order.urgency_score, priority=order.priority, breakdown=order.urgency_breakdown
        ),
        region=region,
        feeder=feeder,
        lon=lon,
        lat=lat,
        required_skills=list(order.required_skills),
        repair_s=order.repair_s,
        first_report_at=order.first_report_at,
        onsite_due_at=order.onsite_due_at,
        restore_due_at=order.restore_due_at,
        onsite_countdown_s=_countdown(order.onsite_due_at, now)
        if order.status in BEFORE_SITE_STATUSES
        else None,
        restore_countdown_s=_countdown(order.restore_due_at, now)
        if order.status in LIVE_STATUSES
        else None,
        at_risk=clocks.at_risk(order, now),
        overdue=clocks.overdue(order, now),
        escalation_level=order.escalation_level,
        escalated_at=order.escalated_at,
        crew_id=order.crew_id,
        crew=crew,
        locked=order.locked,
        route_seq=order.route_seq,
        eta_at=order.eta_at,
        on_site_at=order.on_site_at,
        restored_at=order.restored_at,
        closed_at=order.closed_at,
        cancel_reason=order.cancel_reason,
        appointment_start_at=order.appointment_start_at,
        appointment_end_at=order.appointment_end_at,
        completion=None
        if report is None
        else CompletionRead(
            cause_found=report.cause_found,
            action=report.action,
            device_code=report.device_code,
            materials=report.materials,
            filed_by=report.filed_by,
            filed_at=report.filed_at,
            reviewed_by=report.reviewed_by,
            reviewed_at=report.reviewed_at,
            review_ok=report.review_ok,
            review_note=report.review_note,
            return_call_at=report.return_call_at,
            customer_reached=report.customer_reached,
            satisfied=report.satisfied,
            return_call_note=report.return_call_note,
        ),
        version=order.version,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


# --- crews ---------------------------------------------------------------------------------


def on_shift(*, crew: Crew, now: dt.datetime, settings: DispatchSettings) -> bool:
    """Whether local ``now`` falls in the crew's shift; night shifts end before they start
    (19:00-07:00) and wrap past midnight. Equal start and end mean round the clock."""
    local = now.astimezone(ZoneInfo(settings.timezone)).time()
    start, end = crew.shift_start, crew.shift_end
    if start == end:
        return True
    if start < end:
        return start <= local < end
    return local >= start or local < end


def crew_collection(
    *, session: Session, now: dt.datetime, settings: DispatchSettings
) -> CrewCollection:
    """Crews as a GeoJSON FeatureCollection: live position, else the depot."""
    rows = session.execute(
        select(
            Crew,
            func.ST_X(func.coalesce(Crew.geom, Crew.depot_geom)),
            func.ST_Y(func.coalesce(Crew.geom, Crew.depot_geom)),
            Region.code,
        )
        .outerjoin(Region, Region.id == Crew.region_id)
        .order_by(Crew.code)
    )
    orders: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for order_id, crew_id, status in session.execute(
        select(WorkOrder.id, WorkOrder.crew_id, WorkOrder.status)
        .where(WorkOrder.crew_id.is_not(None), WorkOrder.status.in_(LIVE_STATUSES))
        .order_by(WorkOrder.route_seq.nulls_last(), WorkOrder.urgency_score.desc(), WorkOrder.id)
    ):
        assert crew_id is not None
        orders[crew_id].append((order_id, status))
    features = []
    for crew, lon, lat, region in rows:
        mine = orders.get(crew.id, [])
        busy = [oid for oid, status in mine if status in ("on_site", "en_route")]
        current = busy[0] if busy else (mine[0][0] if mine else None)
        features.append(
            CrewFeature(
                id=crew.id,
                geometry={"type": "Point", "coordinates": [lon, lat]},
                properties=CrewProperties(
                    id=crew.id,
                    code=crew.code,
                    name=crew.name,
                    skills=sorted(crew.skills),
                    status=crew.status,
                    region=region,
                    shift_start=crew.shift_start,
                    shift_end=crew.shift_end,
                    on_shift=on_shift(crew=crew, now=now, settings=settings),
                    position_source="live" if crew.geom is not None else "depot",
                    position_at=crew.position_at,
                    current_order_id=current,
                    open_orders=len(mine),
                ),
            )
        )
    return CrewCollection(features=features)
