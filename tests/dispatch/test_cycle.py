"""The dispatch cycle: orders follow outages, escalations, outbox, and the app's timer."""

from __future__ import annotations

import datetime as dt
import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.cycle import run_cycle
from dispatch.models import WorkOrder
from geo.models import Premise
from outages.models import Notification
from outages.notify import LoggingSender
from outages.service import confirm_outage, get_outage
from tests.outages.helpers import NOW, file
from web.main import create_app
from web.settings import Settings


def test_cycle_makes_orders_once_and_sends_the_outbox(
    db_session: Session, settings: Settings
) -> None:
    premise = db_session.scalars(
        select(Premise).where(Premise.transformer_id.is_not(None)).order_by(Premise.id).limit(1)
    ).one()
    answer = file(db_session, settings, account=premise.account)
    outage = get_outage(session=db_session, outage_id=answer.outage_id or 0)
    confirm_outage(session=db_session, outage=outage, settings=settings, now=NOW, actor="d")
    queued = db_session.scalar(select(func.count()).select_from(Notification))
    assert queued and queued > 0
    first = run_cycle(session=db_session, now=NOW, settings=settings, sender=LoggingSender())
    assert first.orders_created == 1
    assert first.notifications_sent == queued
    orders = db_session.scalars(select(WorkOrder).where(WorkOrder.outage_id == outage.id)).all()
    assert len(orders) == 1
    again = run_cycle(
        session=db_session,
        now=NOW + dt.timedelta(minutes=1),
        settings=settings,
        sender=LoggingSender(),
    )
    assert (again.orders_created, again.notifications_sent) == (0, 0)
    late = run_cycle(
        session=db_session,
        now=NOW + dt.timedelta(hours=2),
        settings=settings,
        sender=LoggingSender(),
    )
    assert late.escalations == 1, "no crew on site after 2 hours: the order is escalated"


def test_the_app_runs_the_cycle_on_a_timer(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"cycle_interval_s": 0.1}))
    with TestClient(app):
        deadline = time.monotonic() + 10
        while app.state.cycles_run < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert app.state.cycles_run >= 2
    idle = create_app(settings)
    with TestClient(idle):
        time.sleep(0.3)
        assert idle.state.cycles_run == 0
