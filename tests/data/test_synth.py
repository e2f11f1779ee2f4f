"""The synthetic territory generator: deterministic, a true tiling, addresses that parse."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from data.synth import SynthTerritory, generate_territory
from geo.normalize import normalize_address

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
