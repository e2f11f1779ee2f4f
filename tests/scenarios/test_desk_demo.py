"""The desk demo's simulated call (``stormdesk ring``): after a storm it rings from a caller
inside the largest outage, and the caller card then shows that outage and its script; with
no outage it says what to run first."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import User
from geo.phones import normalize_phone
from hotline.caller_card import caller_card
from hotline.tickets import viewer_for
from outages.models import Outage
from scenarios.desk_demo import caller_in_outage, ring_demo_call
from scenarios.storm import play_storm
from tests.scenarios.storm_helpers import only_crews
from web.settings import Settings

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)


def test_the_demo_call_rings_from_inside_the_largest_outage(
    db_session: Session, settings: Settings
) -> None:
    only_crews(db_session, {"CREW-08": (dt.time(19), dt.time(23, 59))})
    summary = play_storm(session=db_session, settings=settings, now=NOW)
    largest = max(summary.outages, key=lambda o: o.customers_affected)
    call = ring_demo_call(session=db_session, now=NOW + dt.timedelta(minutes=2), phone_region="FI")
    assert call.status == "ringing" and call.answered_at is None
    premise = caller_in_outage(session=db_session)
    assert premise.phone is not None and call.caller_number == normalize_phone(
        premise.phone, region="FI"
    )
    assert call.premise_id == premise.id

    agent = db_session.scalar(select(User).where(User.username == "agent"))
    assert agent is not None
    card = caller_card(
        session=db_session,
        viewer=viewer_for(session=db_session, user=agent),
        now=NOW + dt.timedelta(minutes=2),
        settings=settings,
        phone=premise.phone,
        account=None,
    )
    first = card.premises[0]
    assert first.state == "outage" and first.outage is not None
    assert first.outage.id == largest.id
    assert card.script is not None and card.script.en.startswith("No need for a new report")


def test_without_an_outage_the_demo_call_says_to_run_the_storm(db_session: Session) -> None:
    assert not db_session.scalar(
        select(func.count()).select_from(Outage).where(Outage.status != "restored")
    )
    with pytest.raises(InvalidInput, match="stormdesk storm"):
        ring_demo_call(session=db_session, now=NOW, phone_region="FI")
    phoned = ring_demo_call(session=db_session, now=NOW, phone_region="FI", phone="040 123 4567")
    assert phoned.caller_number == "+358401234567"
