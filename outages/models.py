"""Reports, outages (unplanned and planned), their affected premises, ETR history, outbox."""

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
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models import SRID, Base, phone_digits_index

CATEGORIES = (
    "no_power",
    "partial_power",
    "flicker",
    "wire_down",
    "pole_damage",
    "fire_smoke",
    "other",
)
CHANNELS = ("web", "phone", "app", "open311", "sms")
CLASSIFICATIONS = ("planned", "known", "duplicate", "new", "unlocated")
LOCATED_BY = ("address", "point", "account", "phone", "unlocated")
OUTAGE_STATUSES = ("suspected", "confirmed", "restored", "closed", "merged")
ACTIVE_OUTAGE_STATUSES = ("suspected", "confirmed")
PLANNED_STATUSES = ("scheduled", "cancelled", "completed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


class Outage(Base):
    """An unplanned outage placed on the device most likely to have operated.

    ``explanation`` keeps why it sits where it does: the reports, the rule and the device,
    so a dispatcher can check the inference rather than trust it.
    """

    __tablename__ = "outage"
    __table_args__ = (
        CheckConstraint(_in("status", OUTAGE_STATUSES), name="outage_status"),
        Index(
            "ix_outage_active_feeder",
            "feeder_id",
            postgresql_where=text("status IN ('suspected', 'confirmed')"),
        ),
        Index("ix_outage_started", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="suspected")
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    feeder_id: Mapped[int] = mapped_column(ForeignKey("feeder.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    cause: Mapped[str | None] = mapped_column(Text)
    hazard: Mapped[bool] = mapped_column(Boolean, default=False)
    customers_affected: Mapped[int] = mapped_column(Integer, default=0)
    critical_affected: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    etr_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    restored_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("outage.id"))
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    updated_at: Mapped[dt.datetime] = _now()
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("GEOMETRY", srid=SRID), nullable=True)


class OutageStep(Base):
    """A restoration step of an outage known by sections, not premises: ``customers`` of
    ``section`` out from ``started_at`` to ``restored_at``.

    The generated history (and an import from an older outage system) has no premise
    records; its steps feed the reliability indices exactly as ``outage_premise`` rows do.
    """

    __tablename__ = "outage_step"
    __table_args__ = (
        CheckConstraint("customers >= 0", name="outage_step_customers"),
        CheckConstraint("restored_at >= started_at", name="outage_step_order"),
        Index("ix_outage_step_outage", "outage_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outage.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(Text)
    customers: Mapped[int] = mapped_column(Integer)
    kva: Mapped[float] = mapped_column(Float)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    restored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class OutagePremise(Base):
    """A premise without power because of an outage; ``restored_at`` allows partial restoration."""

    __tablename__ = "outage_premise"
    __table_args__ = (Index("ix_outage_premise_premise", "premise_id"),)

    outage_id: Mapped[int] = mapped_column(ForeignKey("outage.id"), primary_key=True)
    premise_id: Mapped[int] = mapped_column(ForeignKey("premise.id"), primary_key=True)
    restored_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class EtrChange(Base):
    """Every estimated-restoration-time change of an outage, kept for audit and SLA review."""

    __tablename__ = "etr_change"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    outage_id: Mapped[int] = mapped_column(ForeignKey("outage.id"), index=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    previous_etr_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    etr_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)


class PlannedOutage(Base):
    """Announced maintenance: the window, the reason and the area (feeders, devices, polygon)."""

    __tablename__ = "planned_outage"
    __table_args__ = (
        CheckConstraint(_in("status", PLANNED_STATUSES), name="planned_status"),
        CheckConstraint("ends_at > starts_at", name="planned_window"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    reason: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    feeder_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    device_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    customers_affected: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = _now()
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID), nullable=True
    )


class PlannedOutagePremise(Base):
    __tablename__ = "planned_outage_premise"
    __table_args__ = (Index("ix_planned_outage_premise_premise", "premise_id"),)

    planned_outage_id: Mapped[int] = mapped_column(
        ForeignKey("planned_outage.id", ondelete="CASCADE"), primary_key=True
    )
    premise_id: Mapped[int] = mapped_column(ForeignKey("premise.id"), primary_key=True)


class Report(Base):
    """One customer call or message. Accepted means stored: nothing here is ever deleted.

    Caller phone, account, typed address, free text and the exact point are staff-only;
    the public tracks a report by ``token`` and sees none of them.

    ``answer`` is the response given, replayed verbatim for a retried idempotency key.
    """

    __tablename__ = "report"
    __table_args__ = (
        phone_digits_index("ix_report_phone_digits", "caller_phone"),
        CheckConstraint(_in("category", CATEGORIES), name="report_category"),
        CheckConstraint(_in("channel", CHANNELS), name="report_channel"),
        CheckConstraint(_in("classification", CLASSIFICATIONS), name="report_classification"),
        CheckConstraint(_in("located_by", LOCATED_BY), name="report_located_by"),
        Index("ix_report_premise_received", "premise_id", "received_at"),
        Index("ix_report_phone_received", "caller_phone", "received_at"),
        Index("ix_report_unlocated", "id", postgresql_where=text("located_by = 'unlocated'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    hazard: Mapped[bool] = mapped_column(Boolean, default=False)
    address_text: Mapped[str | None] = mapped_column(Text)
    caller_phone: Mapped[str | None] = mapped_column(String(32))
    caller_account: Mapped[str | None] = mapped_column(String(32))
    located_by: Mapped[str] = mapped_column(String(16))
    premise_id: Mapped[int | None] = mapped_column(ForeignKey("premise.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeder.id"), index=True)
    classification: Mapped[str] = mapped_column(String(16))
    outage_id: Mapped[int | None] = mapped_column(ForeignKey("outage.id"), index=True)
    planned_outage_id: Mapped[int | None] = mapped_column(ForeignKey("planned_outage.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    # The public tracking code (status page, Open311 ``service_request_id``): random, so
    # that no one walks the reports by number; the numeric id is for staff.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    filed_by: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=SRID), nullable=True)


class Notification(Base):
    """Outbox of customer messages; one per premise and event (``event_key``) at most."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("event_key", "premise_id", name="notification_once"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_key: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    premise_id: Mapped[int | None] = mapped_column(ForeignKey("premise.id"))
    recipient: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=3)
    message: Mapped[str] = mapped_column(Text)
    # A server default: the outbox is filled by set-based INSERT ... SELECT statements.
    status: Mapped[str] = mapped_column(String(16), server_default="queued", index=True)
    created_at: Mapped[dt.datetime] = _now()
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
