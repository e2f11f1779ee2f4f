"""Tables of the service centre: departments and their routing table, tickets, knowledge base.

A ticket's clocks are not columns: they are replayed from its events in the audit log
(``event`` rows with ``object_type = 'ticket'``, see ``hotline.clocks``). Its status is a
column (the state it is in), its text exchanges are ``ticket_message`` rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from geo.models import Base, phone_digits_index

TICKET_TYPES = ("consultation", "complaint", "report", "suggestion", "service_request")
COMPLAINT_CLASSES = (
    "service",
    "business",
    "outage_restoration",
    "power_quality",
    "grid_construction",
)
REPORT_CLASSES = ("misconduct", "power_theft")
CLASSES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "complaint": COMPLAINT_CLASSES,
    "report": REPORT_CLASSES,
}
# review: a complaint waits for a supervisor before any department sees it.
TICKET_STATUSES = ("review", "with_department", "waiting_customer", "replied", "answered", "closed")
OPEN_STATUSES = ("review", "with_department", "waiting_customer", "replied")
TICKET_CHANNELS = ("phone", "web", "app", "sms", "walk_in")
SATISFACTIONS = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "unreachable")
MESSAGE_KINDS = ("reply", "answer", "return_visit", "review", "pause", "reopen", "note", "route")
KB_LANGUAGES = ("zh", "en")
KB_AUDIENCES = ("public", "internal")
KB_VERSION_STATUSES = ("draft", "published", "retired")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _now() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


_CLASS_FITS_TYPE = (
    f"(ticket_type = 'complaint' AND {_in('ticket_class', COMPLAINT_CLASSES)}) OR "
    f"(ticket_type = 'report' AND {_in('ticket_class', REPORT_CLASSES)}) OR "
    "(ticket_type NOT IN ('complaint', 'report') AND ticket_class IS NULL)"
)


class Department(Base):
    """A group of users with its own ticket queue (a region's service team, metering ...).

    ``head_user_id`` receives the urging (催办) of the department's late tickets.
    """

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    name_zh: Mapped[str | None] = mapped_column(Text)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    head_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class DepartmentMember(Base):
    """A user's department: at most one per user (the user is the key).

    A table here rather than a column on ``user_account``: ``geo`` must not point at a
    hotline table (a flush of users in a process that never imported ``hotline`` would fail
    to resolve the key), and a user without a department simply has no row.
    """

    __tablename__ = "department_member"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)


class TicketRoute(Base):
    """One row of the routing table: tickets of a type (and class) in a region go to a
    department. NULL class or region means any; the most specific row wins."""

    __tablename__ = "ticket_route"
    __table_args__ = (
        UniqueConstraint(
            "ticket_type",
            "ticket_class",
            "region_id",
            name="ticket_route_once",
            postgresql_nulls_not_distinct=True,
        ),
        CheckConstraint(_in("ticket_type", TICKET_TYPES), name="ticket_route_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_type: Mapped[str] = mapped_column(String(24))
    ticket_class: Mapped[str | None] = mapped_column(String(32))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))


class Ticket(Base):
    """A consultation, complaint, report, suggestion or service request.

    Caller name, phone and account are PII: the public tracking answer never shows them.
    Only a SHA-256 of the tracking token is stored; the token itself is given out once.
    """

    __tablename__ = "ticket"
    __table_args__ = (
        phone_digits_index("ix_ticket_phone_digits", "caller_phone"),
        CheckConstraint(_in("ticket_type", TICKET_TYPES), name="ticket_type"),
        CheckConstraint(_CLASS_FITS_TYPE, name="ticket_class_fits_type"),
        CheckConstraint(_in("status", TICKET_STATUSES), name="ticket_status"),
        CheckConstraint(_in("channel", TICKET_CHANNELS), name="ticket_channel"),
        CheckConstraint(
            f"satisfaction IS NULL OR {_in('satisfaction', SATISFACTIONS)}",
            name="ticket_satisfaction",
        ),
        Index("ix_ticket_department_status", "department_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_type: Mapped[str] = mapped_column(String(24))
    ticket_class: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    caller_name: Mapped[str | None] = mapped_column(Text)
    caller_phone: Mapped[str | None] = mapped_column(String(32), index=True)
    caller_account: Mapped[str | None] = mapped_column(String(32))
    # Indexed: the caller card reads a premise's tickets on every call.
    premise_id: Mapped[int | None] = mapped_column(ForeignKey("premise.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    accused_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    filed_by: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class TicketMessage(Base):
    """A text of the exchange: a department's reply, the answer to the customer, the return
    visit's note, a supervisor's review, a reason to pause or reopen."""

    __tablename__ = "ticket_message"
    __table_args__ = (CheckConstraint(_in("kind", MESSAGE_KINDS), name="ticket_message_kind"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class TicketArticle(Base):
    """A knowledge-base article used on a ticket (the answer came from it)."""

    __tablename__ = "ticket_article"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_article.id"), primary_key=True, index=True
    )
    linked_by: Mapped[str] = mapped_column(Text)
    linked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class KbCategory(Base):
    __tablename__ = "kb_category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(Text)
    name_zh: Mapped[str] = mapped_column(Text)


class KbArticle(Base):
    """An article in one language; its translation shares the ``slug``. Its text lives in
    versions: drafts, the one published version, retired ones."""

    __tablename__ = "kb_article"
    __table_args__ = (
        UniqueConstraint("slug", "language", name="kb_article_slug_language"),
        CheckConstraint(_in("language", KB_LANGUAGES), name="kb_article_language"),
        CheckConstraint(_in("audience", KB_AUDIENCES), name="kb_article_audience"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(96))
    language: Mapped[str] = mapped_column(String(2))
    category_id: Mapped[int] = mapped_column(ForeignKey("kb_category.id"))
    audience: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()


class KbTerm(Base):
    """The Latin words of the knowledge base: pg_trgm corrects a query's typos against them
    (a small table, so a nearest-neighbour lookup per query word is cheap)."""

    __tablename__ = "kb_term"
    __table_args__ = (
        Index(
            "ix_kb_term_trgm",
            "term",
            postgresql_using="gist",
            postgresql_ops={"term": "gist_trgm_ops"},
        ),
    )

    term: Mapped[str] = mapped_column(Text, primary_key=True)


class KbArticleVersion(Base):
    """One version of an article's text with its search columns.

    ``search_tsv``: jieba-segmented title (weight A) and body (B) plus single Han characters
    of the title (C) and body (D) in a ``simple`` tsvector; ``title_tsv``: the title's part
    alone (a small index for words common in bodies); ``search_text``: the Latin side of
    title and body, case-folded, for pg_trgm (see ``hotline.segment``).
    At most one version per article is published (a partial unique index).
    """

    __tablename__ = "kb_article_version"
    __table_args__ = (
        UniqueConstraint("article_id", "number", name="kb_article_version_number"),
        CheckConstraint(_in("status", KB_VERSION_STATUSES), name="kb_article_version_status"),
        Index(
            "ix_kb_article_version_published",
            "article_id",
            unique=True,
            postgresql_where=text("status = 'published'"),
        ),
        Index("ix_kb_article_version_tsv", "search_tsv", postgresql_using="gin"),
        Index("ix_kb_article_version_title_tsv", "title_tsv", postgresql_using="gin"),
        Index(
            "ix_kb_article_version_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    search_tsv: Mapped[str] = mapped_column(TSVECTOR)
    title_tsv: Mapped[str] = mapped_column(TSVECTOR)
    search_text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(Text)


CALL_CHANNELS = TICKET_CHANNELS
# ringing: in the queue; answered: an agent (or the IVR) has it; ended: hung up, not yet
# wrapped up; wrapped: disposition recorded; abandoned: the caller hung up in the queue.
CALL_STATUSES = ("ringing", "answered", "ended", "wrapped", "abandoned")
DISPOSITIONS = ("fault_report", "outage_answered", "ticket", "kb_answered", "abandoned")
ANSWERED_BY = ("agent", "ivr")


class Call(Base):
    """One contact with the centre: a phone call from the CTI, or a web, app, SMS or walk-in
    contact an agent records. The statistics and staffing plans read these rows.

    ``caller_number`` holds the digits only (``+358 40 000 0001`` is ``358400000001``) so a
    number matches however the telephony system or a premise record spells it.
    ``queue_wait_s`` is set when the call is answered or abandoned. ``answered_by`` is
    ``ivr`` when self-service answered it without an agent (storm mode's saved contacts).
    """

    __tablename__ = "call"
    __table_args__ = (
        CheckConstraint(_in("channel", CALL_CHANNELS), name="call_channel"),
        CheckConstraint(_in("status", CALL_STATUSES), name="call_status"),
        CheckConstraint(
            f"disposition IS NULL OR {_in('disposition', DISPOSITIONS)}", name="call_disposition"
        ),
        CheckConstraint(
            f"answered_by IS NULL OR {_in('answered_by', ANSWERED_BY)}", name="call_answered_by"
        ),
        Index("ix_call_caller_started", "caller_number", "started_at"),
        Index("ix_call_region_started", "region_id", "started_at"),
        Index("ix_call_premise_started", "premise_id", "started_at"),
        Index("ix_call_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    caller_number: Mapped[str | None] = mapped_column(String(20))
    caller_account: Mapped[str | None] = mapped_column(String(32))
    premise_id: Mapped[int | None] = mapped_column(ForeignKey("premise.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    wrapped_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    queue_wait_s: Mapped[int | None] = mapped_column(Integer)
    answered_by: Mapped[str | None] = mapped_column(String(8))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    disposition: Mapped[str | None] = mapped_column(String(24))
    report_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("report.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outage.id"))
    planned_outage_id: Mapped[int | None] = mapped_column(ForeignKey("planned_outage.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)


class StormModeSwitch(Base):
    """Each time storm mode went on or off, by a supervisor or the automatic trigger.

    Append-only: the current state is the latest row (none: off), so the history of who
    switched it and why is the table itself.
    """

    __tablename__ = "storm_mode_switch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    on: Mapped[bool] = mapped_column()
    source: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


WEEK_HALF_HOURS = 336
# "service": Erlang A and the day's targets; "usual": Erlang C per half hour, minimum cover.
ROSTER_METHODS = ("service", "usual")
HALF_HOUR_ARRAYS = (
    "calls_forecast",
    "calls_lo",
    "calls_hi",
    "required_agents",
    "required_agents_no_ivr",
    "rostered_agents",
)


class RosterPlan(Base):
    """A week's roster plan for one region, as ``stormdesk roster plan`` made it.

    Everything per half hour of the week (336 values from the local Monday 00:00 at
    ``starts_at``): the forecast it was planned on (mean and 80 % interval, all calls),
    the agents Erlang C requires for 80/20 on the calls left after the IVR's share
    (``ivr_share``) and without it, and the agents the CP-SAT roster puts on the phones
    (``roster_method``: the service roster or the usual minimum-cover one, whichever was
    leaner among those meeting the targets in simulation).
    Then what simulating the week with ciw said of it (95 % intervals). Kept, not
    overwritten: the latest plan of a week and region is the one in force, the older ones
    say what was planned before.
    """

    __tablename__ = "roster_plan"
    __table_args__ = (
        *(
            CheckConstraint(
                f"cardinality({name}) = {WEEK_HALF_HOURS}", name=f"roster_plan_{name}_week"
            )
            for name in HALF_HOUR_ARRAYS
        ),
        CheckConstraint("ivr_share >= 0 AND ivr_share <= 1", name="roster_plan_ivr_share"),
        CheckConstraint(_in("roster_method", ROSTER_METHODS), name="roster_plan_method"),
        Index("ix_roster_plan_region_week", "region_id", "week_start", "created_at"),
        Index("ix_roster_plan_starts", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    week_start: Mapped[dt.date] = mapped_column(Date)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    forecast_model: Mapped[str] = mapped_column(String(32))
    forecast_origin: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    calls_forecast: Mapped[list[float]] = mapped_column(ARRAY(Float))
    calls_lo: Mapped[list[float]] = mapped_column(ARRAY(Float))
    calls_hi: Mapped[list[float]] = mapped_column(ARRAY(Float))
    ivr_share: Mapped[float] = mapped_column(Float)
    required_agents: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    required_agents_no_ivr: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    rostered_agents: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    shifts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    agent_hours: Mapped[float] = mapped_column(Float)
    usual_agent_hours: Mapped[float] = mapped_column(Float)
    roster_method: Mapped[str] = mapped_column(String(16))
    solver_status: Mapped[str] = mapped_column(String(16))
    aht_s: Mapped[float] = mapped_column(Float)
    patience_s: Mapped[float] = mapped_column(Float)
    service_level: Mapped[float] = mapped_column(Float)
    service_level_low: Mapped[float] = mapped_column(Float)
    service_level_high: Mapped[float] = mapped_column(Float)
    abandon_rate: Mapped[float] = mapped_column(Float)
    abandon_low: Mapped[float] = mapped_column(Float)
    abandon_high: Mapped[float] = mapped_column(Float)
    replications: Mapped[int] = mapped_column(Integer)
    simulated_days: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = _now()
    created_by: Mapped[str] = mapped_column(Text)
