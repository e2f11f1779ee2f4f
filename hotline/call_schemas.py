"""Pydantic shapes of calls, the CTI integration, caller cards, storm mode and the IVR."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from geo.types import BigId, Id, Moment, Text

CallChannel = Literal["phone", "web", "app", "sms", "walk_in"]
CallStatus = Literal["ringing", "answered", "ended", "wrapped", "abandoned"]
Disposition = Literal["fault_report", "outage_answered", "ticket", "kb_answered", "abandoned"]
CallAction = Literal["answer", "hang_up", "abandon", "wrap_up"]


class CallCreate(BaseModel):
    """A call rings (from the CTI), or an agent records a contact on another channel."""

    channel: CallChannel = "phone"
    caller_number: Text | None = Field(
        default=None, min_length=1, max_length=40, description="The calling line (none: withheld)."
    )
    caller_account: Text | None = Field(default=None, min_length=1, max_length=32)
    external_id: Text | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The CTI's own call id: ringing it again answers the call already stored.",
    )
    region_code: Text | None = Field(default=None, min_length=1, max_length=64)
    at: Moment | None = Field(default=None, description="When it rang; default now.")


class CallUpdate(BaseModel):
    """One step of a call: ``answer``, ``hang_up``, ``abandon`` or ``wrap_up``."""

    action: CallAction
    at: Moment | None = Field(default=None, description="When it happened; default now.")
    agent: Text | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Username of the agent who answered (the CTI names one; an agent is itself).",
    )
    disposition: Disposition | None = None
    notes: Text | None = Field(default=None, max_length=4000)
    report_id: BigId | None = None
    ticket_id: Id | None = None
    outage_id: Id | None = None
    planned_outage_id: Id | None = None
    premise_id: Id | None = Field(default=None, description="The premise the call was about.")


class CallRead(BaseModel):
    id: int
    external_id: str | None
    channel: str
    status: str
    caller_number: str | None
    caller_account: str | None
    premise_id: int | None
    region: str | None
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    wrapped_at: dt.datetime | None
    queue_wait_s: int | None
    talk_s: int | None
    answered_by: str | None
    agent: str | None
    disposition: str | None
    report_id: int | None
    ticket_id: int | None
    outage_id: int | None
    planned_outage_id: int | None
    notes: str | None
    allowed_actions: list[str]


class CallStats(BaseModel):
    """Calls in a period and the share answered without an agent (storm mode's saving)."""

    since: dt.datetime
    until: dt.datetime
    region: str | None
    calls: int
    abandoned: int
    answered_by_agent: int
    answered_without_agent: int
    unfinished: int
    without_agent_share: float | None = Field(
        description="answered_without_agent / (answered_by_agent + answered_without_agent)."
    )
    by_disposition: dict[str, int]
    mean_queue_wait_s: float | None


class Script(BaseModel):
    """What the agent (or the IVR) says, in both languages."""

    kind: Literal["outage", "planned", "planned_soon"]
    en: str
    zh: str


class CrewState(BaseModel):
    crew: str | None
    status: str
    eta_at: dt.datetime | None
    on_site_at: dt.datetime | None


class OutageNow(BaseModel):
    id: int
    status: str
    etr_at: dt.datetime | None
    cause: str | None
    customers_affected: int
    crew: CrewState | None


class PlannedRead(BaseModel):
    id: int
    reason: str
    starts_at: dt.datetime
    ends_at: dt.datetime


class TicketBrief(BaseModel):
    id: int
    number: str
    ticket_type: str
    status: str
    subject: str
    filed_at: dt.datetime


class PremiseCard(BaseModel):
    premise_id: int
    account: str
    address: str
    customer_name: str | None
    phone: str | None
    region: str | None
    region_name: str | None
    feeder: str | None
    critical: str | None
    state: Literal["normal", "outage", "planned", "restored"]
    outage: OutageNow | None
    planned_now: PlannedRead | None
    planned_next_7_days: list[PlannedRead]
    restored_at: dt.datetime | None
    open_tickets: list[TicketBrief]
    script: Script | None


class CallBrief(BaseModel):
    id: int
    channel: str
    status: str
    started_at: dt.datetime
    disposition: str | None
    report_id: int | None
    ticket_id: int | None


class ReportBrief(BaseModel):
    id: int
    received_at: dt.datetime
    channel: str
    category: str
    classification: str
    status: str
    outage_id: int | None


class CallerCard(BaseModel):
    """Who is calling and what is true at their premises now (staff only: PII)."""

    phone: str | None
    account: str | None
    known: bool
    premises: list[PremiseCard]
    script: Script | None = Field(description="The first premise's script, if any.")
    calls: list[CallBrief]
    reports: list[ReportBrief]
    tickets: list[TicketBrief]
    history_days: int


class StormModeSet(BaseModel):
    on: bool
    reason: Text = Field(min_length=1, max_length=500)


class TopOutage(BaseModel):
    outage_id: int | None
    planned_outage_id: int | None
    region: str | None
    feeder: str | None
    customers_affected: int
    etr_at: dt.datetime | None
    calls_last_hour: int
    script: Script


class StormModeRead(BaseModel):
    on: bool
    since: dt.datetime | None
    source: str | None
    region: str | None
    reason: str | None
    actor: str | None
    top_outages: list[TopOutage]
    history: list[dict[str, Any]]


class SelfServiceLookup(BaseModel):
    """What an IVR knows about a caller: the calling number, or an account keyed in."""

    phone: Text | None = Field(
        default=None, min_length=1, max_length=40, description="Any spelling; digits compared."
    )
    account: Text | None = Field(default=None, min_length=1, max_length=32)
    call_id: BigId | None = Field(
        default=None, description="The call the CTI opened; it is closed as answered by IVR."
    )

    @model_validator(mode="after")
    def _one(self) -> SelfServiceLookup:
        if not self.phone and not self.account:
            msg = "give phone (the calling number) or account (keyed in by the caller)"
            raise ValueError(msg)
        return self


class SelfServiceAnswer(BaseModel):
    """What the IVR says: no names, no addresses, no critical flags."""

    answered: bool = Field(description="True when a known or planned outage was announced.")
    state: Literal["outage", "planned", "none", "unknown_caller"]
    etr_at: dt.datetime | None
    message_en: str
    message_zh: str
    call_id: int | None
    storm_mode: bool


class RegionQueue(BaseModel):
    """One region's standing in the call queue, as the region rule saw it."""

    region: str = Field(description="Region code, or 'other' for calls of no known region.")
    waiting: int = Field(description="Calls ringing, not yet answered.")
    busy: int = Field(description="Calls answered and not yet ended (agents talking).")
    answered_recently: int = Field(description="Calls agents answered in the fairness window.")
    nominal_agents: int = Field(description="The region's guaranteed share of the agents.")


OfferReason = Literal["routed_to_you", "below_share", "borrowing", "none_waiting"]


class CallOffer(BaseModel):
    """Which waiting call an agent should take next, and why (``hotline.call_offer``)."""

    call: CallRead | None = Field(description="The call to answer next; null: none waiting.")
    region: str | None
    reason: OfferReason = Field(
        description="routed_to_you: the CTI routed it to you; below_share: its region holds "
        "fewer agents than its guaranteed share; borrowing: every region with calls waiting "
        "holds its share, this one borrows least; none_waiting: nothing rings."
    )
    agents: int = Field(description="The agent capacity the shares divide.")
    queues: list[RegionQueue]
