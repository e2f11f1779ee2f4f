"""The routing table: the most specific row wins, gaps and bad rows say what is wrong."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import Region
from hotline.exceptions import NoRoute, UnknownDepartment
from hotline.models import TicketRoute
from hotline.ticket_routing import delete_route, list_routes, route, set_route
from tests.hotline.helpers import local, make_desk


@pytest.fixture
def regions(db_session: Session) -> dict[str, int]:
    make_desk(db_session, None, local("2026-03-02 10:00"))
    return dict(db_session.execute(select(Region.code, Region.id)).all())


@pytest.mark.parametrize(
    ("ticket_type", "ticket_class", "region", "department"),
    [
        ("complaint", "service", "HEL-R1", "HEL-R1-SERVICE"),  # type + class + region
        ("complaint", "business", "HEL-R2", "HEL-R2-MARKETING"),
        ("complaint", "outage_restoration", "HEL-R3", "HEL-R3-OPS"),
        ("complaint", "power_quality", "HEL-R1", "HEL-R1-OPS"),
        ("complaint", "grid_construction", "HEL-R1", "CONSTRUCTION"),  # type + class
        ("report", "misconduct", "HEL-R2", "DISCIPLINE"),
        ("report", "power_theft", "HEL-R3", "HEL-R3-INSPECTION"),
        ("service_request", None, "HEL-R2", "HEL-R2-MARKETING"),  # type + region
        ("consultation", None, "HEL-R1", "HOTLINE"),  # type alone
        ("suggestion", None, None, "HOTLINE"),
        ("complaint", "service", None, "HOTLINE"),  # no region: the centre sorts it out
    ],
)
def test_most_specific_route_wins(
    db_session: Session,
    regions: dict[str, int],
    ticket_type: str,
    ticket_class: str | None,
    region: str | None,
    department: str,
) -> None:
    found = route(
        session=db_session,
        ticket_type=ticket_type,
        ticket_class=ticket_class,
        region_id=regions[region] if region else None,
    )
    assert found.code == department


def test_a_site_overrides_one_region(db_session: Session, regions: dict[str, int]) -> None:
    row = set_route(
        session=db_session,
        ticket_type="consultation",
        ticket_class=None,
        region_code="HEL-R2",
        department_code="HEL-R2-SERVICE",
    )
    assert row.department_code == "HEL-R2-SERVICE"
    take = {"session": db_session, "ticket_type": "consultation", "ticket_class": None}
    assert route(**take, region_id=regions["HEL-R2"]).code == "HEL-R2-SERVICE"
    assert route(**take, region_id=regions["HEL-R1"]).code == "HOTLINE"
    # Setting the same key again moves the row, it does not add one.
    again = set_route(
        session=db_session,
        ticket_type="consultation",
        ticket_class=None,
        region_code="HEL-R2",
        department_code="HEL-R2-MARKETING",
    )
    assert again.id == row.id
    assert route(**take, region_id=regions["HEL-R2"]).code == "HEL-R2-MARKETING"
    assert sum(r.id == row.id for r in list_routes(session=db_session)) == 1


def test_a_gap_in_the_table_says_what_to_add(db_session: Session, regions: dict[str, int]) -> None:
    db_session.execute(delete(TicketRoute).where(TicketRoute.ticket_type == "suggestion"))
    with pytest.raises(NoRoute, match=r"no department takes suggestion tickets.*add a route"):
        route(session=db_session, ticket_type="suggestion", ticket_class=None, region_id=None)


def test_unknown_department_is_named(db_session: Session, regions: dict[str, int]) -> None:
    with pytest.raises(UnknownDepartment, match=r"unknown department 'BILLING'.*HOTLINE"):
        set_route(
            session=db_session,
            ticket_type="consultation",
            ticket_class=None,
            region_code=None,
            department_code="BILLING",
        )


@pytest.mark.parametrize(
    ("ticket_type", "ticket_class", "region", "message"),
    [
        ("consultation", "service", None, "a consultation has no class"),
        ("complaint", "misconduct", None, "unknown complaint class 'misconduct'"),
        ("complaint", None, "HEL-R9", "unknown region 'HEL-R9'"),
    ],
)
def test_bad_rows_are_refused(
    db_session: Session,
    regions: dict[str, int],
    ticket_type: str,
    ticket_class: str | None,
    region: str | None,
    message: str,
) -> None:
    with pytest.raises(InvalidInput, match=message):
        set_route(
            session=db_session,
            ticket_type=ticket_type,
            ticket_class=ticket_class,
            region_code=region,
            department_code="HOTLINE",
        )


def test_delete_route(db_session: Session, regions: dict[str, int]) -> None:
    row = set_route(
        session=db_session,
        ticket_type="suggestion",
        ticket_class=None,
        region_code="HEL-R3",
        department_code="HEL-R3-SERVICE",
    )
    delete_route(session=db_session, route_id=row.id)
    found = route(
        session=db_session, ticket_type="suggestion", ticket_class=None, region_id=regions["HEL-R3"]
    )
    assert found.code == "HOTLINE"
