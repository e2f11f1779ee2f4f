"""Request bodies of the planning API (answers are the stored proposal documents)."""

from __future__ import annotations

from pydantic import BaseModel, Field

MAX_TIME_LIMIT_S = 30.0


class PlanRequest(BaseModel):
    """How long the solver may search; the answer comes about that much later."""

    time_limit_s: float = Field(
        default=5.0, gt=0, le=MAX_TIME_LIMIT_S, description="Solver wall time, seconds."
    )
    seed: int = Field(default=0, ge=0, description="Search seed; same seed, same plan.")
