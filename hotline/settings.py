"""Settings of the 95598 service centre (hotline/): ticket clocks and the working calendar."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from dispatch.settings import DispatchSettings
from hotline.models import TICKET_TYPES


class HotlineSettings(DispatchSettings):
    """The centre's knobs on top of dispatch's: ticket clocks, urging, the working calendar."""

    # The 95598 rules: contact the customer within 24 hours (natural time), answer a complaint
    # within 4 working days and a report of misconduct within 9. The other types' allowances
    # are this installation's choice, set here so a site can follow its own provincial rules.
    ticket_contact_h: float = Field(
        default=24.0, description="Hours (natural time) to first contact the customer."
    )
    ticket_answer_working_days: dict[str, float] = Field(
        default_factory=lambda: {
            "consultation": 1.0,
            "complaint": 4.0,
            "report": 9.0,
            "suggestion": 9.0,
            "service_request": 5.0,
        },
        description="Working days to answer the customer, by ticket type.",
    )
    ticket_warn_fraction: float = Field(
        default=0.25,
        gt=0.0,
        lt=1.0,
        description="Urge at level 1 when this share of the answer allowance is left.",
    )
    ticket_reopen_days: int = Field(
        default=30, ge=0, description="Days after closing during which a ticket can be reopened."
    )
    work_calendar_file: Path | None = Field(
        default=None,
        description=(
            "JSON site calendar (holidays, adjusted working days, years it fully describes); "
            "it overrides chinese-calendar and covers the years that package does not."
        ),
    )
    work_calendar_timezone: str | None = Field(
        default=None, description="Local time of working days; unset uses ``timezone``."
    )
    kb_search_limit: int = Field(default=10, ge=1, le=50, description="Search hits at most.")
    # Storm mode's automatic trigger (hotline.storm_mode): calls of one region in the last
    # window against the same window of the day on the previous days (a simple baseline:
    # hotline.forecast needs a model fitted on history, which a live trigger cannot wait for).
    storm_auto: bool = Field(default=True, description="Turn storm mode on automatically.")
    storm_auto_factor: float = Field(
        default=3.0, gt=1.0, description="Trigger at this many times the region's baseline."
    )
    storm_auto_window_min: int = Field(
        default=30, ge=5, le=240, description="Minutes of calls the trigger counts."
    )
    storm_auto_baseline_days: int = Field(
        default=7, ge=1, le=28, description="Days the baseline averages the same window over."
    )
    storm_auto_min_calls: int = Field(
        default=20, ge=1, description="Calls in the window below which it never triggers."
    )
    storm_auto_hold_min: int = Field(
        default=60, ge=0, description="Minutes after a supervisor turned it off with no trigger."
    )
    storm_top_outages: int = Field(
        default=5, ge=1, le=20, description="Outage scripts the desk shows first in storm mode."
    )

    @field_validator("ticket_answer_working_days")
    @classmethod
    def _every_type(cls, value: dict[str, float]) -> dict[str, float]:
        missing = [t for t in TICKET_TYPES if t not in value]
        if missing:
            msg = f"ticket_answer_working_days lacks {', '.join(missing)}"
            raise ValueError(msg)
        bad = {t: d for t, d in value.items() if d <= 0}
        if bad:
            msg = f"ticket_answer_working_days must be positive, got {bad}"
            raise ValueError(msg)
        return value
