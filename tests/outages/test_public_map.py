"""The public map's generalization: areas are grid cells that hold every premise out, never a
premise's point; few customers get coarse cells; the region table adds up."""

from __future__ import annotations

import datetime as dt

from shapely.geometry import Point, shape
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo.models import Device, Premise
from outages.models import OutagePremise
from outages.public_map import (
    COARSE,
    FEW_CUSTOMERS,
    current_outage_areas,
    planned_soon,
    region_summaries,
    territory_grid,
)
from outages.service import open_outage
from tests.outages.helpers import NOW
from web.settings import Settings

RECENT = dt.timedelta(hours=6)


def _open(session: Session, settings: Settings, device: Device) -> int:
    outage = open_outage(
        session=session,
        device_code=device.code,
        cause="tree",
        confirmed=True,
        settings=settings,
        now=NOW,
        actor="dispatcher",
    )
    return outage.id


def _premises_out(session: Session, outage_id: int) -> list[tuple[float, float]]:
    rows = session.execute(
        select(Premise.geom.ST_X(), Premise.geom.ST_Y())
        .join(OutagePremise, OutagePremise.premise_id == Premise.id)
        .where(OutagePremise.outage_id == outage_id, OutagePremise.restored_at.is_(None))
    ).all()
    return [(float(x), float(y)) for x, y in rows]


def _device_with_premises(session: Session, kind: str, fewer_than: int | None = None) -> Device:
    """A device of ``kind`` with premises below it (fewer than ``fewer_than`` if given)."""
    for device in session.scalars(select(Device).where(Device.kind == kind).order_by(Device.id)):
        n = session.execute(
            text("SELECT count(*) FROM premise WHERE transformer_id = :d"), {"d": device.id}
        ).scalar()
        if kind != "transformer" or (n and (fewer_than is None or n < fewer_than)):
            return device
    raise AssertionError(f"no {kind} on the demo grid")


def test_an_outage_area_holds_every_premise_out_and_no_vertex_is_a_premise(
    db_session: Session, settings: Settings
) -> None:
    outage_id = _open(db_session, settings, _device_with_premises(db_session, "recloser"))
    grid = territory_grid(session=db_session)
    (area,) = [
        a for a in current_outage_areas(session=db_session, grid=grid) if a.outage_id == outage_id
    ]
    points = _premises_out(db_session, outage_id)
    assert area.customers_out == len(points) >= FEW_CUSTOMERS
    assert area.area is not None
    polygon = shape(area.area)
    assert all(polygon.buffer(1e-9).contains(Point(p)) for p in points)
    # Every vertex sits on the grid (a multiple of the cell, within the 1 m of the output's
    # five decimals), so none is a premise's point.
    vertices = {c for ring in _rings(area.area) for c in ring}
    for lon, lat in vertices:
        assert abs(lon / grid.dlon - round(lon / grid.dlon)) < 0.01, lon
        assert abs(lat / grid.dlat - round(lat / grid.dlat)) < 0.01, lat
    assert not vertices & {(round(x, 5), round(y, 5)) for x, y in points}
    # Cells are about 250 m on the ground both ways.
    assert 200 < grid.dlat * 111_320 < 300


def test_an_outage_of_few_customers_is_drawn_on_coarse_cells(
    db_session: Session, settings: Settings
) -> None:
    device = _device_with_premises(db_session, "transformer", fewer_than=FEW_CUSTOMERS)
    outage_id = _open(db_session, settings, device)
    grid = territory_grid(session=db_session)
    (area,) = [
        a for a in current_outage_areas(session=db_session, grid=grid) if a.outage_id == outage_id
    ]
    assert 0 < area.customers_out < FEW_CUSTOMERS
    polygon = shape(area.area)
    cell = (grid.dlon * COARSE) * (grid.dlat * COARSE)
    # Whole coarse cells: the area is a multiple of one, at least one.
    assert polygon.area >= cell * 0.999
    assert abs(polygon.area / cell - round(polygon.area / cell)) < 1e-3


def test_the_region_table_counts_customers_out_and_outages(
    db_session: Session, settings: Settings
) -> None:
    before = {r.code: r for r in region_summaries(session=db_session, now=NOW, recent=RECENT)}
    outage_id = _open(db_session, settings, _device_with_premises(db_session, "recloser"))
    after = {r.code: r for r in region_summaries(session=db_session, now=NOW, recent=RECENT)}
    out = len(_premises_out(db_session, outage_id))
    assert sum(r.customers_out for r in after.values()) == out + sum(
        r.customers_out for r in before.values()
    )
    assert sum(r.outages for r in after.values()) == sum(r.outages for r in before.values()) + 1
    served = db_session.execute(text("SELECT count(*) FROM premise")).scalar()
    assert sum(r.customers_served for r in after.values()) == served
    changed = [r for r in after.values() if r.outages]
    assert changed and all(r.changed_at == NOW for r in changed)


def test_planned_work_of_the_coming_week_only(db_session: Session) -> None:
    grid = territory_grid(session=db_session)
    soon = planned_soon(session=db_session, grid=grid, now=NOW)
    assert all(p.starts_at <= NOW + dt.timedelta(days=7) and p.ends_at > NOW for p in soon)


def _rings(geometry: dict) -> list[list[tuple[float, float]]]:
    polygons = (
        geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    )
    return [[(x, y) for x, y in ring] for polygon in polygons for ring in polygon]
