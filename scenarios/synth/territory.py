"""The territory: towns, premises with addresses, feeder service areas and regions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from geo.normalize import fold, normalize_house
from scenarios.synth.bbox import (
    DEFAULT_BBOX,
    KM_PER_DEG_LAT,
    around,
    inside,
    scaled,
    uniform,
    voronoi_cells,
)
from scenarios.synth.names import draw_street_names, draw_town_names, house_strings

MEAN_PREMISES_PER_STREET = 40
RURAL_SHARE = 0.12
# Share of feeder sites drawn where the premises are, so urban feeders are small.
URBAN_FEEDER_SHARE = 0.6


@dataclass(frozen=True)
class SynthTerritory:
    """A generated territory; feeder, region, street and town *indices* are 0-based.

    Database ids are indices + 1 (see ``write_territory``).
    """

    seed: int
    bbox: tuple[float, float, float, float]
    feeder_sites: npt.NDArray[np.float64]
    feeders: npt.NDArray[np.object_]
    feeder_region: npt.NDArray[np.int64]
    regions: npt.NDArray[np.object_]
    region_names: list[str]
    town_names: list[str]
    town_postcodes: list[str]
    street_names: list[str]
    street_town: npt.NDArray[np.int64]
    premise_lon: npt.NDArray[np.float64]
    premise_lat: npt.NDArray[np.float64]
    premise_street: npt.NDArray[np.int64]
    premise_house: npt.NDArray[np.str_]
    premise_feeder: npt.NDArray[np.int64]

    @property
    def n_premises(self) -> int:
        return len(self.premise_lon)

    @property
    def premise_town(self) -> npt.NDArray[np.int64]:
        return self.street_town[self.premise_street]

    @property
    def premise_region(self) -> npt.NDArray[np.int64]:
        return self.feeder_region[self.premise_feeder]

    def address(self, i: int) -> str:
        """The display address of premise ``i`` ("Koivukuja 12 A"), without postcode/city."""
        return f"{self.street_names[self.premise_street[i]]} {self.premise_house[i]}"

    def addresses(self) -> list[str]:
        names = self.street_names
        return [
            f"{names[s]} {h}"
            for s, h in zip(self.premise_street.tolist(), self.premise_house.tolist(), strict=True)
        ]

    def normalized(self) -> tuple[list[str], list[str], list[str]]:
        """``(street_norm, house_norm, address_norm)`` per premise, as geo.normalize gives.

        Folding runs once per distinct street name and house string rather than per
        premise: the same answer as ``normalize_address`` on each address (the tests check
        that), a hundred times faster at a million premises.
        """
        street_norm = [fold(name) for name in self.street_names]
        houses, inverse = np.unique(self.premise_house, return_inverse=True)
        house_norm = [_normalize_house_text(h) for h in houses.tolist()]
        streets = [street_norm[s] for s in self.premise_street.tolist()]
        house = [house_norm[h] for h in inverse.ravel().tolist()]
        full = [f"{s} {h}" for s, h in zip(streets, house, strict=True)]
        return streets, house, full


def _normalize_house_text(house: str) -> str:
    tokens = fold(house).split()
    return normalize_house(tokens[0], tokens[1] if len(tokens) > 1 else "")


def generate_territory(
    *,
    seed: int,
    n_feeders: int,
    n_premises: int,
    bbox: tuple[float, float, float, float] = DEFAULT_BBOX,
    n_regions: int = 8,
) -> SynthTerritory:
    """Generate a territory deterministically from ``seed``.

    Parameters
    ----------
    seed
        Seed of the one random generator everything is drawn from.
    n_feeders
        Feeder service areas; they tile ``bbox`` exactly (Voronoi cells clipped to it).
    n_premises
        Premises, about 88% clustered around towns of Zipf-distributed size, the rest
        scattered over the countryside and addressed in the nearest town.
    bbox
        ``(lon0, lat0, lon1, lat1)`` in EPSG:4326.
    n_regions
        Supply regions, each a union of whole feeders.
    """
    if n_feeders < 2:
        msg = f"n_feeders={n_feeders}: a Voronoi tiling needs at least 2 feeders"
        raise ValueError(msg)
    lon0, lat0, lon1, lat1 = bbox
    if not (lon0 < lon1 and lat0 < lat1):
        msg = f"bbox={bbox} is empty: it must be (lon0, lat0, lon1, lat1) with lon0 < lon1"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    # The draws from ``rng`` happen in this order; changing it changes every territory.
    towns, xy, premise_town = _place_premises(rng, bbox, n_premises)
    sites, feeders, feeder_region, regions = _tile_feeders(rng, bbox, xy, n_feeders, n_regions)
    # A Voronoi cell is exactly the set of points nearest its site, so the nearest site is
    # the feeder whose area covers the premise (ties on an edge are measure zero).
    _, premise_feeder = cKDTree(sites).query(xy)

    n_towns = len(towns.names)
    street_of, street_town, house_no = _streets(rng, xy, premise_town, n_towns)
    street_names = draw_street_names(rng, len(street_town))
    return SynthTerritory(
        seed=seed,
        bbox=bbox,
        feeder_sites=sites,
        feeders=feeders,
        feeder_region=feeder_region,
        regions=regions,
        region_names=[f"{towns.names[i % n_towns]} region {i + 1}" for i in range(len(regions))],
        town_names=towns.names,
        town_postcodes=towns.postcodes,
        street_names=street_names,
        street_town=street_town,
        premise_lon=xy[:, 0].copy(),
        premise_lat=xy[:, 1].copy(),
        premise_street=street_of,
        premise_house=house_strings(rng, house_no),
        premise_feeder=premise_feeder.astype(np.int64),
    )


class _Towns(NamedTuple):
    names: list[str]
    postcodes: list[str]


def _place_premises(
    rng: np.random.Generator, bbox: tuple[float, float, float, float], n_premises: int
) -> tuple[_Towns, npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Towns, and the premises around them: their points and each one's town.

    About 88% of the premises cluster around towns of Zipf-distributed size; the rest are
    scattered over the box and addressed in the nearest town.
    """
    n_towns = max(3, round(math.sqrt(max(n_premises, 1)) / 8))
    town_names = draw_town_names(rng, n_towns)
    town_postcodes = [
        f"{p:05d}" for p in np.sort(rng.choice(np.arange(100, 990), n_towns, replace=False)) * 100
    ]
    town_xy = uniform(rng, bbox, n_towns, margin=0.08)
    town_weight = 1.0 / np.arange(1, n_towns + 1)
    town_weight /= town_weight.sum()
    n_rural = round(n_premises * RURAL_SHARE) if n_premises >= 10 else 0
    town_sizes = rng.multinomial(n_premises - n_rural, town_weight)
    # A town of n premises spreads over a radius growing like sqrt(n): constant density.
    town_sigma_km = 0.4 + 0.02 * np.sqrt(town_sizes)

    premise_town = np.concatenate(
        [np.repeat(np.arange(n_towns), town_sizes), np.full(n_rural, -1, dtype=np.int64)]
    )
    xy = np.empty((n_premises, 2))
    n_urban = n_premises - n_rural
    xy[:n_urban] = around(rng, bbox, town_xy, town_sigma_km, premise_town[:n_urban])
    xy[n_urban:] = uniform(rng, bbox, n_rural)
    if n_rural:
        _, nearest = cKDTree(scaled(town_xy, bbox)).query(scaled(xy[-n_rural:], bbox))
        premise_town[-n_rural:] = nearest
    return _Towns(town_names, town_postcodes), xy, premise_town


