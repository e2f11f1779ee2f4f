"""Crews, work orders, their completion reports (the 95598 closing loop), the dispatch version
and the stored plan proposals.

A work order is one job for one crew: restore an outage (one live order per outage), make a
place safe (one per hazard place: the hazard reports of one premise, or within 50 m and 2 h
of each other, outside any outage) or repair a fault that did not cut the supply (one per
report; bookable by appointment). Every hazard report is a make-safe task of exactly one
order: its outage's order when it is inside an outage, else its place's hazard order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models import SRID, Base

KINDS = ("outage", "hazard", "fault")
STATUSES = (
    "new",
    "planned",
    "dispatched",
    "en_route",
    "on_site",
    "restored",
    "closed",
    "cancelled",
)
LIVE_STATUSES = ("new", "planned", "dispatched", "en_route", "on_site")
"""Orders a crew still has to serve (the planner's jobs, the clocks' subjects)."""
BEFORE_SITE_STATUSES = ("new", "planned", "dispatched", "en_route")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Crew(Base):
    """A field crew: skills, home depot and shift; live position arrives from the crew page."""

    __tablename__ = "crew"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    skills: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    shift_start: Mapped[dt.time] = mapped_column(Time)
    shift_end: Mapped[dt.time] = mapped_column(Time)
    status: Mapped[str] = mapped_column(String(16), default="available")
    position_source: Mapped[str | None] = mapped_column(String(8))
    """``gps`` (the crew page shared it) or ``stop`` (the crew's last reported stop)."""
    depot_geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID))
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=SRID), nullable=True)
    position_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WorkOrder(Base):
    """One job: where the crew goes, how urgent it is, its 95598 deadlines and its crew.

    ``version`` grows with every change a dispatcher or crew makes (status, crew, lock,
    appointment), so a client can send the version it saw and get a 409 when it is stale.
    """

    __tablename__ = "work_order"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="work_order_kind"),
        CheckConstraint(_in("status", STATUSES), name="work_order_status"),
        CheckConstraint("priority BETWEEN 1 AND 4", name="work_order_priority"),
        CheckConstraint(
            "(kind = 'outage' AND outage_id IS NOT NULL) "
            "OR (kind <> 'outage' AND report_id IS NOT NULL)",
            name="work_order_source",
        ),
        CheckConstraint(
            "appointment_start_at IS NULL OR appointment_end_at > appointment_start_at",
            name="work_order_appointment",
        ),
        # One live order per outage: a cancelled one may be followed by another.
        Index(
            "ux_work_order_outage",
            "outage_id",
            unique=True,
            postgresql_where=text("kind = 'outage' AND status <> 'cancelled'"),
        ),
        Index(
            "ux_work_order_report",
            "report_id",
            unique=True,
            postgresql_where=text("report_id IS NOT NULL AND status <> 'cancelled'"),
        ),
        Index("ix_work_order_crew_status", "crew_id", "status"),
        Index("ix_work_order_status_urgency", "status", "urgency_score"),
        Index("ix_work_order_first_report", "first_report_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="new")
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outage.id"))
    report_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("report.id"))
    urgency_score: Mapped[float] = mapped_column(Float, default=0.0)
    urgency_breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeder.id"))
    required_skills: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    repair_s: Mapped[int] = mapped_column(Integer, default=3600)
    first_report_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    onsite_due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    restore_due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crew.id"))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    """A locked order whose place in the crew's route the dispatcher fixed; a locked order
    without a pin keeps its crew but is sequenced by urgency."""
    route_seq: Mapped[int | None] = mapped_column(Integer)
    eta_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    on_site_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    restored_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    appointment_start_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    appointment_end_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID))


TASK_STATUSES = ("open", "made_safe", "moved")


class WorkOrderTask(Base):
    """A make-safe task: one hazard report (a wire down, a damaged pole, smoke) on an order.

    Hazard calls about one incident do not make orders of their own: the crew sees each
    caller's place and words as a task of the outage's order (or of the hazard place's
    order), and an outage is restored only when its tasks are made safe or overridden.
    ``moved`` tasks went with their report to another order (a later roll-up put the
    place inside an outage).
    """

    __tablename__ = "work_order_task"
    __table_args__ = (
        CheckConstraint(_in("status", TASK_STATUSES), name="work_order_task_status"),
        Index(
            "ux_work_order_task_report",
            "report_id",
            unique=True,
            postgresql_where=text("status <> 'moved'"),
        ),
        Index("ix_work_order_task_order", "work_order_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"))
    report_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("report.id"))
    premise_id: Mapped[int | None] = mapped_column(ForeignKey("premise.id"))
    category: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    """What the crew reads: the caller's words, else the category and the address."""
    status: Mapped[str] = mapped_column(String(16), default="open")
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID))


class CompletionReport(Base):
    """The 95598 closing loop of one order: the crew's report, its review, the return call.

    Refiling after a rejected review overwrites the report (each filing is in the event log).
    """

    __tablename__ = "completion_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_order.id"), unique=True)
    cause_found: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    device_code: Mapped[str | None] = mapped_column(String(64))
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    filed_by: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    review_ok: Mapped[bool | None] = mapped_column(Boolean)
    review_note: Mapped[str | None] = mapped_column(Text)
    return_call_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    return_call_by: Mapped[str | None] = mapped_column(Text)
    customer_reached: Mapped[bool | None] = mapped_column(Boolean)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    return_call_note: Mapped[str | None] = mapped_column(Text)


class DispatchState(Base):
    """The single row whose ``version`` grows with every assignment change.

    A plan carries the version it was made from; applying a plan made from an older one is
    refused, so a dispatcher never overwrites assignments the plan did not see.
    """

    __tablename__ = "dispatch_state"
    __table_args__ = (CheckConstraint("id = 1", name="dispatch_state_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class DispatchPlan(Base):
    """One proposal of the planner; ``based_on_version`` is the ``dispatch_state.version`` it saw.

    Applying a plan whose version is no longer current is refused (409): the plan did not see
    the assignments made since. The routes live in one JSONB document (``PlanRead`` is its
    shape), read back whole by the console, never queried piecemeal.
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
