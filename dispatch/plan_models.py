"""Stored plan proposals: what the planner answered, the version it was made from, its fate.

Kept apart from ``dispatch/models.py`` (work orders) because a plan is a value made by the
planner (``dispatch/planning.py``): its routes live in one JSONB document, read back whole by
the console, never queried piecemeal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models import Base

PLAN_STATUSES = ("proposed", "applied", "superseded", "conflict")


class DispatchPlan(Base):
    """One proposal of the planner; ``based_on_version`` is the ``dispatch_state.version`` it saw.

    Applying a plan whose version is no longer current is refused (409): the plan did not see
    the assignments made since.
    """

    __tablename__ = "dispatch_plan"
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'applied', 'superseded', 'conflict')",
            name="dispatch_plan_status",
        ),
        Index("ix_dispatch_plan_status", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    based_on_version: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    solve_s: Mapped[float] = mapped_column(Float)
    applied_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    applied_by: Mapped[str | None] = mapped_column(Text)
    proposal: Mapped[dict[str, Any]] = mapped_column(JSONB)
