"""Seeded synthetic territories at province scale, for benchmarks (DESIGN.md section 6).

A territory is a box tiled by feeder service areas (Voronoi cells of seeded sites, denser
where people live), grouped into a handful of supply regions, with premises clustered
around towns and given Finnish-style street addresses. Everything is drawn from one
``numpy.random.Generator``, so a seed names a territory exactly; the heavy parts are
vectorized so a million premises take seconds.

Street names are unique across the whole territory (each street belongs to one town), and
house numbers are unique within a street, so "street + house number" identifies one
premise. Real territories repeat street names between towns; the geocoder does not use the
town yet, and a benchmark that measures top-1 accuracy needs an unambiguous answer.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import psycopg
import shapely
from scipy.spatial import cKDTree
from sqlalchemy.engine import make_url

from geo.normalize import fold, normalize_house

SRID = 4326
# Uusimaa and Päijät-Häme, southern Finland: about 170 km x 110 km.
DEFAULT_BBOX = (23.6, 60.15, 26.6, 61.15)
KM_PER_DEG_LAT = 111.2
MEAN_PREMISES_PER_STREET = 40
RURAL_SHARE = 0.12
# Share of feeder sites drawn where the premises are, so urban feeders are small.
URBAN_FEEDER_SHARE = 0.6
LETTER_SHARE = 0.08
RANGE_SHARE = 0.01
# Device trees (``generate_grid``): sizes of a Finnish rural-suburban distribution network.
PREMISES_PER_TRANSFORMER = 20
TRANSFORMERS_PER_FUSE = 4
# A feeder with this many fuses gets a mid-line recloser; with three times as many, two.
FUSES_PER_RECLOSER = 2
TRANSFORMER_KVA = (50.0, 100.0, 200.0, 315.0, 500.0, 800.0, 1000.0)
KVA_PER_PREMISE = 5.0
# About 10 m: a transformer stands beside the premise its site was drawn from.
TRANSFORMER_JITTER_DEG = 1e-4


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_TREES = _words(
    "Koivu Kuusi Mänty Pihlaja Tammi Vaahtera Leppä Haapa Saarni Kataja Lehmus Paju Tuomi "
    "Kuusikko Männikkö Koivikko"
)
_NATURE = _words(
    "Ranta Mylly Kirkko Koulu Asema Pelto Niitty Mäki Harju Kallio Lehto Metsä Puisto Satama "
    "Tehdas Pappila Kartano Torppa Aitta Sauna Kaivo Lähde Puro Joki Järvi Lampi Salmi Niemi "
    "Saari Kivi Hiekka Sora Savi Tuuli Kevät Kesä Syksy Talvi Aamu Ilta Kuu Tähti Sammal "
    "Kanerva Kielo Orvokki Ruusu Lilja Apila Vilja Ohra Kaura Ruis Pellava Humala Marja "
    "Mustikka Puolukka Lakka Karhu Hirvi Kettu Jänis Orava Ilves Joutsen Kurki Haukka Pöllö "
    "Tikka Peippo Rastas Kiuru Kauppa Tori Rauta Vasara Paja Silta Portti Aitta Veräjä Kulta "
    "Hopea Vaski Helmi Lumi Routa Halla Sade Pilvi Sateenkaari Kotka Käki Sorsa"
)
_TRADES = _words("Sepän Suutarin Räätälin Opettajan Nimismiehen Lukkarin Myllärin Kanttorin")
_KINDS = _words(
    "katu tie kuja polku raitti rinne kaari väylä tanhua piha aukio ranta puistikko mäki "
    "pelto niitty lenkki portti kulma penger"
)
_MODIFIERS = (
    "Vanha ",
    "Uusi ",
    "Iso ",
    "Pikku ",
    "Pohjois-",
    "Etelä-",
    "Itä-",
    "Länsi-",
    "Ala-",
    "Ylä-",
)
_SYLLABLES = _words(
    "ka ko ku la le li lo ma mi mä nä ni no pa pe pi po ra ri ro sa se si so ta ti to va vi "
    "vä hä hö jä jo ju kö tö yö ha he hi ke ki ky lu mu nu pu ru su tu vu ai ei oi uu aa ee"
)
# Genitive endings of place and family names: Mäkilän-, Kotilan-, Virtasen-.
_GENITIVE_ENDINGS = ("lan", "län", "sen")
_PLACE_ENDINGS = _words("la lä nen järvi koski salo niemi mäki vaara harju ranta pää kylä")


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
    n_towns = max(3, round(math.sqrt(max(n_premises, 1)) / 8))
    town_names = _town_names(rng, n_towns)
    town_postcodes = [
        f"{p:05d}" for p in np.sort(rng.choice(np.arange(100, 990), n_towns, replace=False)) * 100
    ]
    town_xy = _uniform(rng, bbox, n_towns, margin=0.08)
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
    xy[:n_urban] = _around(rng, bbox, town_xy, town_sigma_km, premise_town[:n_urban])
    xy[n_urban:] = _uniform(rng, bbox, n_rural)
    if n_rural:
        _, nearest = cKDTree(_scaled(town_xy, bbox)).query(_scaled(xy[-n_rural:], bbox))
        premise_town[-n_rural:] = nearest

    n_urban_sites = min(round(n_feeders * URBAN_FEEDER_SHARE), n_premises)
    sites = np.concatenate(
        [
            xy[rng.choice(n_premises, n_urban_sites, replace=False)]
            + rng.normal(0.0, 1e-4, (n_urban_sites, 2)),
            _uniform(rng, bbox, n_feeders - n_urban_sites),
        ]
    )
    sites = _inside(sites, bbox)
    feeders = _voronoi_cells(sites, bbox)
    region_sites = sites[rng.choice(n_feeders, min(n_regions, n_feeders), replace=False)]
    _, feeder_region = cKDTree(_scaled(region_sites, bbox)).query(_scaled(sites, bbox))
    feeder_region = feeder_region.astype(np.int64)
    regions = np.array(
        [shapely.union_all(feeders[feeder_region == r]) for r in range(len(region_sites))],
        dtype=object,
    )
    # A Voronoi cell is exactly the set of points nearest its site, so the nearest site is
    # the feeder whose area covers the premise (ties on an edge are measure zero).
    _, premise_feeder = cKDTree(sites).query(xy)

    street_of, street_town, house_no = _streets(rng, xy, premise_town, n_towns)
    street_names = _street_names(rng, len(street_town))
    return SynthTerritory(
        seed=seed,
        bbox=bbox,
        feeder_sites=sites,
        feeders=feeders,
        feeder_region=feeder_region,
        regions=regions,
        region_names=[f"{town_names[i % n_towns]} region {i + 1}" for i in range(len(regions))],
        town_names=town_names,
        town_postcodes=town_postcodes,
        street_names=street_names,
        street_town=street_town,
        premise_lon=xy[:, 0].copy(),
        premise_lat=xy[:, 1].copy(),
        premise_street=street_of,
        premise_house=_house_strings(rng, house_no),
        premise_feeder=premise_feeder.astype(np.int64),
    )


def _scaled(xy: npt.NDArray[np.float64], bbox: Sequence[float]) -> npt.NDArray[np.float64]:
    """Lon/lat scaled to roughly equal kilometres, so "nearest" means nearest on the ground.

    Voronoi cells are computed in plain lon/lat, so the feeder lookup must measure the
    same way; only the town and region groupings use the scaled form.
    """
    return xy * np.array([math.cos(math.radians((bbox[1] + bbox[3]) / 2)), 1.0])


def _uniform(
    rng: np.random.Generator, bbox: Sequence[float], n: int, margin: float = 0.0
) -> npt.NDArray[np.float64]:
    lon0, lat0, lon1, lat1 = bbox
    dx, dy = (lon1 - lon0) * margin, (lat1 - lat0) * margin
    return np.column_stack(
        [rng.uniform(lon0 + dx, lon1 - dx, n), rng.uniform(lat0 + dy, lat1 - dy, n)]
    )


def _inside(xy: npt.NDArray[np.float64], bbox: Sequence[float]) -> npt.NDArray[np.float64]:
    """Clamp points a hair inside the box, so none sits on (or beyond) its edge."""
    lon0, lat0, lon1, lat1 = bbox
    eps_x, eps_y = (lon1 - lon0) * 1e-9, (lat1 - lat0) * 1e-9
    return np.column_stack(
        [
            np.clip(xy[:, 0], lon0 + eps_x, lon1 - eps_x),
            np.clip(xy[:, 1], lat0 + eps_y, lat1 - eps_y),
        ]
    )


def _around(
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


def _voronoi_cells(
    sites: npt.NDArray[np.float64], bbox: Sequence[float]
) -> npt.NDArray[np.object_]:
    """Voronoi cells of ``sites`` clipped to the box, in the order of the sites."""
    frame = shapely.box(*bbox)
    diagram = shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=frame, ordered=True)
    cells = shapely.get_parts(diagram)
    if len(cells) != len(sites):
        msg = f"Voronoi diagram has {len(cells)} cells for {len(sites)} sites: duplicate sites?"
        raise RuntimeError(msg)
    return shapely.intersection(cells, frame)


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


def _house_strings(
    rng: np.random.Generator, house_no: npt.NDArray[np.int64]
) -> npt.NDArray[np.str_]:
    """House numbers as written: "12", some with a staircase letter "12 A", a few "12-14"."""
    n = len(house_no)
    kind = rng.random(n)
    letters = np.array(["A", "B", "C"])[rng.integers(0, 3, n)]
    numbers = house_no.astype(str)
    with_letter = np.strings.add(np.strings.add(numbers, " "), letters)
    ranged = np.strings.add(np.strings.add(numbers, "-"), (house_no + 2).astype(str))
    out = np.where(kind < LETTER_SHARE, with_letter, numbers)
    return np.where(kind > 1.0 - RANGE_SHARE, ranged, out)


def _town_names(rng: np.random.Generator, n: int) -> list[str]:
    names: dict[str, str] = {}
    while len(names) < n:
        k = rng.integers(1, 3)
        stem = "".join(rng.choice(_SYLLABLES, k)) + str(rng.choice(_PLACE_ENDINGS))
        name = stem.capitalize()
        names.setdefault(fold(name), name)
    return list(names.values())


def _street_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct street names (distinct after folding too), Finnish-style.

    Compounds of a word and a street kind ("Koivukuja", "Myllykatu"), sometimes with a
    modifier ("Vanha Rantatie", "Pohjois-Kirkkokatu"), and names after a made-up place or
    person in the genitive ("Mäkilänkuja").
    """
    names: dict[str, str] = {}
    words = _TREES + _NATURE
    while len(names) < n:
        batch = 2 * (n - len(names)) + 16
        style = rng.random(batch)
        word = rng.choice(words, batch)
        trade = rng.choice(_TRADES, batch)
        kind = rng.choice(_KINDS, batch)
        modifier = rng.choice(_MODIFIERS, batch)
        syllables = rng.choice(_SYLLABLES, (batch, 3))
        n_syllables = rng.integers(2, 4, batch)
        ending = rng.choice(_GENITIVE_ENDINGS, batch)
        for i in range(batch):
            if style[i] < 0.35:
                name = f"{word[i]}{kind[i]}"
            elif style[i] < 0.55:
                name = f"{modifier[i]}{word[i]}{kind[i]}"
            elif style[i] < 0.6:
                name = f"{trade[i]}{kind[i]}"
            else:
                stem = "".join(syllables[i, : n_syllables[i]]) + ending[i]
                name = f"{stem.capitalize()}{kind[i]}"
            if "-" in name:
                head, tail = name.split("-", 1)
                name = f"{head}-{tail.capitalize()}"
            key = fold(name)
            if key not in names:
                names[key] = name
                if len(names) == n:
                    break
    return list(names.values())


