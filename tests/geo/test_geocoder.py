"""Geocoder on the demo city's real Helsinki addresses."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.geocoder import geocode
from geo.models import Premise
from geo.normalize import fold


@pytest.fixture
def premise(db_session: Session) -> Premise:
    """A premise whose street name has diacritics and is long enough to survive a typo."""
    rows = db_session.scalars(select(Premise).order_by(Premise.id)).all()
    for p in rows:
        street = p.address.split(",")[0].rsplit(" ", 1)[0]
        if any(ch in street for ch in "äöåÄÖÅ") and len(street) >= 8:
            return p
    pytest.fail("the demo city has no street with diacritics")


def _street_and_house(p: Premise) -> tuple[str, str]:
    parts = p.address.split(",")[0].split(" ")
    i = next(k for k, t in enumerate(parts) if k > 0 and t[:1].isdigit())
    return " ".join(parts[:i]), " ".join(parts[i:])


def _top(db_session: Session, q: str) -> tuple[str, str]:
    """Normalized address and method of the top match (OSM has several premises at one
    address, such as shops in one building: any of them is the right answer)."""
    result = geocode(session=db_session, query=q)
    assert result.matches, f"no match for {q!r}"
    top = db_session.get(Premise, result.matches[0].premise_id)
    assert top is not None
    return top.address_norm, result.matches[0].method


def test_exact_match_of_stored_address(db_session: Session, premise: Premise) -> None:
    assert _top(db_session, premise.address) == (premise.address_norm, "exact")


def test_lower_case_and_no_diacritics(db_session: Session, premise: Premise) -> None:
    street, house = _street_and_house(premise)
    assert _top(db_session, f"{fold(street)} {house.lower()}") == (premise.address_norm, "exact")


def test_postcode_and_city_appended(db_session: Session, premise: Premise) -> None:
    street, house = _street_and_house(premise)
    assert _top(db_session, f"{street} {house}, 00100 Helsinki")[0] == premise.address_norm


def test_typo_in_street_name_still_finds_the_premise(db_session: Session, premise: Premise) -> None:
    street, house = _street_and_house(premise)
    typo = street[:3] + street[4:]  # one letter dropped
    address_norm, method = _top(db_session, f"{typo} {house}")
    assert address_norm == premise.address_norm
    assert method == "fuzzy"


def test_unknown_address_gives_empty_list_and_hint(db_session: Session) -> None:
    result = geocode(session=db_session, query="Qwxzvbnm 9999")
    assert result.matches == []
    assert result.hint


def test_punctuation_only_query_gives_hint(db_session: Session) -> None:
    result = geocode(session=db_session, query="!!! ,,,")
    assert result.matches == [] and result.hint


def test_ranked_by_score(db_session: Session, premise: Premise) -> None:
    street, _ = _street_and_house(premise)
    result = geocode(session=db_session, query=street, limit=10)
    scores = [m.score for m in result.matches]
    assert scores == sorted(scores, reverse=True)
    assert len(result.matches) >= 1
