"""Outage lifecycle: confirm, ETR changes with history and notices, partial and full restoration."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.public_status import public_status
from geo.exceptions import InvalidInput
from geo.models import Device, Premise
from outages.exceptions import InvalidTransition
from outages.models import EtrChange, Notification, OutagePremise, Report
from outages.notify import LoggingSender, send_pending
from outages.schemas import StatusAnswer, Where
from outages.service import (
    change_etr,
    close_outage,
    confirm_outage,
    get_outage,
    open_outage,
    restore_outage,
)
from outages.topology import load_feeder_tree
from tests.outages.helpers import NOW, file, fuse_with_transformers, premises_of
from web.settings import Settings


def _status(session: Session, settings: Settings, premise: Premise) -> StatusAnswer:
    where = Where(account=premise.account)
    return public_status(session=session, where=where, settings=settings, now=NOW, staff=True)


def _fuse_outage(session: Session, settings: Settings) -> tuple[int, list[int], Device]:
    device, transformers = fuse_with_transformers(session)
    outage = open_outage(
        session=session,
        device_code=device.code,
        cause="tree",
        confirmed=True,
        settings=settings,
        now=NOW,
        actor="dispatcher",
    )
    return outage.id, transformers, device


def test_opened_outage_covers_the_subtree_and_notifies_critical_first(
    db_session: Session, settings: Settings
) -> None:
    outage_id, _, device = _fuse_outage(db_session, settings)
    outage = get_outage(session=db_session, outage_id=outage_id)
    tree = load_feeder_tree(session=db_session, feeder_id=device.feeder_id)
    assert outage.customers_affected == tree.customers_below(device.id)
    notes = db_session.scalars(select(Notification).order_by(Notification.id)).all()
    assert len(notes) == outage.customers_affected  # every demo premise has a phone
    assert {n.event_key for n in notes} == {f"outage:{outage_id}:confirmed"}
    sent_order: list[str] = []

    class Recorder(LoggingSender):
        def send(self, recipient: str, message: str) -> None:
            sent_order.append(recipient)

    assert send_pending(session=db_session, sender=Recorder(), now=NOW) == len(notes)
    critical = {n.recipient for n in notes if n.priority == 1}
    assert set(sent_order[: len(critical)]) == critical


def test_confirming_twice_is_an_invalid_transition(db_session: Session, settings: Settings) -> None:
    outage_id, _, _ = _fuse_outage(db_session, settings)
    outage = get_outage(session=db_session, outage_id=outage_id)
    with pytest.raises(InvalidTransition) as caught:
        confirm_outage(session=db_session, outage=outage, settings=settings, now=NOW, actor="d")
    assert caught.value.allowed == ["restored"]


def test_etr_history_and_notice_only_for_big_moves(db_session: Session, settings: Settings) -> None:
    outage_id, _, _ = _fuse_outage(db_session, settings)
    outage = get_outage(session=db_session, outage_id=outage_id)
    first_etr = outage.etr_at
    assert first_etr is not None
    small = first_etr + dt.timedelta(minutes=20)
    big = first_etr + dt.timedelta(hours=2)
    for etr in (small, big):
        change_etr(
            session=db_session,
            outage=outage,
            etr_at=etr,
            reason="crew report",
            source="dispatcher",
            settings=settings,
            now=NOW,
            actor="d",
        )
    history = db_session.scalars(
        select(EtrChange).where(EtrChange.outage_id == outage_id).order_by(EtrChange.id)
    ).all()
    assert [h.etr_at for h in history] == [first_etr, small, big]
    assert history[2].previous_etr_at == small
    etr_notices = db_session.scalars(
        select(Notification.event_key).where(Notification.kind == "etr_changed").distinct()
    ).all()
    assert etr_notices == [f"outage:{outage_id}:etr:{big.isoformat()}"]


def test_partial_then_full_restoration(db_session: Session, settings: Settings) -> None:
    outage_id, transformers, _ = _fuse_outage(db_session, settings)
    outage = get_outage(session=db_session, outage_id=outage_id)
    first_t = db_session.get(Device, transformers[0])
    assert first_t is not None
    reporter = premises_of(db_session, transformers[1])[0]
    answer = file(db_session, settings, account=reporter.account)
    assert answer.classification == "known"
    before = outage.customers_affected
    restored = restore_outage(
        session=db_session,
        outage=outage,
        device_code=first_t.code,
        settings=settings,
        now=NOW,
        actor="crew",
    )
    assert restored == len(premises_of(db_session, transformers[0]))
    assert outage.status == "confirmed"
    assert outage.customers_affected == before - restored
    lucky = premises_of(db_session, transformers[0])[0]
    assert _status(db_session, settings, lucky).state == "restored"
    still_dark = _status(db_session, settings, reporter)
    assert still_dark.state == "outage" and still_dark.etr == outage.etr_at
    restore_outage(
        session=db_session,
        outage=outage,
        device_code=None,
        settings=settings,
        now=NOW,
        actor="crew",
    )
    assert outage.status == "restored" and outage.restored_at == NOW
    dark = db_session.scalar(
        select(func.count())
        .select_from(OutagePremise)
        .where(OutagePremise.outage_id == outage_id, OutagePremise.restored_at.is_(None))
    )
    assert dark == 0
    assert db_session.scalar(select(Report.status).where(Report.id == answer.id)) == "closed"
    restored_notes = db_session.scalar(
        select(func.count()).select_from(Notification).where(Notification.kind == "restored")
    )
    assert restored_notes == before
    close_outage(session=db_session, outage=outage, now=NOW, actor="d")
    assert outage.status == "closed"


def test_restoring_a_device_outside_the_outage_is_refused(
    db_session: Session, settings: Settings
) -> None:
    outage_id, _, device = _fuse_outage(db_session, settings)
    outage = get_outage(session=db_session, outage_id=outage_id)
    elsewhere = db_session.scalars(
        select(Device)
        .where(Device.feeder_id != device.feeder_id, Device.kind == "transformer")
        .limit(1)
    ).one()
    with pytest.raises(InvalidInput, match="not on or below"):
        restore_outage(
            session=db_session,
            outage=outage,
            device_code=elsewhere.code,
            settings=settings,
            now=NOW,
            actor="c",
        )
