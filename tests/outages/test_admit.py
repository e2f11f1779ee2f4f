"""Admission: a single report and a batch are admitted by the same rules, in the same order."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geo.exceptions import Forbidden, InvalidInput
from outages.intake import admit
from outages.intake.batch import file_batch
from outages.intake.single import file_report
from outages.models import Report
from outages.schemas import BatchReport
from tests.outages.helpers import NOW
from web.settings import Settings


def _item(**fields: Any) -> BatchReport:
    return BatchReport.model_validate(fields)


def test_agent_roles() -> None:
    assert [admit.is_agent(r) for r in ("agent", "dispatcher", "admin")] == [True] * 3
    assert not admit.is_agent("crew") and not admit.is_agent(None)


def test_phone_lookup_names_the_refused_items() -> None:
    by_phone = _item(phone="+358 40 1", category="no_power")
    with_account = _item(phone="+358 40 1", account="A-1", category="no_power")
    admit.check_phone_lookup([by_phone], is_agent=True, numbered=False)
    admit.check_phone_lookup([with_account], is_agent=False, numbered=False)
    with pytest.raises(Forbidden, match=r"hotline agents: give an address or account$"):
        admit.check_phone_lookup([by_phone], is_agent=False, numbered=False)
    items = [with_account] + [by_phone] * 22
    with pytest.raises(Forbidden, match=r"\(reports 1, 2, .*, 20 and more\)$"):
        admit.check_phone_lookup(items, is_agent=False, numbered=True)


def test_unlocated_names_the_refused_items() -> None:
    unlocated = _item(address="Somewhere 1", category="other", allow_unlocated=True)
    with pytest.raises(InvalidInput, match=r"log in as an agent \(reports 0, .*, 19 and 5 more\)$"):
        admit.check_unlocated([unlocated] * 25, is_agent=False, numbered=True)
    admit.check_unlocated([unlocated] * 25, is_agent=True, numbered=True)


def test_rights_come_before_replays_on_both_paths(db_session: Session, settings: Settings) -> None:
    """An agent files an unlocated report under a key; a public retry of it that asks for
    the unlocated queue is refused on either path instead of replaying the agent's answer."""
    where = {"address": "Somewhere Unknown 1", "allow_unlocated": True}
    item = _item(**where, category="no_power", idempotency_key="u-1")
    common: dict[str, Any] = {"settings": settings, "now": NOW}
    filed = file_report(
        session=db_session, data=item, actor="agent", is_agent=True, idempotency_key="u-1", **common
    )
    assert filed.classification == "unlocated"
    with pytest.raises(InvalidInput, match="only hotline agents"):
        file_report(
            session=db_session,
            data=item,
            actor="public",
            is_agent=False,
            idempotency_key="u-1",
            **common,
        )
    with pytest.raises(InvalidInput, match=r"reports 0"):
        file_batch(session=db_session, items=[item], actor="public", is_agent=False, **common)
    # The agent's retries replay on both paths.
    again = file_report(
        session=db_session, data=item, actor="agent", is_agent=True, idempotency_key="u-1", **common
    )
    batch = file_batch(session=db_session, items=[item], actor="agent", is_agent=True, **common)
    assert again == filed and batch == [filed]
    assert db_session.scalar(select(func.count()).select_from(Report)) == 1


def test_locks_are_held_until_the_transaction_ends(db_session: Session) -> None:
    admit.lock_feeders(session=db_session, feeder_ids=[7, 3, 7])
    admit.stored_answers(session=db_session, keys=["k-2", "k-1"])
    held = db_session.execute(
        text(
            "SELECT classid, objid FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() ORDER BY classid, objid"
        )
    ).all()
    feeders = [objid for classid, objid in held if classid == 1]
    keys = [objid for classid, objid in held if classid == 2]
    assert feeders == [3, 7] and len(keys) == 2
