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
    # Callers inside a planned window are told "planned" and open no outage, so a window
    # mistyped by a year would hide every fault there for a year: longer works are split.
    planned_max_window_h: float = 72.0
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

    # --- open feeds (outages/feeds/, docs/feeds.md) ---
    feed_cell_m: float = Field(
        default=250.0,
        description="Side of the grid cells public outage areas are made of (metres): a feed "
        "says 'somewhere in this block', never which premise.",
    )
    feed_cache_s: int = Field(
        default=15, ge=0, le=30, description="Seconds the app keeps a built feed."
    )
    feed_max_age_s: int = Field(
        default=30,
        ge=0,
        le=30,
        description="Cache-Control max-age of the feeds: with feed_cache_s a reader never "
        "sees data older than 60 s.",
    )
    cap_major_customers: int = Field(
        default=100,
        ge=1,
        description="An unplanned outage with at least this many customers out is 'major' "
        "and gets a CAP alert.",
    )
    cap_sender: str = Field(
        default="outages@stormdesk.invalid",
        description="CAP <sender>: the utility's address, without spaces, commas or '<&'.",
    )
    cap_sender_name: str = Field(default="stormdesk demo utility", description="CAP senderName.")
    webhook_retry_base_s: float = Field(
        default=30.0,
        gt=0,
        description="A failed webhook delivery is retried after this, doubling each time.",
    )
    webhook_retry_max_s: float = Field(
        default=3600.0, gt=0, description="The longest wait between two delivery attempts."
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, description="Attempts before a delivery is marked failed."
    )
    webhook_timeout_s: float = Field(
        default=5.0, gt=0, description="Seconds a partner's endpoint has to answer."
    )
    intake_group_commit: bool = Field(
        default=True,
        description="Write concurrent single reports together, one transaction per group, "
        "through the batch path (outages/intake/group_commit.py).",
    )
    intake_warm_topology: bool = Field(
        default=True,
        description="Load every feeder's device tree and the premises on its transformers "
        "when the group writer starts, so the first storm reports do not pay for them and the "
        "worker's memory is steady from the start (bench/RESULTS.md, soak).",
    )
    intake_group_max: int = Field(
        default=500, ge=1, le=10_000, description="Most reports one group commit writes."
    )
