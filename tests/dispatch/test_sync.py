"""Sync: one order per outage (its hazard calls as tasks), per hazard place and per fault
report; roll-up merges followed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dispatch.lifecycle import assign
from dispatch.models import WorkOrder
from dispatch.orders import sync_work_orders
from dispatch.views import list_work_orders
from geo.models import Device, Premise
from outages.models import Outage
from outages.planned import create_planned
from outages.schemas import PlannedOutageCreate
from outages.service import get_outage, restore_outage
from tests.dispatch.helpers import NOW, crew, order_of, sync
from tests.outages.helpers import file, fuse_with_transformers, premises_of
from web.settings import Settings


def _orders(session: Session) -> list[WorkOrder]:
    return list(session.scalars(select(WorkOrder).order_by(WorkOrder.id)))


def test_one_order_per_outage_hazards_as_its_tasks_and_one_per_fault(
    db_session: Session, settings: Settings
) -> None:
    _, transformers = fuse_with_transformers(db_session)
    first, second = premises_of(db_session, transformers[0])[:2]
    elsewhere = premises_of(db_session, transformers[1])[0]
    wire = file(db_session, settings, account=first.account, category="wire_down")
    pole = file(db_session, settings, account=second.account, category="pole_damage")
    assert pole.classification == "known" and pole.outage_id == wire.outage_id
    # A flicker on the same feeder as the outage starts is the protection operating: no order.
    reclosing = file(db_session, settings, account=elsewhere.account, category="flicker")
    assert reclosing.outage_id is None
    # An hour later it is a fault of its own.
    later = NOW + dt.timedelta(hours=1)
    flicker = file(db_session, settings, account=elsewhere.account, category="flicker", at=later)
    assert flicker.classification == "duplicate"
    flicker = file(
        db_session,
        settings,
        account=premises_of(db_session, transformers[1])[1].account,
        category="flicker",
        at=later,
    )
    assert flicker.outage_id is None and flicker.classification == "new"
    result = sync_work_orders(session=db_session, now=later, settings=settings, actor="dispatcher")
    orders = _orders(db_session)
    assert sorted(result.created) == [o.id for o in orders]
    by_kind = sorted((o.kind, o.outage_id, o.report_id) for o in orders)
    # One incident, one order: both hazard calls are make-safe tasks of the outage's order.
    assert by_kind == sorted([("outage", wire.outage_id, None), ("fault", None, flicker.id)])
    listed = list_work_orders(session=db_session, now=later)
    assert [o.kind for o in listed] == ["outage", "fault"]
    assert [o.urgency.priority for o in listed] == [1, 4]
    assert [(t.report_id, t.status) for t in listed[0].tasks] == [
        (wire.id, "open"),
        (pole.id, "open"),
    ]
    assert listed[0].open_tasks == 2 and listed[0].reports == 2
    assert "wire down" in listed[0].tasks[0].note
    again = sync_work_orders(
        session=db_session, now=later + dt.timedelta(minutes=5), settings=settings, actor="d"
    )
    assert again.created == [] and again.refreshed == 2
    assert len(_orders(db_session)) == 2


def test_roll_up_merge_keeps_the_order_with_a_crew_on_the_survivor(
    db_session: Session, settings: Settings
) -> None:
    _, transformers = fuse_with_transformers(db_session)
    left, right = (premises_of(db_session, t)[:6] for t in transformers[:2])
    a = file(db_session, settings, account=left[0].account)
    b = file(db_session, settings, account=right[0].account, at=NOW + dt.timedelta(minutes=1))
    assert a.outage_id != b.outage_id
    sync(db_session, settings, NOW + dt.timedelta(minutes=2))
    order_a, order_b = (
        order_of(db_session, a.outage_id or 0),
        order_of(db_session, b.outage_id or 0),
    )
    assign(
        session=db_session,
        order=order_a,
        crew=crew(db_session, "CREW-08"),
        lock=True,
        actor="dispatcher",
        now=NOW + dt.timedelta(minutes=3),
        settings=settings,
    )
    for i, (p, q) in enumerate(zip(left[1:], right[1:], strict=True)):
        at = NOW + dt.timedelta(minutes=4 + i)
        file(db_session, settings, account=p.account, at=at)
        file(db_session, settings, account=q.account, at=at)
    merged = db_session.scalars(select(Outage).where(Outage.status == "merged")).all()
    assert merged, "the reports below the fuse must roll up"
    survivor_id = merged[0].merged_into_id
    assert survivor_id is not None
    result = sync_work_orders(
        session=db_session, now=NOW + dt.timedelta(minutes=15), settings=settings, actor="d"
    )
    db_session.refresh(order_a)
    db_session.refresh(order_b)
    assert order_a.outage_id == survivor_id and order_a.status == "dispatched"
    assert order_a.crew_id == crew(db_session, "CREW-08").id and order_a.locked
    assert order_b.status == "cancelled"
    assert order_b.cancel_reason is not None
    assert order_b.cancel_reason.startswith("merged into outage #") or (
        f"served by order #{order_a.id}" in order_b.cancel_reason
    )
    assert order_b.id in result.cancelled
    live = db_session.scalars(
        select(WorkOrder).where(WorkOrder.kind == "outage", WorkOrder.status != "cancelled")
    ).all()
    assert [o.id for o in live] == [order_a.id], "one live order per outage"
    # The order now goes where the rolled-up outage sits: the common device.
    survivor = db_session.get(Outage, survivor_id)
    assert survivor is not None
    placed = db_session.scalar(
        select(WorkOrder.geom.ST_Equals(Device.geom))
        .join(Device, Device.id == survivor.device_id)
        .where(WorkOrder.id == order_a.id)
    )
    assert placed


def test_restored_outage_cancels_its_unstarted_order(
    db_session: Session, settings: Settings
) -> None:
    premise = premises_of(db_session, fuse_with_transformers(db_session)[1][0])[0]
    answer = file(db_session, settings, account=premise.account)
    sync(db_session, settings)
    order = order_of(db_session, answer.outage_id or 0)
    outage = get_outage(session=db_session, outage_id=answer.outage_id or 0)
    restore_outage(
        session=db_session,
        outage=outage,
        device_code=None,
        settings=settings,
        now=NOW + dt.timedelta(minutes=10),
        actor="scada",
    )
    result = sync_work_orders(
        session=db_session, now=NOW + dt.timedelta(minutes=11), settings=settings, actor="d"
    )
    assert result.cancelled == [order.id]
    assert order.status == "cancelled" and "restored before a crew" in (order.cancel_reason or "")


def test_hazard_reports_read_back_from_the_database_are_placed(
    db_session: Session, settings: Settings
) -> None:
    """The cycle reads hazard reports filed earlier (another transaction, another worker):
    their points come back from PostGIS as WKB, which must still bind in the place query."""
    _, transformers = fuse_with_transformers(db_session)
    first = premises_of(db_session, transformers[0])[0]
    wire = file(db_session, settings, account=first.account, category="wire_down")
    db_session.flush()
    db_session.expire_all()  # as a new session sees it: every column reloaded from the row
    sync(db_session, settings)
    (listed,) = list_work_orders(session=db_session, now=NOW)
    assert listed.outage_id == wire.outage_id
    assert [(t.report_id, t.status) for t in listed.tasks] == [(wire.id, "open")]


def _two_neighbours_under_planned_work(
    session: Session, settings: Settings
) -> tuple[Premise, Premise]:
    """Two premises 1-50 m apart whose transformer is out for planned work now: a hazard
    there is classified ``planned`` (no outage), so it needs a make-safe order of its own."""
    row = session.execute(
        text(
            "SELECT a.id, b.id, d.code FROM premise a "
            "JOIN premise b ON b.transformer_id = a.transformer_id AND b.id > a.id "
            "AND ST_DWithin(a.geom::geography, b.geom::geography, 50) "
            "AND NOT ST_DWithin(a.geom::geography, b.geom::geography, 1) "
            "JOIN device d ON d.id = a.transformer_id "
            "ORDER BY a.id, b.id LIMIT 1"
        )
    ).one()
    create_planned(
        session=session,
        data=PlannedOutageCreate(
            reason="cable replacement",
            starts_at=NOW - dt.timedelta(hours=1),
            ends_at=NOW + dt.timedelta(hours=3),
            devices=[row[2]],
        ),
        settings=settings,
        now=NOW - dt.timedelta(days=10),
        actor="dispatcher",
    )
    first, second = session.get(Premise, row[0]), session.get(Premise, row[1])
    assert first is not None and second is not None
    return first, second


def test_hazard_read_back_from_the_database_joins_a_make_safe_task_nearby(
    db_session: Session, settings: Settings
) -> None:
    """A hazard outside any outage, read back by the cycle (its point is a WKB element
    then), goes to the live make-safe order of a task within 50 m: the place query binds
    the point as a geometry however the report was loaded."""
    first, second = _two_neighbours_under_planned_work(db_session, settings)
    wire = file(db_session, settings, account=first.account, category="wire_down")
    assert wire.classification == "planned" and wire.outage_id is None
    db_session.flush()
    db_session.expire_all()
    sync(db_session, settings)
    (order,) = [o for o in _orders(db_session) if o.kind == "hazard"]
    later = NOW + dt.timedelta(minutes=20)
    pole = file(db_session, settings, account=second.account, category="pole_damage", at=later)
    assert pole.classification == "planned"
    db_session.flush()
    db_session.expire_all()  # the cycle's next run sees the new call as a row, geom as WKB
    sync(db_session, settings, at=later + dt.timedelta(minutes=1))
    assert [o.id for o in _orders(db_session) if o.kind == "hazard"] == [order.id]
    (listed,) = [o for o in list_work_orders(session=db_session, now=later) if o.id == order.id]
    assert [(t.report_id, t.status) for t in listed.tasks] == [
        (wire.id, "open"),
        (pole.id, "open"),
    ]
