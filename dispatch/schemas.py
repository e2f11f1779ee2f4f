"""Pydantic shapes of work orders, their closing loop, crews (GeoJSON for the map) and plans.

Plan answers carry their times as ISO 8601 strings with the territory's local offset, as the
stored proposal documents hold them (``str``, not ``datetime``: re-serializing would turn a
UTC offset into ``Z`` and change answers clients already parse).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from geo.types import INT32_MAX, Count, Id, Moment, Text

MAX_TIME_LIMIT_S = 30.0

OrderStatus = Literal[
    "new", "planned", "dispatched", "en_route", "on_site", "restored", "closed", "cancelled"
]


class UrgencyRead(BaseModel):
    score: float
    priority: int = Field(description="Routing priority: 1 most urgent ... 4 low.")
    breakdown: list[dict[str, Any]] = Field(description="Each term's value and points.")


class CompletionRead(BaseModel):
    cause_found: str
    action: str
    device_code: str | None
    materials: list[dict[str, Any]]
    filed_by: str
    filed_at: dt.datetime
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    review_ok: bool | None
    review_note: str | None
    return_call_at: dt.datetime | None
    customer_reached: bool | None
    satisfied: bool | None
    return_call_note: str | None


class TaskRead(BaseModel):
    """A make-safe task: one hazard call on the order, with its place and the caller's words."""

    id: int
    report_id: int
    category: str
    note: str
    status: Literal["open", "made_safe"]
    reported_at: dt.datetime
    done_at: dt.datetime | None
    done_by: str | None
    lon: float
    lat: float


class WorkOrderRead(BaseModel):
    id: int
    kind: str
    status: str
    allowed_transitions: list[str]
    outage_id: int | None
    report_id: int | None
    urgency: UrgencyRead
    region: str | None
    feeder: str | None
    lon: float
    lat: float
    required_skills: list[str]
    repair_s: int
    first_report_at: dt.datetime
    onsite_due_at: dt.datetime
    restore_due_at: dt.datetime
    onsite_countdown_s: int | None = Field(
        description="Seconds to the on-site deadline (negative when past); None once on site."
    )
    restore_countdown_s: int | None = Field(
        description="Seconds to the restore deadline; None once restored."
    )
    at_risk: bool
    overdue: bool
    escalation_level: int
    escalated_at: dt.datetime | None
    crew_id: int | None
    crew: str | None
    locked: bool
    route_seq: int | None
    eta_at: dt.datetime | None
    on_site_at: dt.datetime | None
    restored_at: dt.datetime | None
    closed_at: dt.datetime | None
    cancel_reason: str | None
    appointment_start_at: dt.datetime | None
    appointment_end_at: dt.datetime | None
    completion: CompletionRead | None
    tasks: list[TaskRead] = Field(
        default_factory=list, description="Make-safe tasks (hazard calls), oldest first."
    )
    open_tasks: int = Field(default=0, description="Make-safe tasks not yet made safe.")
    reports: int = Field(
        default=0, description="Reports behind the order: its outage's, or its hazard calls."
    )
    pinned: bool = False
    undo_s_left: int | None = Field(
        default=None, description="Seconds left to undo a Restored step (back to on site)."
    )
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TransitionRequest(BaseModel):
    to: OrderStatus
    note: Text | None = Field(default=None, max_length=2000)
    made_safe: bool = Field(
        default=False, description="With to=restored: every open make-safe task is made safe."
    )
    override_reason: Text | None = Field(
        default=None,
        max_length=2000,
        description="With to=restored: restore although make-safe tasks are open (they move "
        "on to a make-safe order of their own).",
    )
    version: Count | None = Field(
        default=None, description="The version the client saw; a stale one is a 409."
    )


class AssignRequest(BaseModel):
    crew_id: Id | None = Field(description="The crew to send; null unassigns.")
    lock: bool = Field(default=False, description="Locked orders stay with the crew on re-plan.")
    position: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Pin the order at this stop number of the crew's route (never before a "
        "stop in progress); without it the order goes before the crew's first stop of lower "
        "urgency.",
    )
    version: Count | None = None


class Material(BaseModel):
    item: Text = Field(min_length=1, max_length=200)
    quantity: float = Field(gt=0, le=1_000_000, allow_inf_nan=False)
    unit: Text | None = Field(default=None, max_length=20)


class CompletionCreate(BaseModel):
    cause_found: Text = Field(min_length=1, max_length=2000)
    action: Text = Field(min_length=1, max_length=2000)
    device_code: Text | None = Field(default=None, max_length=64)
    materials: list[Material] = Field(default_factory=list, max_length=100)


class ReviewCreate(BaseModel):
    ok: bool
    note: Text | None = Field(default=None, max_length=2000)


class ReturnCallCreate(BaseModel):
    customer_reached: bool
    satisfied: bool | None = Field(default=None, description="Null when not reached.")
    note: Text | None = Field(default=None, max_length=2000)


class AppointmentCreate(BaseModel):
    start_at: Moment
    end_at: Moment


class PositionCreate(BaseModel):
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)


class SyncResult(BaseModel):
    created: list[int] = Field(default_factory=list)
    moved: list[int] = Field(default_factory=list)
    cancelled: list[int] = Field(default_factory=list)
    refreshed: int = 0


class EscalationRead(BaseModel):
    work_order_id: int
    level: int
    reason: str
    recipient: str


LocalTime = Annotated[
    dt.time,
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"},
        mode="serialization",
    ),
]
"""A wall-clock time of the territory, without offset (JSON Schema's "time" needs one)."""