def _tile_feeders(
    rng: np.random.Generator,
    bbox: tuple[float, float, float, float],
    xy: npt.NDArray[np.float64],
    n_feeders: int,
    n_regions: int,
) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.object_], npt.NDArray[np.int64], npt.NDArray[np.object_]
]:
    """Feeder sites, their Voronoi cells, each feeder's region, and the region areas.

    Most sites are drawn at premises (so urban feeders are small), the rest anywhere in the
    box; a region is the union of the feeders nearest one of its seed sites.
    """
    n_premises = len(xy)
    n_urban_sites = min(round(n_feeders * URBAN_FEEDER_SHARE), n_premises)
    sites = np.concatenate(
        [
            xy[rng.choice(n_premises, n_urban_sites, replace=False)]
            + rng.normal(0.0, 1e-4, (n_urban_sites, 2)),
            uniform(rng, bbox, n_feeders - n_urban_sites),
        ]
    )
    sites = inside(sites, bbox)
    feeders = voronoi_cells(sites, bbox)
    region_sites = sites[rng.choice(n_feeders, min(n_regions, n_feeders), replace=False)]
    _, feeder_region = cKDTree(scaled(region_sites, bbox)).query(scaled(sites, bbox))
    feeder_region = feeder_region.astype(np.int64)
    regions = np.array(
        [shapely.union_all(feeders[feeder_region == r]) for r in range(len(region_sites))],
        dtype=object,
    )
    return sites, feeders, feeder_region, regions