@dataclass(frozen=True)
class SynthGrid:
    """Device trees of a territory's feeders; device *indices* are 0-based, ids are + 1.

    Devices are ordered breakers, reclosers, fuses, transformers (each level in feeder
    order), so every device's upstream index is lower than its own, as in the demo city.
    """

    device_kind: npt.NDArray[np.str_]
    device_code: list[str]
    device_feeder: npt.NDArray[np.int64]
    device_upstream: npt.NDArray[np.int64]
    device_lon: npt.NDArray[np.float64]
    device_lat: npt.NDArray[np.float64]
    device_kva: npt.NDArray[np.float64]
    premise_transformer: npt.NDArray[np.int64]

    @property
    def n_devices(self) -> int:
        return len(self.device_kind)

    def below(self, device: int) -> npt.NDArray[np.int64]:
        """Indices of the premises fed from ``device`` or any device downstream of it."""
        inside = np.zeros(self.n_devices, dtype=bool)
        inside[device] = True
        # Upstream indices are lower than their children's, so one pass in order suffices.
        for d in range(device + 1, self.n_devices):
            up = self.device_upstream[d]
            if up >= 0 and inside[up]:
                inside[d] = True
        return np.flatnonzero(inside[self.premise_transformer])


@dataclass
class _Level:
    """One level of the device tree while it is built: rows in feeder order.

    An upstream is kept as ``(level kind, row)`` until the levels are concatenated and
    rows become device indices.
    """

    kind: str
    feeder: list[int] = field(default_factory=list)
    upstream: list[tuple[str, int] | None] = field(default_factory=list)
    xy: list[npt.NDArray[np.float64]] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    kva: list[float] = field(default_factory=list)

    def add(
        self,
        feeder: int,
        upstream: tuple[str, int] | None,
        xy: npt.NDArray[np.float64],
        code: str,
        kva: float = math.nan,
    ) -> tuple[str, int]:
        self.feeder.append(feeder)
        self.upstream.append(upstream)
        self.xy.append(xy)
        self.code.append(code)
        self.kva.append(kva)
        return self.kind, len(self.feeder) - 1


