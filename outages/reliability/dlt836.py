"""The Chinese equivalents of SAIDI, SAIFI and ASAI (DL/T 836 supply reliability).

DL/T 836 counts every interruption longer than 3 minutes (IEEE 1366 draws the line at 5),
planned ones included, and excludes no major event days. Its figures per user:

- AIHC-1, average interruption hours per user: sum(customers x hours) / total users;
- AITC-1, average interruption times per user: sum(customers) / total users;
- RS-1, supply reliability: (1 - AIHC-1 / hours in the period) x 100 %;
- RS-2 and RS-3: the same without interruptions of external cause (RS-2) or without
  load shed for a shortage of system supply (RS-3), named by ``Causes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SUSTAINED_MIN_MIN = 3.0
DLT836_NAMES = ("rs1_pct", "rs2_pct", "rs3_pct", "aihc1_h", "aitc1")


@dataclass(frozen=True)
class Causes:
    """Which ``cause`` values RS-2 and RS-3 leave out."""

    external: frozenset[str] = field(default_factory=lambda: frozenset({"external"}))
    shortage: frozenset[str] = field(default_factory=lambda: frozenset({"shortage"}))


def dlt836_indices(
    prepared: pd.DataFrame,
    by: str,
    *,
    customers_served: pd.Series | float,
    period_h: float,
    causes: Causes | None = None,
    sustained_min: float = SUSTAINED_MIN_MIN,
) -> pd.DataFrame:
    """RS-1/2/3 (%), AIHC-1 (hours per user) and AITC-1 (times per user) per ``by`` group."""
    causes = causes or Causes()
    counted = prepared[prepared["duration_min"] > sustained_min]
    hours = counted["customers"] * counted["duration_min"] / 60.0
    groups = counted[by]
    user_hours = hours.groupby(groups, observed=True).sum()
    index = user_hours.index
    if isinstance(customers_served, pd.Series):
        index = customers_served.index.union(index)
        n_t = customers_served.reindex(index).astype("float64")
    else:
        n_t = pd.Series(np.float64(customers_served), index=index)
    user_hours = user_hours.reindex(index, fill_value=0.0)
    external = (
        hours.where(counted["cause"].isin(causes.external), 0.0)
        .groupby(groups, observed=True)
        .sum()
    )
    shortage = (
        hours.where(counted["cause"].isin(causes.shortage), 0.0)
        .groupby(groups, observed=True)
        .sum()
    )
    out = pd.DataFrame(index=index)
    out["aihc1_h"] = user_hours / n_t
    out["aitc1"] = (
        counted["customers"].groupby(groups, observed=True).sum().reindex(index, fill_value=0) / n_t
    )
    out["rs1_pct"] = 100.0 * (1.0 - out["aihc1_h"] / period_h)
    less_external = user_hours - external.reindex(index, fill_value=0.0)
    less_shortage = user_hours - shortage.reindex(index, fill_value=0.0)
    out["rs2_pct"] = 100.0 * (1.0 - less_external / n_t / period_h)
    out["rs3_pct"] = 100.0 * (1.0 - less_shortage / n_t / period_h)
    return out[list(DLT836_NAMES)]
