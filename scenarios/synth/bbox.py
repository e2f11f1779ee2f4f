"""Points and cells in the territory's lon/lat box.

Voronoi cells and the feeder lookup work in plain lon/lat; ``scaled`` stretches longitude
to roughly equal kilometres where "nearest" must mean nearest on the ground.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely

# Uusimaa and Päijät-Häme, southern Finland: about 170 km x 110 km.
DEFAULT_BBOX = (23.6, 60.15, 26.6, 61.15)
KM_PER_DEG_LAT = 111.2


def scaled(xy: npt.NDArray[np.float64], bbox: Sequence[float]) -> npt.NDArray[np.float64]:
    """Lon/lat scaled to roughly equal kilometres, so "nearest" means nearest on the ground.

    Voronoi cells are computed in plain lon/lat, so the feeder lookup must measure the
    same way; only the town and region groupings use the scaled form.
    """
    return xy * np.array([math.cos(math.radians((bbox[1] + bbox[3]) / 2)), 1.0])


def uniform(
    rng: np.random.Generator, bbox: Sequence[float], n: int, margin: float = 0.0
) -> npt.NDArray[np.float64]:
    lon0, lat0, lon1, lat1 = bbox
    dx, dy = (lon1 - lon0) * margin, (lat1 - lat0) * margin
    return np.column_stack(
        [rng.uniform(lon0 + dx, lon1 - dx, n), rng.uniform(lat0 + dy, lat1 - dy, n)]
    )


def inside(xy: npt.NDArray[np.float64], bbox: Sequence[float]) -> npt.NDArray[np.float64]:
    """Clamp points a hair inside the box, so none sits on (or beyond) its edge."""
    lon0, lat0, lon1, lat1 = bbox
    eps_x, eps_y = (lon1 - lon0) * 1e-9, (lat1 - lat0) * 1e-9
    return np.column_stack(
        [
            np.clip(xy[:, 0], lon0 + eps_x, lon1 - eps_x),
            np.clip(xy[:, 1], lat0 + eps_y, lat1 - eps_y),
        ]
    )


def around(
    rng: np.random.Generator,
    bbox: Sequence[float],
    centres: npt.NDArray[np.float64],
    sigma_km: npt.NDArray[np.float64],
    town: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """Gaussian points around their towns, redrawn until all lie strictly inside the box."""
    lon0, lat0, lon1, lat1 = bbox
    deg_lat = sigma_km / KM_PER_DEG_LAT
    deg_lon = deg_lat / math.cos(math.radians((lat0 + lat1) / 2))
    xy = np.empty((len(town), 2))
    todo = np.arange(len(town))
    while len(todo):
        t = town[todo]
        xy[todo, 0] = centres[t, 0] + rng.normal(0.0, 1.0, len(todo)) * deg_lon[t]
        xy[todo, 1] = centres[t, 1] + rng.normal(0.0, 1.0, len(todo)) * deg_lat[t]
        out = (xy[todo, 0] <= lon0) | (xy[todo, 0] >= lon1)
        out |= (xy[todo, 1] <= lat0) | (xy[todo, 1] >= lat1)
        todo = todo[out]
    return xy


def voronoi_cells(sites: npt.NDArray[np.float64], bbox: Sequence[float]) -> npt.NDArray[np.object_]:
    """Voronoi cells of ``sites`` clipped to the box, in the order of the sites."""
    frame = shapely.box(*bbox)
    diagram = shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=frame, ordered=True)
    cells = shapely.get_parts(diagram)
    if len(cells) != len(sites):
        msg = f"Voronoi diagram has {len(cells)} cells for {len(sites)} sites: duplicate sites?"
        raise RuntimeError(msg)
    return shapely.intersection(cells, frame)