class CrewProperties(BaseModel):
    id: int
    code: str
    name: str
    skills: list[str]
    status: str
    region: str | None
    shift_start: LocalTime
    shift_end: LocalTime
    on_shift: bool
    position_source: Literal["live", "stop", "depot"] = Field(
        description="live: shared GPS; stop: the crew's last reported stop; depot: no report yet."
    )
    position_at: dt.datetime | None
    current_order_id: int | None
    open_orders: int


class CrewFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict[str, Any]
    properties: CrewProperties


class CrewCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[CrewFeature]


class HelpRequest(BaseModel):
    note: Text | None = Field(default=None, max_length=2000)
    request_id: Text | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Chosen by the client; a retry with the same id records one request.",
    )


class HelpRead(BaseModel):
    work_order_id: int
    crew_id: int | None
    note: str | None
    request_id: str | None
    recorded: bool = Field(description="False when this request id was already recorded.")


# --- plans ----------------------------------------------------------------------------------


class PlanRequest(BaseModel):
    """How long the solver may search; the answer comes about that much later."""

    time_limit_s: float = Field(
        default=5.0, gt=0, le=MAX_TIME_LIMIT_S, description="Solver wall time, seconds."
    )
    seed: int = Field(
        default=0, ge=0, le=INT32_MAX, description="Search seed; same seed, same plan."
    )


class LineString(BaseModel):
    type: Literal["LineString"] = "LineString"
    coordinates: list[list[float]] = Field(description="lon/lat pairs (RFC 7946).")


class PlanPosition(BaseModel):
    lon: float
    lat: float
    source: Literal["live", "depot"]


class ProposedVisit(BaseModel):
    seq: int
    work_order_id: int
    kind: str
    priority: int
    status: str
    frozen: Literal["in_progress", "locked"] | None = Field(
        description="Kept first on its crew by the solver: a visit under way, or locked."
    )
    eta_at: str
    start_at: str
    end_at: str
    travel_s: int
    onsite_due_at: str
    onsite_met: bool
    onsite_late_s: int
    straight_line: bool = Field(description="Travel time estimated without roads.")
    geometry: LineString


class ProposedRoute(BaseModel):
    crew_id: int
    crew: str
    start: PlanPosition
    on_shift: bool
    shift_end_at: str
    travel_s: int
    visits: list[ProposedVisit]


class PlanOrderNote(BaseModel):
    """An order the plan leaves out: dropped by the solver, or excluded before it."""

    work_order_id: int
    priority: int
    reason: str


class PlanSummary(BaseModel):
    orders: int
    crews: int
    served: int
    dropped: int
    dropped_by_priority: dict[str, int]
    onsite_met: int
    onsite_missed: int
    travel_s: int
    straight_line_points: int


class PlanTimings(BaseModel):
    roads: float
    matrix: float
    build: float
    solve: float


class MovedOrder(BaseModel):
    work_order_id: int
    from_crew: str | int
    to_crew: str


class AssignedOrder(BaseModel):
    work_order_id: int
    to_crew: str


class UnassignedOrder(BaseModel):
    work_order_id: int
    from_crew: str | int


class EtaChange(BaseModel):
    work_order_id: int
    from_at: str = Field(alias="from")
    to_at: str = Field(alias="to")
    delta_s: int


class PlanDiff(BaseModel):
    """What applying the plan would change against the current assignments."""

    moved: list[MovedOrder]
    assigned: list[AssignedOrder]
    unassigned: list[UnassignedOrder]
    eta_changes: list[EtaChange]


class StraightLinePoint(BaseModel):
    location: str
    issue: str


class PlanRead(BaseModel):
    """A stored proposal: routes with ETAs and deadlines, drops with reasons, the diff, and
    the plan's fate (``proposed``, ``applied``, ``superseded``, ``conflict``)."""

    now: str
    based_on_version: int
    summary: PlanSummary
    timings_s: PlanTimings
    routes: list[ProposedRoute]
    dropped: list[PlanOrderNote]
    excluded: list[PlanOrderNote]
    diff: PlanDiff
    straight_line: list[StraightLinePoint]
    notes: list[str]
    check: list[str] = Field(description="Violations found by the plan checker; empty is good.")
    id: int
    status: str
    created_at: str
    created_by: str
    solve_s: float
    applied_at: str | None
    applied_by: str | None


class SkippedOrder(BaseModel):
    work_order_id: int
    reason: str


class ApplyRead(BaseModel):
    plan_id: int
    status: Literal["applied"] = "applied"
    version: int = Field(description="The dispatch version after applying.")
    changed: list[int]
    unassigned: list[int]
    skipped: list[SkippedOrder]


class CurrentVisit(BaseModel):
    seq: int | None
    work_order_id: int
    priority: int
    status: str
    locked: bool
    eta_at: str | None
    onsite_due_at: str
    onsite_met: bool | None
    geometry: LineString


class CurrentRoute(BaseModel):
    crew_id: int
    crew: str
    status: str
    on_shift: bool
    position: PlanPosition
    visits: list[CurrentVisit]


class CurrentRoutesRead(BaseModel):
    """The routes crews are on now; ``replan_suggested`` when priority-1 orders wait."""

    now: str
    version: int
    plan_id: int | None = Field(description="The plan applied last, if any.")
    routes: list[CurrentRoute]
    unassigned_priority_1: list[int]
    replan_suggested: bool


SearchKind = Literal["outage", "device", "crew", "address", "account", "phone"]


class SearchHit(BaseModel):
    """One thing the console's search box names, with where to show it on the map."""

    kind: SearchKind
    id: int
    label: str
    detail: str
    lon: float | None
    lat: float | None
    outage_id: int | None = Field(
        default=None, description="The active outage it is in or on, to open in the console."
    )