def _streets(
    rng: np.random.Generator,
    xy: npt.NDArray[np.float64],
    town: npt.NDArray[np.int64],
    n_towns: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Cut each town's premises into streets of neighbouring premises, numbered along them.

    Premises are ordered by town, then by a ~300 m grid cell in serpentine order, then by
    longitude, and consecutive runs of that order become streets: spatially coherent enough
    for a benchmark, and all vectorized.
    """
    cell = 300.0 / 1000.0 / KM_PER_DEG_LAT
    gx = np.floor(xy[:, 0] / (cell * 2)).astype(np.int64)
    gy = np.floor(xy[:, 1] / cell).astype(np.int64)
    serpentine = np.where(gy % 2 == 0, gx, -gx)
    order = np.lexsort((xy[:, 0], serpentine, gy, town))
    town_sorted = town[order]
    counts = np.bincount(town_sorted, minlength=n_towns)
    rank = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)

    # Street lengths per town: draw generously, cut at the town's size.
    street_of_sorted = np.empty(len(order), dtype=np.int64)
    house_sorted = np.empty(len(order), dtype=np.int64)
    street_town: list[npt.NDArray[np.int64]] = []
    next_street = 0
    starts = np.cumsum(counts) - counts
    for t in range(n_towns):
        m = int(counts[t])
        if m == 0:
            continue
        lengths = rng.integers(5, 2 * MEAN_PREMISES_PER_STREET - 5, m // 5 + 2)
        ends = np.cumsum(lengths)
        n_streets = int(np.searchsorted(ends, m)) + 1
        r = rank[starts[t] : starts[t] + m]
        local = np.searchsorted(ends[:n_streets], r, side="right")
        first = np.r_[0, ends[: n_streets - 1]]
        street_of_sorted[starts[t] : starts[t] + m] = next_street + local
        house_sorted[starts[t] : starts[t] + m] = r - first[local] + 1
        street_town.append(np.full(n_streets, t, dtype=np.int64))
        next_street += n_streets
    street_of = np.empty(len(order), dtype=np.int64)
    house_no = np.empty(len(order), dtype=np.int64)
    street_of[order] = street_of_sorted
    house_no[order] = house_sorted
    # Streets are numbered town by town; shuffle them so street ids carry no town order.
    perm = rng.permutation(next_street)
    towns_of_streets = np.concatenate(street_town) if street_town else np.empty(0, np.int64)
    shuffled_town = np.empty(next_street, dtype=np.int64)
    shuffled_town[perm] = towns_of_streets
    return perm[street_of], shuffled_town, house_no
