"""Settings of dispatch: 95598 clocks, urgency weights, repair times, skills, appointments."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from outages.settings import OutageSettings


class UrgencyWeights(BaseModel):
    """Points of each urgency term (``dispatch.urgency``); override as JSON in
    ``STORMDESK_URGENCY``. Hazard outweighs everything else by design: a live wire on the
    street comes before any number of dark houses."""

    hazard: float = 1000.0
    life_support: float = 400.0  # per premise, up to ``critical_cap``
    hospital: float = 300.0
    other_critical: float = 50.0  # water, emergency services, schools
    critical_cap: int = 3
    supply_lost: float = 100.0  # an outage, against a fault where the power is still on
    customers_log10: float = 40.0  # times log10(1 + customers affected)
    waiting_per_min: float = 0.2
    waiting_max: float = 60.0
    sla: float = 100.0  # at the on-site deadline; twice this when a horizon past it
    sla_horizon_min: float = 60.0


class DispatchSettings(OutageSettings):
    """Work orders, their clocks and urgency, and what planning assumes before road times."""

    # Crew on site within 45 / 90 / 120 minutes of the first report; power back within the
    # ``etr_hours_by_region_class`` commitment above (one knob, so the default ETR and the
    # restore deadline cannot drift apart).
    onsite_minutes_by_region_class: dict[str, float] = Field(
        default_factory=lambda: {"urban": 45.0, "rural": 90.0, "remote": 120.0}
    )
    # Faults without supply loss or hazard (a flickering light, a meter) are not urgent.
    fault_onsite_h: float = 24.0
    fault_restore_h: float = 48.0
    urgency: UrgencyWeights = Field(default_factory=lambda: UrgencyWeights())
    big_outage_customers: int = Field(
        default=100, description="Customers out that make an outage priority 2."
    )
    wait_cost_per_point: float = Field(
        default=0.01,
        ge=0.0,
        le=1.0,
        description="What each second an order waits for its crew costs the plan, per point "
        "of urgency score, in seconds of driving: at 0.01 a second sooner at the hospital "
        "outage (score 470) is worth 5 s of driving, so an idle crew goes there at once "
        "rather than another crew after its current job. 0 prices only lateness past the "
        "on-site deadline.",
    )
    straight_line_speed_kmh: float = Field(
        default=30.0, description="ETA speed over straight-line distance until road ETAs exist."
    )
    min_repair_min: float = Field(
        default=20.0,
        description="The least time a repair takes once the crew is there: no customer is "
        "told an ETR earlier than the crew's arrival plus this.",
    )
    repair_min_by_device_kind: dict[str, float] = Field(
        default_factory=lambda: {
            "transformer": 90.0,
            "fuse": 45.0,
            "recloser": 60.0,
            "switch": 60.0,
            "breaker": 120.0,
        }
    )
    repair_min_by_category: dict[str, float] = Field(
        default_factory=lambda: {
            "wire_down": 60.0,
            "pole_damage": 180.0,
            "fire_smoke": 60.0,
            "flicker": 45.0,
            "other": 45.0,
            "no_power": 60.0,
            "partial_power": 60.0,
        }
    )
    skills_by_device_kind: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "transformer": ["transformer"],
            "fuse": ["line"],
            "recloser": ["line"],
            "switch": ["line"],
            "breaker": ["hv"],
        }
    )
    skills_by_category: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "wire_down": ["line"],
            "pole_damage": ["line"],
            "fire_smoke": ["line"],
            "flicker": ["line"],
            "other": ["line"],
        }
    )
    appointment_day_start: dt.time = dt.time(8, 0)
    appointment_day_end: dt.time = dt.time(18, 0)
    appointment_max_h: float = 4.0
