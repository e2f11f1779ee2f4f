"""Device trees for a territory's feeders: breakers, reclosers, fuses and transformers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from scenarios.synth.bbox import inside, scaled
from scenarios.synth.territory import SynthTerritory

# Device trees (``generate_grid``): sizes of a Finnish rural-suburban distribution network.
PREMISES_PER_TRANSFORMER = 20
TRANSFORMERS_PER_FUSE = 4
# A feeder with this many fuses gets a mid-line recloser; with three times as many, two.
FUSES_PER_RECLOSER = 2
TRANSFORMER_KVA = (50.0, 100.0, 200.0, 315.0, 500.0, 800.0, 1000.0)
KVA_PER_PREMISE = 5.0
# About 10 m: a transformer stands beside the premise its site was drawn from.
TRANSFORMER_JITTER_DEG = 1e-4


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
    scale = scaled(np.ones((1, 2)), t.bbox)[0]
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
        sites = inside(sites + rng.normal(0.0, TRANSFORMER_JITTER_DEG, sites.shape), t.bbox)
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
