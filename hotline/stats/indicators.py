"""Monthly indicators with their targets: which months met them and the trend.

The targets are the 95598 centre's usual commitments (answer 90% of calls, 80% within
20 s, under 5% abandoned, crews on site and power back within the clocks, tickets
answered within their working days, satisfied customers). A figure that is missing (no
calls offered that month, no orders) is neither met nor missed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Indicator:
    target: float
    higher_is_better: bool = True

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value >= self.target if self.higher_is_better else value <= self.target


INDICATORS: dict[str, Indicator] = {
    "answer_rate": Indicator(0.90),
    "service_level": Indicator(0.80),
    "abandon_rate": Indicator(0.05, higher_is_better=False),
    "onsite_rate": Indicator(0.95),
    "restore_rate": Indicator(0.95),
    "tickets_answered_on_time_rate": Indicator(0.98),
    "satisfaction_rate": Indicator(0.95),
}
COLUMNS = ["month", "indicator", "value", "target", "met", "change"]


def indicator_table(monthly: list[tuple[str, dict[str, float | int | None]]]) -> pd.DataFrame:
    """One row per month and indicator: value, target, met, change from the month before."""
    rows = []
    for name, indicator in INDICATORS.items():
        previous: float | None = None
        for month, headline in monthly:
            raw = headline.get(name)
            value = None if raw is None else float(raw)
            change = None if value is None or previous is None else round(value - previous, 4)
            rows.append((month, name, value, indicator.target, indicator.met(value), change))
            previous = value
    return pd.DataFrame(rows, columns=COLUMNS)
