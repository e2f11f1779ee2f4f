"""Addresses in a batch: exact ones in one query, the answers the geocoder gives one by one."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import Premise
from geo.normalize import fold
from outages.intake import locate_bulk
from outages.intake.locate import Located, locate_report
from outages.intake.locate_bulk import locate_many
from outages.schemas import ReportCreate
from web.settings import Settings


def _one_by_one(
    session: Session, items: list[ReportCreate], settings: Settings
) -> list[Located | str]:
    out: list[Located | str] = []
    for item in items:
        try:
            out.append(
                locate_report(
                    session=session,
                    data=item,
                    settings=settings,
                    may_file_unlocated=item.allow_unlocated,
                )
            )
        except InvalidInput as exc:
            out.append(f"{type(exc).__name__}: {exc}")
    return out


def _bulk(session: Session, items: list[ReportCreate], settings: Settings) -> list[Located | str]:
    found = locate_many(session=session, items=items, settings=settings, is_agent=True)
    return [f"{type(f).__name__}: {f}" if isinstance(f, InvalidInput) else f for f in found]


def _addresses(session: Session) -> dict[str, Any]:
    """A shared address (several premises at one normalized address, as OSM has), and a
    premise whose street has diacritics."""
    shared = session.execute(
        select(Premise.address_norm)
        .group_by(Premise.address_norm)
        .having(func.count() > 1)
        .order_by(Premise.address_norm)
        .limit(1)
    ).scalar_one()
    accented = next(
        p
        for p in session.scalars(select(Premise).order_by(Premise.id))
        if any(ch in p.address.split(",")[0] for ch in "äöåÄÖÅ") and "," in p.address
    )
    return {"shared": shared, "accented": accented}


def test_every_kind_of_address_locates_as_the_geocoder_does(
    db_session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = _addresses(db_session)
    accented: Premise = found["accented"]
    street_house = accented.address.split(",")[0]
    street = street_house.rsplit(" ", 1)[0]
    house = street_house.rsplit(" ", 1)[1]
    shared_premises = db_session.scalars(
        select(Premise).where(Premise.address_norm == found["shared"]).order_by(Premise.id)
    ).all()
    addresses = [
        accented.address,  # as stored
        f"{fold(street)} {house.lower()}",  # folded: still exact
        f"{street_house}, 00100 Helsinki",  # postcode and city appended
        street[:3] + street[4:] + f" {house}",  # a typo: fuzzy, through the geocoder
        street,  # no house number
        shared_premises[-1].address,  # an address several premises share
        "Nowhere Street 9999",  # no such street
        accented.address,  # the same again in the batch
    ]
    items = [ReportCreate(address=a, category="no_power") for a in addresses]
    items.append(ReportCreate(address="Somewhere 1", category="other", allow_unlocated=True))
    expected = _one_by_one(db_session, items, settings)
    calls: Counter[str] = Counter()
    geocoded = locate_bulk.locate_report

    def counting(**kwargs: Any) -> Located:
        calls[kwargs["data"].address] += 1
        return geocoded(**kwargs)

    monkeypatch.setattr(locate_bulk, "locate_report", counting)
    assert _bulk(db_session, items, settings) == expected
    # The shared address answers its first premise by address text, then id.
    shared = expected[5]
    assert isinstance(shared, Located)
    first = min(shared_premises, key=lambda p: (p.address, p.id))
    assert shared.premise_id == first.id
    # Exact addresses took the one query; only the others met the geocoder.
    assert set(calls) == {addresses[3], street, "Nowhere Street 9999", "Somewhere 1"}
    assert all(n == 1 for n in calls.values())
