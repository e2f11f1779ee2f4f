"""Classification against planned, known and duplicate; the roll-up on the demo grid."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.models import Device, Premise, Region
from outages.intake.rules import TOKEN_BYTES, tracking_tokens
from outages.models import EtrChange, Outage, OutagePremise, Report
from outages.planned import create_planned
from outages.schemas import PlannedOutageCreate
from outages.service import active_outage_of, get_outage
from tests.outages.helpers import NOW, file, fuse_with_transformers, premises_of
from web.settings import Settings


def _premise(session: Session) -> Premise:
    return session.scalars(
        select(Premise).where(Premise.transformer_id.is_not(None)).order_by(Premise.id).limit(1)
    ).one()


def test_first_report_is_new_with_a_suspected_outage_on_its_transformer(
    db_session: Session, settings: Settings
) -> None:
    premise = _premise(db_session)
    answer = file(db_session, settings, account=premise.account)
    assert answer.classification == "new"
    outage = get_outage(session=db_session, outage_id=answer.outage_id or 0)
    assert outage.status == "suspected"
    assert outage.device_id == premise.transformer_id
    on_transformer = len(premises_of(db_session, premise.transformer_id or 0))
    assert outage.customers_affected == on_transformer
    region_class = db_session.scalar(
        select(Region.region_class).where(Region.id == premise.region_id)
    )
    hours = settings.etr_hours_by_region_class[region_class or "urban"]
    assert answer.etr == NOW + dt.timedelta(hours=hours)
    assert "registered" in answer.message
    history = db_session.scalars(select(EtrChange).where(EtrChange.outage_id == outage.id)).all()
    assert [h.source for h in history] == ["default"]


def test_neighbour_on_the_same_transformer_is_known(
    db_session: Session, settings: Settings
) -> None:
    first, second = premises_of(db_session, _premise(db_session).transformer_id or 0)[:2]
    opened = file(db_session, settings, account=first.account)
    answer = file(db_session, settings, account=second.account, at=NOW + dt.timedelta(minutes=5))
    assert answer.classification == "known"
    assert answer.outage_id == opened.outage_id
    assert answer.etr == opened.etr
    assert "know about the outage" in answer.message


def test_repeat_caller_without_outage_is_duplicate(db_session: Session, settings: Settings) -> None:
    premise = _premise(db_session)
    first = file(db_session, settings, account=premise.account, category="flicker")
    again = file(
        db_session,
        settings,
        account=premise.account,
        category="flicker",
        at=NOW + dt.timedelta(hours=1),
    )
    assert first.classification == "new" and first.outage_id is None
    assert again.classification == "duplicate"
    assert again.duplicate_of == first.id
    later = file(
        db_session,
        settings,
        account=premise.account,
        category="flicker",
        at=NOW + dt.timedelta(hours=6),
    )
    assert later.classification == "new", "outside the duplicate window a call is new again"


def test_same_phone_from_another_premise_is_duplicate(
    db_session: Session, settings: Settings
) -> None:
    a, b = db_session.scalars(select(Premise).order_by(Premise.id).limit(2)).all()
    file(db_session, settings, account=a.account, category="other", phone="+358401234567")
    answer = file(db_session, settings, account=b.account, category="other", phone="+358401234567")
    assert answer.classification == "duplicate"


def test_hazard_is_never_a_duplicate_and_flags_the_outage(
    db_session: Session, settings: Settings
) -> None:
    first, second = premises_of(db_session, _premise(db_session).transformer_id or 0)[:2]
    file(db_session, settings, account=first.account, category="flicker")
    hazard = file(db_session, settings, account=first.account, category="wire_down")
    assert hazard.classification == "new"
    assert hazard.hazard and "Keep away" in hazard.message
    known_hazard = file(db_session, settings, account=second.account, category="pole_damage")
    assert known_hazard.classification == "known" and known_hazard.hazard
    outage = get_outage(session=db_session, outage_id=hazard.outage_id or 0)
    assert outage.hazard


def test_planned_outage_answers_with_reason_and_end(
    db_session: Session, settings: Settings
) -> None:
    premise = _premise(db_session)
    device_code = db_session.scalar(select(Device.code).where(Device.id == premise.transformer_id))
    planned = create_planned(
        session=db_session,
        data=PlannedOutageCreate(
            reason="transformer replacement",
            starts_at=NOW - dt.timedelta(hours=1),
            ends_at=NOW + dt.timedelta(hours=3),
            devices=[device_code or ""],
        ),
        settings=settings,
        now=NOW - dt.timedelta(days=10),
        actor="dispatcher",
    )
    assert planned.customers_affected >= 1
    answer = file(db_session, settings, account=premise.account)
    assert answer.classification == "planned"
    assert answer.planned_outage_id == planned.id
    assert answer.etr == NOW + dt.timedelta(hours=3)
    assert "transformer replacement" in answer.message
    assert db_session.scalar(select(func.count()).select_from(Outage)) == 0, (
        "no outage for planned work"
    )


def test_rollup_to_the_lowest_common_device(db_session: Session, settings: Settings) -> None:
    device, transformers = fuse_with_transformers(db_session)
    reporters = [p for t in transformers[:2] for p in premises_of(db_session, t)[:6]]
    answers = [
        file(db_session, settings, account=p.account, at=NOW + dt.timedelta(minutes=i))
        for i, p in enumerate(reporters)
    ]
    outage_ids = {a.outage_id for a in answers[-1:]}
    [outage_id] = outage_ids
    outage = get_outage(session=db_session, outage_id=outage_id or 0)
    tree_top = outage.device_id
    assert tree_top != transformers[0], "several transformers report: the outage must move up"
    assert outage.explanation["rule"] == "roll-up"
    assert outage.explanation["merged_outages"]
    merged = db_session.scalars(select(Outage).where(Outage.status == "merged")).all()
    assert merged and all(m.merged_into_id == outage.id for m in merged)
    # Every report now belongs to the surviving outage, and every premise below is affected.
    report_outages = set(db_session.scalars(select(Report.outage_id)).all())
    assert report_outages == {outage.id}
    affected = set(
        db_session.scalars(
            select(OutagePremise.premise_id).where(OutagePremise.outage_id == outage.id)
        )
    )
    for t in transformers[:2]:
        assert {p.id for p in premises_of(db_session, t)} <= affected
    # A later caller from below the device is known.
    unreported = next(
        p
        for t in transformers
        for p in premises_of(db_session, t)
        if p.id not in {r.id for r in reporters}
    )
    late = file(db_session, settings, account=unreported.account, at=NOW + dt.timedelta(minutes=30))
    assert late.classification == "known" and late.outage_id == outage.id
    assert active_outage_of(session=db_session, premise_id=unreported.id) is not None
    assert device.id is not None


def test_idempotency_key_returns_the_same_answer_and_stores_one_report(
    db_session: Session, settings: Settings
) -> None:
    premise = _premise(db_session)
    first = file(db_session, settings, account=premise.account, key="retry-abc")
    again = file(
        db_session,
        settings,
        account=premise.account,
        key="retry-abc",
        at=NOW + dt.timedelta(seconds=3),
    )
    assert again == first
    assert db_session.scalar(select(func.count()).select_from(Report)) == 1


@pytest.mark.parametrize("category", ["flicker", "other"])
def test_non_outage_categories_open_no_outage(
    db_session: Session, settings: Settings, category: str
) -> None:
    answer = file(db_session, settings, account=_premise(db_session).account, category=category)
    assert answer.classification == "new"
    assert answer.outage_id is None


def test_no_power_after_a_flicker_report_is_new_not_duplicate(
    db_session: Session, settings: Settings
) -> None:
    premise = _premise(db_session)
    file(db_session, settings, account=premise.account, category="flicker")
    dark = file(db_session, settings, account=premise.account, at=NOW + dt.timedelta(minutes=20))
    assert dark.classification == "new"
    assert dark.outage_id is not None


def test_a_batch_draws_its_tracking_tokens_at_once_as_unguessable_as_one_by_one() -> None:
    """Tokens drawn in one read of the random source have the single path's length and
    alphabet, and no two are alike."""
    tokens = tracking_tokens(2_000)
    assert len(tokens) == 2_000 and len(set(tokens)) == 2_000
    assert {len(t) for t in tokens} == {len(secrets.token_urlsafe(TOKEN_BYTES))} == {16}
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16}", t) for t in tokens)
