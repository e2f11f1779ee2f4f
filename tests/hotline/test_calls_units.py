"""Phones, scripts, storm mode's trigger and the call counts, with a frozen clock."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import Region
from geo.phones import normalize_phone, phone_keys
from hotline.call_schemas import CrewState
from hotline.call_stats import call_stats
from hotline.models import Call, StormModeSwitch
from hotline.scripts import outage_script, planned_script
from hotline.storm_mode import check_auto_trigger, is_on, region_loads, set_storm_mode
from outages.models import Outage, PlannedOutage
from web.settings import Settings

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)  # 20:00 in Helsinki
TZ = "Europe/Helsinki"


@pytest.mark.parametrize(
    "raw",
    [
        "+358 40 123 4567",  # international, as people write it
        "040 1234567",  # national, with the trunk prefix
        "00358401234567",  # the IDD prefix, as a PBX dials out
        "358401234567",  # bare international digits, as many CTI systems send
        "+358-40-123-4567",
        " (040) 123 45 67 ",
    ],
)
def test_every_spelling_of_a_number_is_one_e164(raw: str) -> None:
    assert normalize_phone(raw, region="FI") == "+358401234567"


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("09 123 4567", "FI", "+35891234567"),  # a Helsinki landline
        ("46701234567", "FI", "+46701234567"),  # another country's bare digits
        ("+86 138 0000 0049", "FI", "+8613800000049"),
        ("8613800000049", "CN", "+8613800000049"),
        ("138 0000 0049", "CN", "+8613800000049"),
    ],
)
def test_numbers_are_read_in_the_installations_region(raw: str, region: str, e164: str) -> None:
    assert normalize_phone(raw, region=region) == e164


@pytest.mark.parametrize(
    "raw", ["call me", "12345", "+358 40 1", "1" * 16, "++3584", "", "0" * 41, "+999 123 4567"]
)
def test_a_bad_phone_is_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidInput, match=r"^caller_number .* is not a valid phone number"):
        normalize_phone(raw, region="FI", field="caller_number")


def test_the_keys_cover_the_spellings_a_register_holds() -> None:
    assert phone_keys("+358401234567", region="FI") == [
        "358401234567",
        "00358401234567",
        "0401234567",
    ]
    # A foreign number's national digits would be another number here: not a key.
    assert phone_keys("+46701234567", region="FI") == ["46701234567", "0046701234567"]


def test_the_phone_region_setting_is_checked() -> None:
    assert Settings(phone_region="se").phone_region == "SE"
    with pytest.raises(ValueError, match="phone_region 'XX' is not a region"):
        Settings(phone_region="XX")


def _outage(etr: dt.datetime | None) -> Outage:
    return Outage(id=1, status="confirmed", etr_at=etr, customers_affected=40)


def test_the_outage_script_says_who_is_on_it_and_when() -> None:
    on_site = CrewState(crew="CREW-01", status="on_site", eta_at=None, on_site_at=NOW)
    script = outage_script(
        outage=_outage(NOW + dt.timedelta(hours=2, minutes=40)),
        crew=on_site,
        now=NOW,
        timezone=TZ,
        address="Mannerheimintie 5",
    )
    assert script.en == (
        "No need for a new report: we know about the power outage at Mannerheimintie 5. "
        "A crew is on site, power back by 22:40."
    )
    assert script.zh == (
        "无需重复报修：我们已掌握（Mannerheimintie 5）的停电情况，抢修人员已到达现场，"
        "预计今天22:40前恢复供电。"
    )
    on_way = CrewState(
        crew="CREW-01", status="en_route", eta_at=NOW + dt.timedelta(minutes=25), on_site_at=None
    )
    tomorrow = outage_script(
        outage=_outage(NOW + dt.timedelta(hours=5)), crew=on_way, now=NOW, timezone=TZ
    )
    assert "in your area" in tomorrow.en and "on the way (expected at 20:25)" in tomorrow.en
    assert "power back by 01:00 tomorrow" in tomorrow.en and "明天01:00" in tomorrow.zh
    unknown = outage_script(outage=_outage(None), crew=None, now=NOW, timezone=TZ)
    assert "as soon as the crew has assessed the damage" in unknown.en
    assert "We are working on it" in unknown.en


def test_planned_scripts_now_and_soon() -> None:
    work = PlannedOutage(
        id=3,
        reason="transformer replacement",
        starts_at=NOW - dt.timedelta(minutes=30),
        ends_at=NOW + dt.timedelta(hours=2),
    )
    now = planned_script(planned=work, now=NOW, timezone=TZ)
    assert now.kind == "planned"
    assert now.en == (
        "No need for a report: this is planned work (transformer replacement) that began at "
        "19:30; power back by 22:00."
    )
    later = PlannedOutage(
        id=4,
        reason="line maintenance",
        starts_at=NOW + dt.timedelta(days=3),
        ends_at=NOW + dt.timedelta(days=3, hours=4),
    )
    soon = planned_script(planned=later, now=NOW, timezone=TZ, upcoming=True)
    assert soon.kind == "planned_soon"
    assert "from 20:00 on 26 Nov until 00:00 on 27 Nov" in soon.en
    assert "11月26日20:00" in soon.zh


def _calls(session: Session, region_id: int, at: dt.datetime, n: int, **values: object) -> None:
    fields: dict[str, object] = {"status": "ringing", "channel": "phone", "created_by": "t"}
    fields.update(values)
    session.add_all(
        Call(region_id=region_id, started_at=at - dt.timedelta(seconds=i), **fields)
        for i in range(n)
    )
    session.flush()


def _region(session: Session) -> Region:
    region = session.scalar(select(Region).where(Region.code == "HEL-R1"))
    assert region is not None
    return region


def test_the_trigger_compares_with_the_same_window_on_earlier_days(
    db_session: Session, settings: Settings
) -> None:
    region = _region(db_session)
    # A usual evening: 10 calls in this half hour on each of the last 7 days.
    for day in range(1, 8):
        _calls(db_session, region.id, NOW - dt.timedelta(days=day, minutes=5), 10)
    _calls(db_session, region.id, NOW - dt.timedelta(hours=3), 50)  # outside the window
    _calls(db_session, region.id, NOW - dt.timedelta(minutes=1), 29)
    [load] = region_loads(session=db_session, now=NOW, settings=settings)
    assert (load.region_id, load.calls, load.baseline) == (region.id, 29, 10.0)
    assert check_auto_trigger(session=db_session, now=NOW, settings=settings) is None
    assert not is_on(session=db_session), "29 calls < 3 x 10"
    _calls(db_session, region.id, NOW - dt.timedelta(minutes=2), 1)
    switched = check_auto_trigger(session=db_session, now=NOW, settings=settings)
    assert switched is not None and switched.source == "auto"
    assert switched.region_id == region.id and "30 calls in HEL-R1" in switched.reason
    assert is_on(session=db_session)
    assert check_auto_trigger(session=db_session, now=NOW, settings=settings) is None, "once"


def test_the_trigger_needs_a_minimum_and_waits_after_a_supervisor(
    db_session: Session, settings: Settings
) -> None:
    region = _region(db_session)
    _calls(db_session, region.id, NOW - dt.timedelta(minutes=1), 19)
    assert check_auto_trigger(session=db_session, now=NOW, settings=settings) is None, (
        "no baseline, but fewer than storm_auto_min_calls"
    )
    set_storm_mode(session=db_session, on=True, reason="typhoon", actor="sup", now=NOW)
    set_storm_mode(session=db_session, on=False, reason="over", actor="sup", now=NOW)
    _calls(db_session, region.id, NOW - dt.timedelta(minutes=1), 5)
    later = NOW + dt.timedelta(minutes=10)
    assert check_auto_trigger(session=db_session, now=later, settings=settings) is None, (
        "a supervisor just turned it off"
    )
    _calls(db_session, region.id, NOW + dt.timedelta(minutes=65), 25)
    assert check_auto_trigger(
        session=db_session, now=NOW + dt.timedelta(minutes=66), settings=settings
    )
    off = settings.model_copy(update={"storm_auto": False})
    set_storm_mode(session=db_session, on=False, reason="x", actor="sup", now=NOW)
    assert (
        check_auto_trigger(session=db_session, now=NOW + dt.timedelta(hours=3), settings=off)
        is None
    )


def test_switching_to_the_state_it_is_in_stores_nothing(db_session: Session) -> None:
    set_storm_mode(session=db_session, on=False, reason="x", actor="sup", now=NOW)
    assert db_session.scalar(select(StormModeSwitch)) is None
    set_storm_mode(session=db_session, on=True, reason="x", actor="sup", now=NOW)
    set_storm_mode(session=db_session, on=True, reason="y", actor="sup", now=NOW)
    assert len(db_session.scalars(select(StormModeSwitch)).all()) == 1


def test_the_share_answered_without_an_agent(db_session: Session) -> None:
    region = _region(db_session)
    at = NOW - dt.timedelta(minutes=10)
    _calls(db_session, region.id, at, 6, status="wrapped", answered_by="agent", queue_wait_s=60)
    _calls(db_session, region.id, at, 2, status="wrapped", answered_by="ivr", queue_wait_s=0)
    _calls(
        db_session, region.id, at, 3, status="abandoned", disposition="abandoned", queue_wait_s=30
    )
    _calls(db_session, region.id, at, 1)
    stats = call_stats(session=db_session, now=NOW, region_code="HEL-R1")
    assert (stats.calls, stats.abandoned, stats.unfinished) == (12, 3, 1)
    assert (stats.answered_by_agent, stats.answered_without_agent) == (6, 2)
    assert stats.without_agent_share == 0.25, "2 of the 8 answered"
    assert stats.mean_queue_wait_s == round((6 * 60 + 3 * 30) / 11, 1)
    with pytest.raises(InvalidInput, match="since"):
        call_stats(session=db_session, now=NOW, since=NOW, until=NOW)
