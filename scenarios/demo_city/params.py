"""The choices every step of the demo city build shares: its seed and its feeders.

Change a number here and the whole city changes (ids, areas, the grid); the determinism
test only checks that two builds agree, so a change here is a new demo city.
"""

from __future__ import annotations

SEED = 20_240_611
FEEDER_COUNT = 6


def code_of_feeder(feeder_id: int) -> str:
    return f"HEL-F{feeder_id:02d}"
