"""Property: whatever a dispatcher and a crew do between plans, a crew's arrivals rise with its
stop order and no customer is told an ETR earlier than the crew's arrival plus the minimum
repair time.

Hypothesis draws sequences of assignments (with and without a lock, with a pinned position),
unassignments and crew steps on three outage orders and two crews; each example runs in a
savepoint rolled back afterwards.
"""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.lifecycle import assign, transition
from dispatch.models import WorkOrder
from dispatch.sequence import ROUTE_STATUSES
from outages.models import Outage
from tests.dispatch.helpers import NOW, crew
from tests.dispatch.test_planning import make_orders
from web.settings import Settings

CREWS = ("CREW-05", "CREW-08")  # both have the line skill the fuse outages need
Step = tuple[str, int, int, bool, int | None]
steps = st.lists(
    st.tuples(
        st.sampled_from(["assign", "assign", "unassign", "en_route", "on_site", "restored"]),
        st.integers(0, 2),  # which order
        st.integers(0, 1),  # which crew
        st.booleans(),  # lock
        st.one_of(st.none(), st.integers(1, 4)),  # pinned position
    ),
    min_size=1,
    max_size=12,
)


def _apply(
    session: Session, settings_: Settings, order: WorkOrder, step: Step, at: dt.datetime
) -> None:
    action, _, crew_index, lock, position = step
    kw = {"session": session, "actor": "d", "now": at, "settings": settings_}
    if action == "assign" and order.status in ("new", "planned", "dispatched", "en_route"):
        assign(
            order=order,
            crew=crew(session, CREWS[crew_index]),
            lock=lock or position is not None,
            position=position,
            **kw,  # type: ignore[arg-type]
        )
    elif action == "unassign" and order.status in ("planned", "dispatched"):
        assign(order=order, crew=None, lock=False, **kw)  # type: ignore[arg-type]
    elif action == "en_route" and order.status == "dispatched":
        transition(order=order, to="en_route", **kw)  # type: ignore[arg-type]
    elif action == "on_site" and order.status == "en_route":
        transition(order=order, to="on_site", **kw)  # type: ignore[arg-type]
    elif action == "restored" and order.status == "on_site":
        transition(order=order, to="restored", **kw)  # type: ignore[arg-type]


def _check(session: Session, settings_: Settings) -> None:
    session.flush()
    for code in CREWS:
        route = session.scalars(
            select(WorkOrder)
            .where(
                WorkOrder.crew_id == crew(session, code).id, WorkOrder.status.in_(ROUTE_STATUSES)
            )
            .order_by(WorkOrder.route_seq)
        ).all()
        assert [o.route_seq for o in route] == list(range(1, len(route) + 1)), code
        for before, after in itertools.pairwise(route):
            assert before.eta_at is not None and after.eta_at is not None
            if before.status != "on_site":
                done = max(before.eta_at, NOW) + dt.timedelta(seconds=before.repair_s)
                assert after.eta_at >= done, (code, before.id, after.id)
        for order in route:
            if order.kind != "outage" or order.eta_at is None or order.status == "on_site":
                continue
            outage = session.get(Outage, order.outage_id)
            assert outage is not None and outage.etr_at is not None
            floor = max(order.eta_at, NOW) + dt.timedelta(minutes=settings_.min_repair_min)
            assert outage.etr_at >= floor.replace(microsecond=0), (order.id, outage.etr_at)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=steps)
def test_arrivals_rise_with_the_stop_order_and_etrs_are_never_too_early(
    db_session: Session, settings: Settings, script: list[Step]
) -> None:
    savepoint = db_session.begin_nested()
    try:
        orders = make_orders(db_session, settings, n=3)
        for minute, step in enumerate(script):
            _apply(db_session, settings, orders[step[1]], step, NOW + dt.timedelta(minutes=minute))
            _check(db_session, settings)
    finally:
        savepoint.rollback()
