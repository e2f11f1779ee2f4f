"""Pydantic shapes of the service centre's API: tickets, departments, routes, knowledge base."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from geo.types import Id, Text

TicketType = Literal["consultation", "complaint", "report", "suggestion", "service_request"]
TicketClass = Literal[
    "service",
    "business",
    "outage_restoration",
    "power_quality",
    "grid_construction",
    "misconduct",
    "power_theft",
]
TicketStatus = Literal[
    "review", "with_department", "waiting_customer", "replied", "answered", "closed"
]
Channel = Literal["phone", "web", "app", "sms", "walk_in"]
Satisfaction = Literal["very_satisfied", "satisfied", "neutral", "dissatisfied", "unreachable"]
Language = Literal["zh", "en"]
Audience = Literal["public", "internal"]
Code = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class TicketCreate(BaseModel):
    """A new ticket; its department comes from the routing table (supervisors may name one)."""

    ticket_type: TicketType
    ticket_class: TicketClass | None = Field(
        default=None, description="Required for complaints and reports, absent otherwise."
    )
    channel: Channel = "phone"
    subject: Text = Field(min_length=1, max_length=200)
    description: Text = Field(min_length=1, max_length=5000)
    caller_name: Text | None = Field(default=None, max_length=200)
    caller_phone: Text | None = Field(default=None, max_length=32)
    caller_account: Text | None = Field(default=None, max_length=32)
    premise_id: Id | None = None
    region_code: Text | None = Field(default=None, max_length=64)
    accused_department_code: Text | None = Field(
        default=None, max_length=64, description="For complaints: the department complained of."
    )
    department_code: Text | None = Field(
        default=None, max_length=64, description="Override the routing table (supervisors)."
    )
    article_ids: list[Id] = Field(default_factory=list, max_length=20)


class TextBody(BaseModel):
    body: Text = Field(min_length=1, max_length=5000)


class AnswerBody(TextBody):
    article_ids: list[Id] = Field(default_factory=list, max_length=20)


class ReasonBody(BaseModel):
    reason: Text = Field(min_length=1, max_length=2000)


class ContactBody(BaseModel):
    note: Text | None = Field(default=None, max_length=2000)


class ReviewBody(BaseModel):
    """A supervisor's review of a complaint: pass it on (optionally to another department)."""

    department_code: Text | None = Field(default=None, max_length=64)
    note: Text = Field(min_length=1, max_length=2000)


class RouteBody(BaseModel):
    department_code: Text = Field(min_length=1, max_length=64)
    reason: Text = Field(min_length=1, max_length=2000)


class ReturnVisitBody(BaseModel):
    satisfaction: Satisfaction
    note: Text | None = Field(default=None, max_length=2000)


class ArticleLink(BaseModel):
    article_id: Id


class ClockRead(BaseModel):
    """Both clocks at ``now``; working days of 24 working hours."""

    now: dt.datetime
    round: int
    contact_due_at: dt.datetime | None
    contacted_at: dt.datetime | None
    contact_overdue: bool
    answer_due_at: dt.datetime | None = Field(description="None while paused or answered.")
    answer_allowance_working_days: float
    answer_used_working_days: float
    answer_remaining_working_days: float
    running: bool
    paused_since: dt.datetime | None
    answered_at: dt.datetime | None
    answered_late: bool
    overdue: bool
    answer_level: int = Field(description="0 on time, 1 due soon, 2 overdue.")
    contact_level: int = Field(description="1 when the contact deadline passed uncontacted.")
    calendar_note: str | None = Field(
        description="Set when a year of the clock is not covered by any holiday calendar."
    )


class MessageRead(BaseModel):
    kind: str
    author: str
    department_code: str | None
    body: str
    created_at: dt.datetime


class StepRead(BaseModel):
    at: dt.datetime
    action: str
    actor: str
    detail: dict[str, Any]


class TicketSummary(BaseModel):
    id: int
    number: str
    ticket_type: TicketType
    ticket_class: TicketClass | None
    status: TicketStatus
    subject: str
    department_code: str
    filed_at: dt.datetime
    updated_at: dt.datetime
    clock: ClockRead


