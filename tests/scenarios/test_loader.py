"""The demo city loader against PostGIS (the session fixture's database holds the demo city)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import Premise, Street, User
from scenarios.demo_city import DEMO_LOGINS, DemoCity, DemoLogin, build_demo_city
from scenarios.demo_city.loader import load_demo_city

# Tables the loader fills; CASCADE empties whatever else points at them, inside the
# test's rolled-back transaction only.
LOADED_TABLES = (
    "region, substation, feeder, device, segment, premise, street, road_node, road_edge, "
    "crew, user_account"
)


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return build_demo_city()


@pytest.fixture
def empty_session(db_session: Session) -> Session:
    db_session.execute(text(f"TRUNCATE {LOADED_TABLES} CASCADE"))
    return db_session


def _scalar(session: Session, sql: str) -> object:
    return session.execute(text(sql)).scalar_one()


def test_load_writes_every_table_and_reports_progress(
    empty_session: Session, city: DemoCity
) -> None:
    calls: list[tuple[str, int, int]] = []
    counts = load_demo_city(
        session=empty_session, city=city, progress=lambda *call: calls.append(call)
    )
    assert counts["premise"] == len(city.premises) == 1449
    assert counts["road_edge"] == len(city.road_edges)
    assert counts["device"] == len(city.devices)
    assert counts["user_account"] == len(DEMO_LOGINS)
    for table, count in counts.items():
        assert _scalar(empty_session, f"SELECT count(*) FROM {table}") == count, table
    assert [done for _, done, _ in calls] == list(range(1, len(counts) + 1))
    assert {total for _, _, total in calls} == {len(counts)}


def test_load_refuses_a_non_empty_territory(db_session: Session, city: DemoCity) -> None:
    with pytest.raises(InvalidInput, match="stormdesk db reset"):
        load_demo_city(session=db_session, city=city)


def test_sequences_continue_after_the_loaded_ids(db_session: Session) -> None:
    new_id = db_session.execute(
        insert(Premise)
        .values(
            account="HEL-TEST-1",
            address="Testikatu 1, Helsinki",
            address_norm="testikatu 1",
            street_norm="testikatu",
            house_norm="1",
            geom="SRID=4326;POINT(24.94 60.17)",
        )
        .returning(Premise.id)
    ).scalar_one()
    assert new_id > 1449


def test_feeder_areas_tile_the_territory_in_postgis(db_session: Session) -> None:
    overlap_m2 = _scalar(
        db_session,
        "SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0) "
        "FROM feeder a JOIN feeder b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)",
    )
    assert float(str(overlap_m2)) < 1.0
    outside = _scalar(
        db_session,
        "SELECT count(*) FROM premise p JOIN feeder f ON f.id = p.feeder_id "
        "WHERE NOT ST_Contains(f.geom, p.geom)",
    )
    assert outside == 0


def test_segments_end_on_their_devices_in_postgis(db_session: Session) -> None:
    misplaced = _scalar(
        db_session,
        "SELECT count(*) FROM segment s "
        "JOIN device a ON a.id = s.from_device_id JOIN device b ON b.id = s.to_device_id "
        "WHERE NOT (ST_Equals(ST_StartPoint(s.geom), a.geom) "
        "AND ST_Equals(ST_EndPoint(s.geom), b.geom))",
    )
    assert misplaced == 0


def test_streets_count_their_premises(db_session: Session) -> None:
    total = db_session.scalar(select(func.sum(Street.premise_count)))
    premises = db_session.scalar(select(func.count()).select_from(Premise))
    assert total == premises
    name = db_session.scalar(select(Street.name_norm).where(Street.name_norm == "mannerheimintie"))
    assert name == "mannerheimintie"


@pytest.mark.parametrize("login", DEMO_LOGINS[:4], ids=lambda login: login["username"])
def test_demo_logins_verify(db_session: Session, login: DemoLogin) -> None:
    stored = db_session.scalar(select(User.password_hash).where(User.username == login["username"]))
    assert stored is not None
    assert PasswordHasher().verify(stored, login["password"])
