"""Locating a report by the caller's phone uses the one phone rule (``geo.phones``): the
register's ``+358 40 000 0001`` is found from every spelling a caller or a gateway sends,
on the single path and the batch path alike, and what is no number is refused by name."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import Premise
from outages.intake.locate import locate_report
from outages.intake.locate_bulk import locate_many
from outages.schemas import ReportCreate
from web.settings import Settings


def _premise(session: Session) -> Premise:
    premise = session.scalar(
        select(Premise).where(Premise.phone.like("+358 40 %")).order_by(Premise.id).limit(1)
    )
    assert premise is not None and premise.phone is not None
    return premise


def _spellings(phone: str) -> list[str]:
    digits = "".join(c for c in phone if c.isdigit())
    return [phone, "0" + digits[3:], "00" + digits, digits, "+" + digits]


def test_every_spelling_locates_the_premise(db_session: Session, settings: Settings) -> None:
    premise = _premise(db_session)
    assert premise.phone is not None
    items = [ReportCreate(phone=p, category="no_power") for p in _spellings(premise.phone)]
    for item in items:
        located = locate_report(
            session=db_session, data=item, settings=settings, may_file_unlocated=False
        )
        assert (located.located_by, located.premise_id) == ("phone", premise.id), item.phone
    batch = locate_many(session=db_session, items=items, settings=settings, is_agent=True)
    assert [getattr(b, "premise_id", b) for b in batch] == [premise.id] * len(items)


def test_a_register_entry_in_national_form_is_found_too(
    db_session: Session, settings: Settings
) -> None:
    premise = _premise(db_session)
    premise.phone = "040 765 4321"
    db_session.flush()
    item = ReportCreate(phone="+358 40 765 4321", category="no_power")
    located = locate_report(
        session=db_session, data=item, settings=settings, may_file_unlocated=False
    )
    assert located.premise_id == premise.id
    [bulk] = locate_many(session=db_session, items=[item], settings=settings, is_agent=True)
    assert getattr(bulk, "premise_id", None) == premise.id


def test_no_number_is_refused_naming_it(db_session: Session, settings: Settings) -> None:
    item = ReportCreate(phone="+358 40 1", category="no_power")
    with pytest.raises(InvalidInput, match=r"^phone '\+358 40 1' is not a valid phone number"):
        locate_report(session=db_session, data=item, settings=settings, may_file_unlocated=False)
    other = ReportCreate(phone="+358 50 765 4321", category="no_power")  # valid, on no premise
    bad, unknown = locate_many(
        session=db_session, items=[item, other], settings=settings, is_agent=True
    )
    assert isinstance(bad, InvalidInput) and "is not a valid phone number" in str(bad)
    assert isinstance(unknown, InvalidInput) and "no premise is registered" in str(unknown)
