"""The demo city builder, without a database: determinism, the grid's shape, tiling."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import LineString, MultiPolygon, Point

from dispatch.models import Crew
from geo.models import (
    CRITICAL_KINDS,
    DEVICE_KINDS,
    REGION_CLASSES,
    ROLES,
    Base,
    Device,
    Feeder,
    Premise,
    Region,
    RoadEdge,
    RoadNode,
    Segment,
    Substation,
)
from geo.passwords import weak_reason
from scenarios.demo_city import (
    METRIC_CRS,
    SUBSTATION_OSM_ID,
    DemoCity,
    build_demo_city,
)

FRAMES = (
    "territory",
    "regions",
    "substations",
    "feeders",
    "devices",
    "segments",
    "premises",
    "road_nodes",
    "road_edges",
    "crews",
)
MODEL_OF_FRAME: dict[str, type[Base]] = {
    "regions": Region,
    "substations": Substation,
    "feeders": Feeder,
    "devices": Device,
    "segments": Segment,
    "premises": Premise,
    "road_nodes": RoadNode,
    "road_edges": RoadEdge,
    "crews": Crew,
}
# Float noise of the EPSG:4326 round trip, far below anything a map or a query could see.
TILING_TOLERANCE_M2 = 1.0
OSM_ADDRESSES_WITH_STREET = 1449


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return build_demo_city()


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return frame.geometry.to_crs(METRIC_CRS)


def _overlap_m2(areas: gpd.GeoSeries) -> float:
    return sum(a.intersection(b).area for a, b in itertools.combinations(areas, 2))


def _gap_m2(areas: gpd.GeoSeries, territory: shapely.Geometry) -> float:
    union = shapely.union_all(areas.to_numpy())
    return float(union.symmetric_difference(territory).area)


def test_two_builds_are_identical(city: DemoCity) -> None:
    again = build_demo_city()
    for name in FRAMES:
        assert_geodataframe_equal(getattr(again, name), getattr(city, name))
    assert again.users == city.users


@pytest.mark.parametrize("name", sorted(MODEL_OF_FRAME))
def test_frame_columns_are_model_columns(city: DemoCity, name: str) -> None:
    frame = getattr(city, name)
    model_columns = set(MODEL_OF_FRAME[name].__table__.columns.keys())
    assert set(frame.columns) <= model_columns
    assert frame.crs.to_epsg() == 4326
    assert list(frame["id"]) == sorted(frame["id"]) and frame["id"].is_unique


def test_substation_is_the_real_osm_one(city: DemoCity) -> None:
    (sub,) = city.substations.itertuples()
    assert sub.osm_id == SUBSTATION_OSM_ID
    assert city.territory.geometry.iloc[0].contains(sub.geom)


def test_feeders_leave_the_substation(city: DemoCity) -> None:
    assert len(city.feeders) >= 3
    assert set(city.feeders["substation_id"]) == set(city.substations["id"])
    assert city.feeders["code"].str.fullmatch(r"HEL-F\d\d").all()
    assert set(city.feeders["voltage_kv"]) <= {10.0, 20.0}


def test_each_feeder_head_is_a_breaker_without_upstream(city: DemoCity) -> None:
    heads = city.devices[city.devices["upstream_id"].isna()]
    assert sorted(heads["feeder_id"]) == sorted(city.feeders["id"])
    assert (heads["kind"] == "breaker").all()


def test_device_tree_of_each_feeder_is_rooted_at_its_breaker(city: DemoCity) -> None:
    devices = city.devices.set_index("id")
    assert set(devices["kind"]) <= set(DEVICE_KINDS)
    for feeder_id, members in devices.groupby("feeder_id"):
        tree = nx.DiGraph()
        tree.add_nodes_from(members.index)
        linked = members[members["upstream_id"].notna()]
        tree.add_edges_from(zip(linked["upstream_id"], linked.index, strict=True))
        assert nx.is_arborescence(tree), f"feeder {feeder_id} devices do not form one tree"
        (root,) = (n for n in tree if tree.in_degree(n) == 0)
        assert members.loc[root, "kind"] == "breaker"
        assert {"recloser", "transformer"} <= set(members["kind"])


def test_tie_switches_are_open_leaves(city: DemoCity) -> None:
    devices = city.devices
    ties = devices[devices["normally_open"]]
    assert len(ties) >= 1
    assert (ties["kind"] == "switch").all()
    assert not set(ties["id"]) & set(devices["upstream_id"].dropna())


def test_enough_transformers_on_every_feeder(city: DemoCity) -> None:
    transformers = city.devices[city.devices["kind"] == "transformer"]
    assert len(transformers) >= 15
    assert set(transformers["feeder_id"]) == set(city.feeders["id"])
    assert (transformers["rated_kva"] > 0).all()


def test_every_address_is_a_premise_on_a_transformer_of_its_feeder(city: DemoCity) -> None:
    premises = city.premises
    assert len(premises) == OSM_ADDRESSES_WITH_STREET
    assert premises["account"].is_unique
    transformers = city.devices[city.devices["kind"] == "transformer"].set_index("id")
    feeder_of_transformer = transformers.loc[premises["transformer_id"], "feeder_id"]
    assert (feeder_of_transformer.to_numpy() == premises["feeder_id"].to_numpy()).all()
    region_of_feeder = city.feeders.set_index("id").loc[premises["feeder_id"], "region_id"]
    assert (region_of_feeder.to_numpy() == premises["region_id"].to_numpy()).all()


def test_premise_addresses_are_displayable_and_normalized(city: DemoCity) -> None:
    premises = city.premises
    assert premises["address"].str.fullmatch(r".+ \S+.*, (\d{5} )?Helsinki").all()
    assert (premises["street_norm"] != "").all()
    assert (premises["house_norm"] != "").all()
    assert premises["phone"].str.startswith("+358 40 000 ").all()


def test_a_handful_of_critical_premises(city: DemoCity) -> None:
    critical = city.premises["critical"].dropna()
    assert 5 <= len(critical) <= 10
    assert set(critical) <= set(CRITICAL_KINDS)
    assert {"hospital", "life_support"} <= set(critical)


def test_regions(city: DemoCity) -> None:
    regions = city.regions
    assert 2 <= len(regions) <= 3
    assert set(regions["region_class"]) <= set(REGION_CLASSES)
    assert "urban" in set(regions["region_class"])
    assert set(city.feeders["region_id"]) == set(regions["id"])


@pytest.mark.parametrize("name", ["feeders", "regions"])
def test_areas_tile_the_territory(city: DemoCity, name: str) -> None:
    areas = _metric(getattr(city, name))
    territory = _metric(city.territory).iloc[0]
    assert all(isinstance(a, MultiPolygon) and a.is_valid for a in areas)
    assert _overlap_m2(areas) < TILING_TOLERANCE_M2
    assert _gap_m2(areas, territory) < TILING_TOLERANCE_M2


def test_every_premise_lies_in_its_feeder_and_region(city: DemoCity) -> None:
    premises = city.premises
    for column, frame in (("feeder_id", city.feeders), ("region_id", city.regions)):
        areas = frame.set_index("id").geometry.loc[premises[column]].to_numpy()
        inside = shapely.contains(areas, premises.geometry.to_numpy())
        assert inside.all(), f"{(~inside).sum()} premises outside their {column} area"


def test_feeder_areas_are_contiguous(city: DemoCity) -> None:
    """One main area per feeder; a building fed across the boundary (all premises at one
    address share a transformer) may add a small island, as in real networks."""
    for feeder in city.feeders.itertuples():
        areas = sorted((part.area for part in feeder.geom.geoms), reverse=True)
        assert areas[0] >= 0.99 * sum(areas), (feeder.code, areas)


def test_segments_follow_the_device_tree(city: DemoCity) -> None:
    devices = city.devices.set_index("id")
    segments = city.segments
    assert all(isinstance(g, LineString) for g in segments.geometry)
    upstream = devices.loc[segments["to_device_id"], "upstream_id"].to_numpy()
    assert (upstream == segments["from_device_id"].to_numpy()).all()
    assert segments["to_device_id"].is_unique
    assert len(segments) == devices["upstream_id"].notna().sum()
    assert (segments["length_m"] > 0).all()


def test_segments_end_at_their_devices(city: DemoCity) -> None:
    geom_of = city.devices.set_index("id").geometry
    for seg in city.segments.itertuples():
        assert Point(seg.geom.coords[0]).equals(geom_of[seg.from_device_id]), seg.id
        assert Point(seg.geom.coords[-1]).equals(geom_of[seg.to_device_id]), seg.id


def test_road_network(city: DemoCity) -> None:
    nodes = city.road_nodes.set_index("id").geometry
    edges = city.road_edges
    assert len(edges) > 1000
    assert set(edges["from_node_id"]) | set(edges["to_node_id"]) == set(nodes.index)
    assert (edges["length_m"] > 0).all() and (edges["speed_kmh"] >= 20).all()
    starts = shapely.points(shapely.get_coordinates(shapely.get_point(edges.geometry, 0)))
    assert shapely.equals(starts, nodes.loc[edges["from_node_id"]].to_numpy()).all()


def test_crews(city: DemoCity) -> None:
    crews = city.crews
    assert len(crews) >= 6
    skills = {"line", "cable", "transformer", "tree_trimming", "substation", "hv"}
    assert all(set(s) <= skills and s for s in crews["skills"])
    assert set(crews["region_id"]) <= set(city.regions["id"])
    road_points = set(city.road_nodes.geometry.to_wkb())
    assert all(depot in road_points for depot in crews.geometry.to_wkb())
    shifts = set(zip(crews["shift_start"], crews["shift_end"], strict=True))
    assert any(start < end for start, end in shifts) and any(start > end for start, end in shifts)


def test_users_cover_every_role_and_crew(city: DemoCity) -> None:
    assert {u["role"] for u in city.users} == set(ROLES)
    crew_users = [u for u in city.users if u["role"] == "crew"]
    assert sorted(u["crew_id"] for u in crew_users) == sorted(city.crews["id"])
    assert all(weak_reason(u["password"], u["username"]) is None for u in city.users)


def test_data_is_credited_and_the_grid_labelled(city: DemoCity) -> None:
    assert "OpenStreetMap contributors" in city.attribution and "ODbL" in city.attribution
    assert "synthetic" in city.grid_label.lower()


def test_premises_at_one_address_share_a_transformer(city: DemoCity) -> None:
    per_address = city.premises.groupby("address_norm")["transformer_id"].nunique()
    assert per_address.max() == 1
