"""The plain territory summary the history generator runs on: regions, feeders, customers.

It is all the generator needs to know of a territory, so the demo city, the synthetic
province (``data.synth``) and a real utility's feeder list all feed it the same way.
Each feeder's customers are cut into *sections* of about ``section_customers`` (a fuse or
transformer section): the unit an outage takes out or a switching step gives back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd


@dataclass(frozen=True)
class Feeder:
    """One feeder: its code, its supply region and the customers it serves."""

    code: str
    region: str
    customers: int
    kva_per_customer: float = 5.0

    def __post_init__(self) -> None:
        if self.customers < 0:
            msg = f"feeder {self.code} has negative customers ({self.customers})"
            raise ValueError(msg)


@dataclass(frozen=True)
class TerritorySummary:
    """Feeders grouped into regions; ``urban`` regions get shorter repairs and more calls."""

    feeders: tuple[Feeder, ...]
    urban_regions: frozenset[str] = frozenset()

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, urban: Sequence[str] = ()) -> TerritorySummary:
        """From columns ``feeder``, ``region``, ``customers`` (one row per feeder)."""
        feeders = tuple(
            Feeder(str(r.feeder), str(r.region), int(r.customers))
            for r in frame.itertuples(index=False)
        )
        return cls(feeders, frozenset(urban))

    def __post_init__(self) -> None:
        if not self.feeders or sum(f.customers for f in self.feeders) <= 0:
            msg = "a territory needs at least one feeder with customers"
            raise ValueError(msg)

    @property
    def regions(self) -> list[str]:
        return sorted({f.region for f in self.feeders})

    def served(self) -> pd.DataFrame:
        """Customers and kVA per feeder: the denominators of the reliability indices."""
        return pd.DataFrame(
            {
                "feeder": [f.code for f in self.feeders],
                "region": [f.region for f in self.feeders],
                "customers": [f.customers for f in self.feeders],
                "kva": [f.customers * f.kva_per_customer for f in self.feeders],
            }
        )


@dataclass(frozen=True)
class Sections:
    """Each feeder's sections as a flat table: ``first[f]`` .. ``first[f] + count[f] - 1``."""

    first: npt.NDArray[np.int64]
    count: npt.NDArray[np.int64]
    customers: npt.NDArray[np.int64]


def cut_sections(territory: TerritorySummary, section_customers: int) -> Sections:
    """Split each feeder's customers into sections of about ``section_customers``."""
    if section_customers < 1:
        msg = f"section_customers must be at least 1, got {section_customers}"
        raise ValueError(msg)
    totals = np.array([f.customers for f in territory.feeders], dtype=np.int64)
    count = np.maximum(1, -(-totals // section_customers))
    first = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    feeder_of = np.repeat(np.arange(totals.size), count)
    position = np.arange(feeder_of.size) - first[feeder_of]
    base = totals[feeder_of] // count[feeder_of]
    extra = (position < totals[feeder_of] % count[feeder_of]).astype(np.int64)
    return Sections(first, count, base + extra)


def synthetic_summary(
    *, n_customers: int, n_feeders: int, n_regions: int = 5, seed: int = 0
) -> TerritorySummary:
    """A territory summary without a map: feeder sizes log-normal, the first region urban.

    For benchmarks and tests that need a size, not a place; ``data.synth`` territories
    give the same summary from their premises.
    """
    rng = np.random.default_rng(seed)
    weights = rng.lognormal(0.0, 0.5, n_feeders)
    customers = np.floor(weights / weights.sum() * n_customers).astype(np.int64)
    customers[: n_customers - int(customers.sum())] += 1
    feeders = tuple(
        Feeder(f"F{i + 1:05d}", f"R{i % n_regions + 1}", int(c)) for i, c in enumerate(customers)
    )
    return TerritorySummary(feeders, frozenset({"R1"}))