def generate_grid(
    territory: SynthTerritory,
    *,
    seed: int,
    premises_per_transformer: int = PREMISES_PER_TRANSFORMER,
    transformers_per_fuse: int = TRANSFORMERS_PER_FUSE,
) -> SynthGrid:
    """Give every feeder of a territory a device tree, deterministically from ``seed``.

    Intake and outage inference trace reports up ``premise.transformer_id`` and
    ``device.upstream_id``; without a tree a benchmark would measure a path no storm takes.
    Per feeder: a breaker at its site; transformers at randomly drawn premises of the
    feeder (so they follow the density), each premise fed from the nearest transformer of
    its own feeder; transformers cut by bearing from the breaker into laterals of about
    ``transformers_per_fuse``, each behind a fuse; and on feeders with enough laterals one
    or two mid-line reclosers above the farther half of the fuses.

    Parameters
    ----------
    territory
        The territory whose feeders and premises get the trees.
    seed
        Seed of the generator of transformer sites; independent of the territory's seed.
    premises_per_transformer
        Mean customers per transformer; a feeder gets ``ceil(premises / this)``.
    transformers_per_fuse
        Transformers per lateral fuse.
    """
    rng = np.random.default_rng(seed)
    t = territory
    scale = _scaled(np.ones((1, 2)), t.bbox)[0]
    levels = {kind: _Level(kind) for kind in ("breaker", "recloser", "fuse", "transformer")}
    premise_row = np.full(t.n_premises, -1, dtype=np.int64)
    order = np.argsort(t.premise_feeder, kind="stable")
    counts = np.bincount(t.premise_feeder, minlength=len(t.feeders))
    starts = np.cumsum(counts) - counts
    xy_all = np.column_stack([t.premise_lon, t.premise_lat])
    for f in range(len(t.feeders)):
        code = f"F{f + 1:05d}"
        site = t.feeder_sites[f]
        breaker = levels["breaker"].add(f, None, site, f"CB-{code}")
        members = order[starts[f] : starts[f] + counts[f]]
        if len(members) == 0:
            continue
        k = math.ceil(len(members) / premises_per_transformer)
        sites = xy_all[rng.choice(members, k, replace=False)]
        sites = _inside(sites + rng.normal(0.0, TRANSFORMER_JITTER_DEG, sites.shape), t.bbox)
        _, nearest = cKDTree(sites * scale).query(xy_all[members] * scale)
        served = np.bincount(nearest, minlength=k)
        offset = (sites - site) * scale
        by_bearing = np.argsort(np.arctan2(offset[:, 1], offset[:, 0]), kind="stable")
        laterals = np.array_split(by_bearing, math.ceil(k / transformers_per_fuse))
        heads = np.array([site + 0.5 * (sites[lat].mean(axis=0) - site) for lat in laterals])
        above = _reclosers(levels["recloser"], f, code, site, heads, scale, breaker)
        row_of_site = np.empty(k, dtype=np.int64)
        for j, lateral in enumerate(laterals):
            fuse = levels["fuse"].add(f, above[j], heads[j], f"FU-{code}-{j + 1:02d}")
            for s in lateral.tolist():
                _, row_of_site[s] = levels["transformer"].add(
                    f, fuse, sites[s], f"T-{code}-{s + 1:03d}", _kva(int(served[s]))
                )
        premise_row[members] = row_of_site[nearest]
    return _assemble(levels, premise_row)


