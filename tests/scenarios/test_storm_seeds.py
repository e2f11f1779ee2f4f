"""Many storms, one rule: whatever the seed (with or without SCADA), the outage sits on the
tripped recloser and each active outage has exactly one work order."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import LIVE_STATUSES, WorkOrder
from dispatch.orders import sync_work_orders
from outages.models import ACTIVE_OUTAGE_STATUSES, Outage
from scenarios.storm import play_storm
from tests.outages.helpers import NOW
from web.settings import Settings


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 9, 10])
def test_every_storm_lands_on_its_recloser_with_one_order_per_outage(
    db_session: Session, settings: Settings, seed: int
) -> None:
    storm = play_storm(session=db_session, settings=settings, now=NOW, seed=seed, reports=200)
    sync_work_orders(session=db_session, now=NOW, settings=settings, actor="dispatcher")
    active = db_session.scalars(
        select(Outage).where(Outage.status.in_(ACTIVE_OUTAGE_STATUSES))
    ).all()
    assert storm.tripped_device_id in {o.device_id for o in active}, storm.outages
    orders = db_session.scalars(select(WorkOrder).where(WorkOrder.status.in_(LIVE_STATUSES))).all()
    assert sorted(o.outage_id for o in orders if o.kind == "outage") == sorted(o.id for o in active)
    extra = [(o.kind, o.report_id) for o in orders if o.kind != "outage"]
    assert extra == [], "hazard calls are tasks, reclosing flickers get no order"
