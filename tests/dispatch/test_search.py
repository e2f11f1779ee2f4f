"""The console's search: each kind found by what a dispatcher would type, nothing for noise."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Crew
from dispatch.search import search_console
from geo.models import Premise
from tests.dispatch.helpers import outage_on, urban_device
from web.settings import Settings


def _premise_with_phone(session: Session) -> Premise:
    premise = session.scalar(
        select(Premise).where(Premise.phone.is_not(None)).order_by(Premise.id).limit(1)
    )
    assert premise is not None and premise.phone
    return premise


def test_outage_by_number_with_or_without_hash(db_session: Session, settings: Settings) -> None:
    outage = outage_on(db_session, settings, urban_device(db_session))
    for typed in (f"#{outage.id}", str(outage.id), f"outage {outage.id}"):
        hits = search_console(session=db_session, query=typed)
        assert hits[0].kind == "outage", typed
        assert hits[0].id == outage.id and hits[0].outage_id == outage.id
        assert hits[0].lon is not None


def test_device_code_prefix_names_its_active_outage(
    db_session: Session, settings: Settings
) -> None:
    device = urban_device(db_session)
    outage = outage_on(db_session, settings, device)
    hits = [
        h
        for h in search_console(session=db_session, query=device.code.lower())
        if h.kind == "device"
    ]
    assert hits[0].label == device.code
    assert hits[0].outage_id == outage.id


def test_crew_by_code_or_name(db_session: Session) -> None:
    crew = db_session.scalars(select(Crew).order_by(Crew.id)).first()
    assert crew is not None
    by_code = search_console(session=db_session, query=crew.code)
    assert any(h.kind == "crew" and h.id == crew.id for h in by_code)
    by_name = search_console(session=db_session, query=crew.name.split()[0].upper())
    assert any(h.kind == "crew" and h.id == crew.id for h in by_name)


def test_caller_phone_with_spaces_and_account(db_session: Session) -> None:
    premise = _premise_with_phone(db_session)
    assert premise.phone is not None
    spaced = f"{premise.phone[:4]} {premise.phone[4:7]} {premise.phone[7:]}"
    digits = "".join(c for c in premise.phone if c.isdigit())
    # As typed in the register, spaced differently, read out nationally, dialled from abroad.
    for typed in (premise.phone, spaced, "0" + digits[3:], "00" + digits):
        hits = search_console(session=db_session, query=typed)
        assert [(h.kind, h.id) for h in hits if h.kind == "phone"] == [("phone", premise.id)]
    # Read as a Swedish number the national form is another line: no hit.
    elsewhere = search_console(session=db_session, query="0" + digits[3:], phone_region="SE")
    assert not [h for h in elsewhere if h.kind == "phone"]
    hits = search_console(session=db_session, query=premise.account.lower())
    assert [(h.kind, h.id) for h in hits if h.kind == "account"] == [("account", premise.id)]


def test_address_exact_and_with_a_typo(db_session: Session) -> None:
    premise = db_session.scalars(select(Premise).order_by(Premise.id)).first()
    assert premise is not None
    exact = [
        h for h in search_console(session=db_session, query=premise.address) if h.kind == "address"
    ]
    # Premises whose addresses normalize alike (staircases, flats) are all exact hits.
    assert premise.id in {h.id for h in exact}
    assert {h.detail for h in exact} == {"address"}
    street = premise.address.split(",")[0]
    typo = street[:2] + street[3:]  # one letter dropped from the street name
    fuzzy = [h for h in search_console(session=db_session, query=typo) if h.kind == "address"]
    assert fuzzy and "match" in fuzzy[0].detail


def test_noise_and_one_letter_find_nothing(db_session: Session) -> None:
    assert search_console(session=db_session, query="x") == []
    assert search_console(session=db_session, query="   ") == []
    assert search_console(session=db_session, query="#999999") == []
