"""The synthetic territory generator: deterministic, a true tiling, addresses that parse."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.spatial import cKDTree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo import migrate
from geo.cluster import Cluster
from geo.database import make_engine
from geo.models import Device, Premise
from geo.normalize import normalize_address
from outages.topology import load_feeder_tree
from scenarios.synth import (
    SynthGrid,
    SynthTerritory,
    generate_grid,
    generate_territory,
    write_territory,
)

BBOX = (24.0, 60.2, 24.6, 60.5)


@pytest.fixture(scope="module")
def territory() -> SynthTerritory:
    return generate_territory(seed=7, n_feeders=60, n_premises=3_000, bbox=BBOX)


def test_same_seed_same_territory(territory: SynthTerritory) -> None:
    again = generate_territory(seed=7, n_feeders=60, n_premises=3_000, bbox=BBOX)
    assert np.array_equal(again.premise_lon, territory.premise_lon)
    assert np.array_equal(again.premise_lat, territory.premise_lat)
    assert again.addresses() == territory.addresses()
    assert all(shapely.equals_exact(again.feeders, territory.feeders, tolerance=0))
    other = generate_territory(seed=8, n_feeders=60, n_premises=3_000, bbox=BBOX)
    assert not np.array_equal(other.premise_lon, territory.premise_lon)


def test_feeders_tile_the_box(territory: SynthTerritory) -> None:
    frame = shapely.box(*BBOX)
    feeders = territory.feeders
    assert len(feeders) == 60
    assert shapely.is_valid(feeders).all()
    # No gap: together they cover the box; no overlap: their areas add up to its area.
    union = shapely.union_all(feeders)
    assert shapely.area(shapely.symmetric_difference(union, frame)) < 1e-12 * frame.area
    assert abs(shapely.area(feeders).sum() - frame.area) < 1e-9 * frame.area
    tree = shapely.STRtree(feeders)
    left, right = tree.query(feeders, predicate="overlaps")
    assert len(left) == 0, f"feeders {left} overlap {right}"
    assert shapely.area(territory.regions).sum() == pytest.approx(frame.area, rel=1e-9)


def test_premises_inside_the_box_and_their_feeder(territory: SynthTerritory) -> None:
    lon, lat = territory.premise_lon, territory.premise_lat
    assert ((lon > BBOX[0]) & (lon < BBOX[2]) & (lat > BBOX[1]) & (lat < BBOX[3])).all()
    feeder = territory.feeders[territory.premise_feeder]
    assert shapely.intersects_xy(feeder, lon, lat).all()


def test_addresses_parse_into_street_and_house(territory: SynthTerritory) -> None:
    streets, houses, full = territory.normalized()
    addresses = territory.addresses()
    for i in range(0, territory.n_premises, 7):
        norm = normalize_address(addresses[i])
        assert norm.street and norm.house, addresses[i]
        assert (norm.street, norm.house, norm.full) == (streets[i], houses[i], full[i])
    assert len(set(full)) == len(full), "street + house number must identify one premise"
    assert any("ä" in a or "ö" in a for a in addresses)
    assert any(" " in territory.street_names[s] for s in territory.premise_street)
    assert any(h.endswith(" A") for h in territory.premise_house)
    assert any("-" in h for h in territory.premise_house)


@pytest.fixture(scope="module")
def grid(territory: SynthTerritory) -> SynthGrid:
    return generate_grid(territory, seed=3)


def test_grid_same_seed_same_trees(territory: SynthTerritory, grid: SynthGrid) -> None:
    again = generate_grid(territory, seed=3)
    assert again.device_code == grid.device_code
    assert np.array_equal(again.device_upstream, grid.device_upstream)
    assert np.array_equal(again.premise_transformer, grid.premise_transformer)
    assert np.array_equal(again.device_lon, grid.device_lon)


def test_grid_is_one_tree_per_feeder(territory: SynthTerritory, grid: SynthGrid) -> None:
    kind, up, feeder = grid.device_kind, grid.device_upstream, grid.device_feeder
    breakers = np.flatnonzero(kind == "breaker")
    assert np.array_equal(feeder[breakers], np.arange(len(territory.feeders)))
    assert (up[breakers] == -1).all() and (up[kind != "breaker"] >= 0).all()
    children = np.flatnonzero(up >= 0)
    assert (up[children] < children).all(), "upstream devices come first"
    assert (feeder[up[children]] == feeder[children]).all(), "trees stay inside their feeder"
    parent_kind = {"recloser": {"breaker"}, "fuse": {"breaker", "recloser"}}
    parent_kind["transformer"] = {"fuse"}
    for k, allowed in parent_kind.items():
        assert set(kind[up[kind == k]].tolist()) <= allowed, k
    assert (kind == "recloser").sum() > 0 and len(set(grid.device_code)) == grid.n_devices
    # Every transformer serves someone; a breaker feeds exactly its feeder's premises.
    used = np.bincount(grid.premise_transformer, minlength=grid.n_devices)
    assert (used[kind == "transformer"] > 0).mean() > 0.95
    f = int(np.bincount(territory.premise_feeder).argmax())
    assert set(grid.below(int(breakers[f])).tolist()) == set(
        np.flatnonzero(territory.premise_feeder == f).tolist()
    )


def test_premises_fed_from_the_nearest_transformer_of_their_feeder(
    territory: SynthTerritory, grid: SynthGrid
) -> None:
    transformer = grid.premise_transformer
    assert (grid.device_kind[transformer] == "transformer").all()
    assert np.array_equal(grid.device_feeder[transformer], territory.premise_feeder)
    scale = np.array([np.cos(np.radians(60.35)), 1.0])
    for f in range(0, len(territory.feeders), 7):
        members = np.flatnonzero(territory.premise_feeder == f)
        sites = np.flatnonzero((grid.device_kind == "transformer") & (grid.device_feeder == f))
        if not len(members):
            continue
        xy = np.column_stack([grid.device_lon[sites], grid.device_lat[sites]]) * scale
        premise_xy = np.column_stack([territory.premise_lon, territory.premise_lat])[members]
        _, nearest = cKDTree(xy).query(premise_xy * scale)
        assert np.array_equal(sites[nearest], transformer[members])


def test_grid_loads_into_postgis_as_feeder_trees(
    pg_cluster: Cluster, territory: SynthTerritory, grid: SynthGrid
) -> None:
    dbname = "synth_grid_test"
    pg_cluster.drop_database(dbname)
    pg_cluster.create_database(dbname)
    url = pg_cluster.url(dbname)
    migrate.upgrade(url)
    write_territory(url=url, territory=territory, grid=grid)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Device)) == grid.n_devices
            linked = select(func.count()).where(Premise.transformer_id.is_not(None))
            assert session.scalar(linked) == territory.n_premises
            f = int(np.bincount(territory.premise_feeder).argmax())
            tree = load_feeder_tree(session=session, feeder_id=f + 1)
            breaker = f + 1  # breakers come first, one per feeder
            assert tree.kinds[breaker] == "breaker"
            assert tree.customers_below(breaker) == int((territory.premise_feeder == f).sum())
    finally:
        engine.dispose()
        pg_cluster.drop_database(dbname)
