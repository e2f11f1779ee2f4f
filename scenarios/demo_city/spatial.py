"""The two CRSs of the build and the conversions between them.

Geometries are stored in EPSG:4326; metric work (distances, Voronoi cells, lengths)
happens in EPSG:3067, ETRS-TM35FIN, the Finnish national grid.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:3067"  # ETRS-TM35FIN, the Finnish national grid: metres, little distortion
_to_metric = Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)
_to_wgs84 = Transformer.from_crs(METRIC_CRS, WGS84, always_xy=True)


def wgs84_frame(rows: list[dict[str, Any]], geometry: str = "geom") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geometry, crs=WGS84)


def metric_xy(lonlat: np.ndarray) -> np.ndarray:
    x, y = _to_metric.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def wgs84_geom(geom_m: Any) -> Any:
    return shapely.transform(geom_m, lambda xy: np.column_stack(_to_wgs84.transform(*xy.T)))


def wgs84_point(xy_m: np.ndarray) -> Point:
    return Point(_to_wgs84.transform(xy_m[0], xy_m[1]))


def metric_geom(geom: Any) -> Any:
    return shapely.transform(geom, lambda xy: np.column_stack(_to_metric.transform(*xy.T)))


def multipolygon(geom: Any) -> MultiPolygon:
    polygons = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon)]
    return MultiPolygon(polygons)


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


def compass(bearing_rad: float) -> str:
    """Eight-wind name of a bearing counted anticlockwise from east."""
    return _COMPASS[round(bearing_rad / (2 * math.pi / len(_COMPASS))) % len(_COMPASS)]


def bearing_rad(xy_m: np.ndarray, origin_m: np.ndarray) -> float:
    return math.atan2(xy_m[1] - origin_m[1], xy_m[0] - origin_m[0])


def centroid(geom: Any) -> np.ndarray:
    return np.array(geom.centroid.coords[0])