class TicketRead(TicketSummary):
    channel: Channel
    description: str
    caller_name: str | None
    caller_phone: str | None
    caller_account: str | None
    premise_id: int | None
    region_code: str | None
    department_name: str
    accused_department_code: str | None
    reviewed_at: dt.datetime | None
    reviewed_by: str | None
    filed_by: str
    closed_at: dt.datetime | None
    satisfaction: Satisfaction | None
    reopen_until: dt.datetime | None
    article_ids: list[int]
    messages: list[MessageRead]
    trail: list[StepRead]


class TicketFiled(TicketRead):
    tracking_token: str = Field(description="Given out once: only its hash is stored.")


class TrackStep(BaseModel):
    at: dt.datetime
    step: str


class TrackRead(BaseModel):
    """What a customer sees with the tracking token: no names, numbers or texts."""

    number: str
    ticket_type: TicketType
    status: str
    status_en: str
    status_zh: str
    filed_at: dt.datetime
    answer_due_at: dt.datetime | None
    answered_at: dt.datetime | None
    closed_at: dt.datetime | None
    reopen_until: dt.datetime | None
    steps: list[TrackStep]


class UrgeRead(BaseModel):
    ticket_id: int
    clock: Literal["contact", "answer"]
    level: int
    round: int
    reason: str
    recipients: list[str]


class DepartmentCreate(BaseModel):
    code: Text = Code
    name: Text = Field(min_length=1, max_length=200)
    name_zh: Text | None = Field(default=None, max_length=200)
    region_code: Text | None = Field(default=None, max_length=64)
    head_username: Text | None = Field(default=None, max_length=64)


class DepartmentRead(BaseModel):
    id: int
    code: str
    name: str
    name_zh: str | None
    region_code: str | None
    head_username: str | None
    members: list[str]


class MemberSet(BaseModel):
    username: Text = Field(min_length=1, max_length=64)


class RouteSet(BaseModel):
    ticket_type: TicketType
    ticket_class: TicketClass | None = None
    region_code: Text | None = Field(default=None, max_length=64)
    department_code: Text = Field(min_length=1, max_length=64)


class RouteRead(BaseModel):
    id: int
    ticket_type: str
    ticket_class: str | None
    region_code: str | None
    department_code: str


class CategoryCreate(BaseModel):
    code: Text = Code
    name_en: Text = Field(min_length=1, max_length=200)
    name_zh: Text = Field(min_length=1, max_length=200)


class CategoryRead(CategoryCreate):
    id: int


class VersionCreate(BaseModel):
    title: Text = Field(min_length=1, max_length=300)
    body: Text = Field(min_length=1, max_length=50_000)


class ArticleCreate(VersionCreate):
    slug: Text = Field(min_length=1, max_length=96, pattern=r"^[a-z0-9][a-z0-9-]*$")
    language: Language
    category_code: Text = Field(min_length=1, max_length=64)
    audience: Audience = "internal"
    publish: bool = Field(default=False, description="Publish the first version at once.")


class VersionRead(BaseModel):
    number: int
    status: str
    title: str
    body: str
    created_by: str
    created_at: dt.datetime
    published_at: dt.datetime | None
    published_by: str | None


class ArticleRead(BaseModel):
    id: int
    slug: str
    language: Language
    audience: Audience
    category_code: str
    category_en: str
    category_zh: str
    published: VersionRead | None
    versions: list[VersionRead] = Field(
        default_factory=list, description="Every version, for staff only."
    )
    translations: dict[str, int] = Field(
        default_factory=dict, description="Article ids of the same slug in other languages."
    )


class SearchHit(BaseModel):
    article_id: int
    slug: str
    language: Language
    audience: Audience
    category_code: str
    title: str
    snippet: str
    score: float
    text_rank: float
    trigram: float


class SearchResult(BaseModel):
    query: str
    words: list[str] = Field(description="The query as segmented (jieba).")
    hits: list[SearchHit]
