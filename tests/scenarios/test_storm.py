"""The storm simulator through the real intake: one outage at the tripped recloser's level."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from outages.models import Outage, OutagePremise, Report
from outages.topology import load_feeder_tree
from scenarios.storm import StormSummary, play_storm
from tests.outages.helpers import NOW
from web.settings import Settings

REPORTS = 150


@pytest.fixture(params=[7, 8], ids=["scada", "calls-only"])
def storm(request: pytest.FixtureRequest, db_session: Session, settings: Settings) -> StormSummary:
    """Seed 7 sends SCADA's message that the recloser opened; seed 8 leaves it to the calls."""
    return play_storm(
        session=db_session, settings=settings, now=NOW, seed=request.param, reports=REPORTS
    )


def test_every_report_is_stored_answered_and_flagged(
    storm: StormSummary, db_session: Session
) -> None:
    assert storm.reports == REPORTS == sum(storm.by_classification.values())
    rows = db_session.execute(
        select(Report.id, Report.received_at).where(Report.id.in_(storm.report_ids))
    ).all()
    assert len(rows) == REPORTS
    times = [r.received_at for r in sorted(rows)]
    assert times == sorted(times)
    assert NOW - dt.timedelta(minutes=61) <= times[0] <= times[-1] <= NOW


def test_recloser_reports_roll_up_into_one_outage_below_it(
    storm: StormSummary, db_session: Session
) -> None:
    tripped = storm.tripped_device_id
    feeder_id = db_session.scalar(select(Outage.feeder_id).where(Outage.id == storm.outages[0].id))
    assert feeder_id is not None
    tree = load_feeder_tree(session=db_session, feeder_id=feeder_id)
    below = [
        o
        for o in storm.outages
        if o.device_id in tree.graph and tree.contains(tripped, o.device_id)
    ]
    assert len(below) == 1, storm.outages
    [main] = below
    assert main.id == storm.outages[0].id  # the one with the most reports
    # On the tripped recloser itself, never on the switch below it with the same customers.
    assert main.device == storm.tripped_device
    assert main.rule == ("device operation" if storm.scada_at is not None else "roll-up")
    assert main.hazard
    # Premises below the recloser that reported: nearly all sit in the one outage.
    reporting = set(
        db_session.scalars(
            select(Report.premise_id).where(
                Report.id.in_(storm.report_ids),
                Report.feeder_id == feeder_id,
                Report.category.in_(("no_power", "partial_power")),
                Report.premise_id.is_not(None),
            )
        )
    )
    below_recloser = {
        p
        for p in reporting
        if db_session.scalar(
            select(func.count())
            .select_from(OutagePremise)
            .where(OutagePremise.outage_id == main.id, OutagePremise.premise_id == p)
        )
    }
    assert len(below_recloser) >= 0.8 * len(reporting)
    assert main.customers_affected >= 0.8 * storm.customers_below
    assert main.etr == storm.etr_after
    assert storm.etr_before is not None and storm.etr_after is not None
    counts = storm.by_classification
    assert counts["known"] > REPORTS / 2
    assert counts["planned"] >= 3
    assert counts["duplicate"] >= 1
    assert counts["unlocated"] >= 2
    planned = db_session.scalars(
        select(Report).where(Report.id.in_(storm.report_ids), Report.classification == "planned")
    ).all()
    assert {r.planned_outage_id for r in planned} == {storm.planned_outage_id}
    hazards = db_session.scalars(
        select(Report).where(
            Report.id.in_(storm.report_ids), Report.category.in_(("wire_down", "pole_damage"))
        )
    ).all()
    assert hazards and all(r.hazard for r in hazards)
    assert storm.hazards == len(hazards)
    duplicates = db_session.scalars(
        select(Report).where(Report.id.in_(storm.report_ids), Report.classification == "duplicate")
    ).all()
    assert all(r.duplicate_of_id is not None for r in duplicates)


def _storm_rolled_back(engine: Engine, settings: Settings, seed: int) -> StormSummary:
    """A storm in its own transaction, rolled back: each run starts from the same state."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            return play_storm(
                session=session, settings=settings, now=NOW, seed=seed, reports=REPORTS
            )
        finally:
            session.close()
            transaction.rollback()


def test_same_seed_same_storm(engine: Engine, settings: Settings) -> None:
    # One after the other: a storm holds its feeder's advisory lock until it rolls back.
    first = _storm_rolled_back(engine, settings, seed=11)
    again = _storm_rolled_back(engine, settings, seed=11)
    assert again.by_classification == first.by_classification
    assert again.tripped_device == first.tripped_device
    assert again.planned_device == first.planned_device
    assert [(o.device, o.report_count) for o in again.outages] == [
        (o.device, o.report_count) for o in first.outages
    ]


def test_too_small_a_storm_is_refused(db_session: Session, settings: Settings) -> None:
    with pytest.raises(InvalidInput, match="at least 20"):
        play_storm(session=db_session, settings=settings, now=NOW, reports=5)