def _reclosers(
    reclosers: _Level,
    feeder: int,
    code: str,
    site: npt.NDArray[np.float64],
    heads: npt.NDArray[np.float64],
    scale: npt.NDArray[np.float64],
    breaker: tuple[str, int],
) -> list[tuple[str, int]]:
    """Add the feeder's reclosers and return the device above each fuse.

    The farther half of the fuses (by distance from the breaker) go behind reclosers,
    split by bearing between two of them on long feeders, the rest hang off the breaker;
    a recloser stands halfway from the breaker to the centroid of its fuses.
    """
    n = len(heads)
    above = [breaker] * n
    n_reclosers = 0 if n < FUSES_PER_RECLOSER else 1 if n < 3 * FUSES_PER_RECLOSER else 2
    if n_reclosers == 0:
        return above
    offset = (heads - site) * scale
    far = np.argsort(np.hypot(offset[:, 0], offset[:, 1]), kind="stable")[n // 2 :]
    far = far[np.argsort(np.arctan2(offset[far, 1], offset[far, 0]), kind="stable")]
    for r, group in enumerate(np.array_split(far, n_reclosers)):
        xy = site + 0.5 * (heads[group].mean(axis=0) - site)
        recloser = reclosers.add(feeder, breaker, xy, f"R-{code}-{r + 1}")
        for j in group.tolist():
            above[j] = recloser
    return above


def _kva(premises: int) -> float:
    """The smallest standard rating that carries ``premises`` at the diversified load."""
    need = premises * KVA_PER_PREMISE
    return next((kva for kva in TRANSFORMER_KVA if kva >= need), TRANSFORMER_KVA[-1])


def _assemble(levels: dict[str, _Level], premise_row: npt.NDArray[np.int64]) -> SynthGrid:
    """Concatenate the levels in order and turn ``(kind, row)`` references into indices."""
    first: dict[str, int] = {}
    n = 0
    for kind, level in levels.items():
        first[kind] = n
        n += len(level.feeder)
    rows = list(levels.values())
    upstream = [
        -1 if up is None else first[up[0]] + up[1] for level in rows for up in level.upstream
    ]
    xy = np.array([p for level in rows for p in level.xy], dtype=np.float64).reshape(-1, 2)
    return SynthGrid(
        device_kind=np.array([level.kind for level in rows for _ in level.feeder]),
        device_code=[c for level in rows for c in level.code],
        device_feeder=np.array([f for level in rows for f in level.feeder], dtype=np.int64),
        device_upstream=np.array(upstream, dtype=np.int64),
        device_lon=xy[:, 0].copy(),
        device_lat=xy[:, 1].copy(),
        device_kva=np.array([k for level in rows for k in level.kva], dtype=np.float64),
        premise_transformer=np.where(premise_row >= 0, first["transformer"] + premise_row, -1),
    )


def _libpq_conninfo(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://...``) as a libpq URI for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _as_multipolygons(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Polygons as one-part MultiPolygons: the ``geom`` columns are typed MULTIPOLYGON."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    return shapely.multipolygons(parts, indices=index)


def _ewkb_hex(geoms: npt.NDArray[np.object_]) -> list[str]:
    """Hex EWKB with SRID: bit-exact coordinates, so PostGIS sees the same geometry."""
    with_srid = shapely.set_srid(geoms, SRID)
    return shapely.to_wkb(with_srid, hex=True, include_srid=True).tolist()


def _copy(
    cur: psycopg.Cursor[tuple[object, ...]], table: str, columns: str, lines: Iterator[str]
) -> None:
    """COPY rows given as tab-separated text lines, in ~8 MB blocks.

    Writing pre-formatted text blocks is several times faster than ``write_row`` per row;
    our values never hold tabs, newlines or backslashes (checked by the caller).
    """
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buf = io.StringIO()
        for line in lines:
            buf.write(line)
            buf.write("\n")
            if buf.tell() > 8_000_000:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())


@contextmanager
def _secondary_indexes_dropped(
    cur: psycopg.Cursor[tuple[object, ...]], table: str
) -> Iterator[None]:
    """Drop a table's indexes that back no constraint, and rebuild them afterwards.

    Building an index once over a million rows is much faster than maintaining it row by
    row during COPY. Definitions are read from the catalog, so the migrated schema stays
    the only source of truth.
    """
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (table,),
    )
    # Both columns are text: the index's name and its CREATE INDEX statement.
    definitions = [(str(name), str(sql)) for name, sql in cur.fetchall()]
    for name, _ in definitions:
        cur.execute(f"DROP INDEX {name}")
    yield
    for _, definition in definitions:
        cur.execute(definition)


