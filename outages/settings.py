"""Settings of intake and outages: locating, deduplication, roll-up, ETR commitments."""

from __future__ import annotations

from pydantic import Field

from geo.settings import GeoSettings


class OutageSettings(GeoSettings):
    """How reports are located, deduplicated and rolled up, and the ETRs promised."""

    locate_max_premise_distance_m: float = 60.0
    geocode_confident_score: float = 0.7
    duplicate_window_h: float = 4.0
    rollup_window_min: float = 90.0
    rollup_min_premises: int = 3
    rollup_min_share: float = 0.02
    restored_recently_h: float = 6.0
    planned_notice_days: int = 7
    # 95598 commitments: power back within 3 h in cities, 4 h in the countryside.
    etr_hours_by_region_class: dict[str, float] = Field(
        default_factory=lambda: {"urban": 3.0, "rural": 4.0, "remote": 6.0}
    )
    etr_extra_hours_by_cause: dict[str, float] = Field(
        default_factory=lambda: {
            "unknown": 0.0,
            "tree": 1.0,
            "weather": 1.0,
            "equipment": 0.5,
            "vehicle": 1.5,
            "animal": 0.0,
            "overload": 0.0,
        }
    )
    etr_notify_shift_min: float = 30.0
    intake_group_commit: bool = Field(
        default=True,
        description="Write concurrent single reports together, one transaction per group, "
        "through the batch path (outages/intake/group_commit.py).",
    )
    intake_group_max: int = Field(
        default=500, ge=1, le=10_000, description="Most reports one group commit writes."
    )