def _copy_devices(cur: psycopg.Cursor[tuple[object, ...]], grid: SynthGrid) -> None:
    """COPY a grid's devices; breakers come first, so upstream rows exist before children."""
    geom = _ewkb_hex(shapely.points(grid.device_lon, grid.device_lat))
    upstream = [str(u + 1) if u >= 0 else "\\N" for u in grid.device_upstream.tolist()]
    kva = ["\\N" if math.isnan(k) else repr(k) for k in grid.device_kva.tolist()]
    kinds, feeders = grid.device_kind.tolist(), (grid.device_feeder + 1).tolist()
    _copy(
        cur,
        "device",
        "id, code, kind, feeder_id, upstream_id, normally_open, rated_kva, geom",
        (
            f"{i + 1}\t{grid.device_code[i]}\t{kinds[i]}\t{feeders[i]}\t{upstream[i]}\tf"
            f"\t{kva[i]}\t{geom[i]}"
            for i in range(grid.n_devices)
        ),
    )


def write_territory(*, url: str, territory: SynthTerritory, grid: SynthGrid | None = None) -> None:
    """Bulk-load a territory into a migrated, empty PostGIS database, in one transaction.

    Regions, feeders, streets (with premise counts) and premises go in by COPY with
    normalized addresses computed as ``geo.normalize`` would; ids are indices + 1 and the
    id sequences are moved past them. Tables are analyzed afterwards so the planner sees
    a million premises, not an empty table. With a ``grid``, its devices go in too (before
    the premises, which then carry their ``transformer_id``).
    """
    t = territory
    street_norm, house_norm, address_norm = t.normalized()
    for text_values in (t.street_names, t.town_names, t.region_names):
        if any(ch in s for s in text_values for ch in "\t\n\\"):
            msg = "synthetic names must not contain tabs, newlines or backslashes (COPY text)"
            raise ValueError(msg)
    premise_points = shapely.points(t.premise_lon, t.premise_lat)
    premise_geom = _ewkb_hex(premise_points)
    region_geom = _ewkb_hex(_as_multipolygons(t.regions))
    feeder_geom = _ewkb_hex(_as_multipolygons(t.feeders))
    street_count = np.bincount(t.premise_street, minlength=len(t.street_names))
    town = t.premise_town.tolist()
    region = (t.premise_region + 1).tolist()
    feeder = (t.premise_feeder + 1).tolist()

    with psycopg.connect(_libpq_conninfo(url)) as conn, conn.cursor() as cur:
        _copy(
            cur,
            "region",
            "id, code, name, region_class, geom",
            (
                f"{i + 1}\tR{i + 1:03d}\t{t.region_names[i]}\turban\t{region_geom[i]}"
                for i in range(len(region_geom))
            ),
        )
        _copy(
            cur,
            "feeder",
            "id, code, name, region_id, voltage_kv, geom",
            (
                f"{i + 1}\tF{i + 1:05d}\tFeeder {i + 1}\t{t.feeder_region[i] + 1}\t20\t{g}"
                for i, g in enumerate(feeder_geom)
            ),
        )
        _copy(
            cur,
            "street",
            "id, name_norm, premise_count",
            (f"{i + 1}\t{fold(name)}\t{street_count[i]}" for i, name in enumerate(t.street_names)),
        )
        names, postcodes = t.town_names, t.town_postcodes
        addresses = t.addresses()
        if grid is not None:
            _copy_devices(cur, grid)
        transformer = (
            ["\\N"] * t.n_premises
            if grid is None
            else [str(d + 1) if d >= 0 else "\\N" for d in grid.premise_transformer.tolist()]
        )
        with _secondary_indexes_dropped(cur, "premise"):
            _copy(
                cur,
                "premise",
                "id, account, address, address_norm, street_norm, house_norm, postcode, city, "
                "feeder_id, region_id, transformer_id, geom",
                (
                    f"{i + 1}\tA{i + 1:09d}\t{addresses[i]}\t{address_norm[i]}\t{street_norm[i]}"
                    f"\t{house_norm[i]}\t{postcodes[town[i]]}\t{names[town[i]]}\t{feeder[i]}"
                    f"\t{region[i]}\t{transformer[i]}\t{premise_geom[i]}"
                    for i in range(t.n_premises)
                ),
            )
        for table in ("region", "feeder", "street", "device", "premise"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
    with psycopg.connect(_libpq_conninfo(url), autocommit=True) as conn:
        conn.execute("ANALYZE region, feeder, street, device, premise")
