"""Pydantic shapes of intake: what callers send and what they are answered."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from geo.types import GeoJSONArea, IdempotencyKeyText, Moment, Text

Category = Literal[
    "no_power", "partial_power", "flicker", "wire_down", "pole_damage", "fire_smoke", "other"
]
Channel = Literal["web", "phone", "app", "open311", "sms"]
Classification = Literal["planned", "known", "duplicate", "new", "unlocated"]
MAX_DESCRIPTION_CHARS = 2000


class Where(BaseModel):
    """Where a caller is: one of address, point (lon and lat), account or phone."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    address: Text | None = Field(default=None, min_length=1, max_length=300)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    account: Text | None = Field(default=None, min_length=1, max_length=32)
    phone: Text | None = Field(
        default=None, min_length=3, max_length=32, pattern=r"^\+?[0-9 ()-]+$"
    )

    @field_validator("lon", "lat")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            msg = "coordinates must be finite numbers"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _where(self) -> Where:
        if (self.lon is None) != (self.lat is None):
            msg = "give both lon and lat, or neither"
            raise ValueError(msg)
        if not (self.address or self.lon is not None or self.account or self.phone):
            msg = "say where: give an address, lon and lat, an account number, or a phone number"
            raise ValueError(msg)
        return self


class ReportCreate(Where):
    """A fault report: where (one of address, point, account, phone) and what."""

    category: Category
    description: Text | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    channel: Channel = "web"
    allow_unlocated: bool = Field(
        default=False,
        description="Agents only: store an address that matches no premise in the queue.",
    )


MAX_BATCH_REPORTS = 10_000


class BatchReport(ReportCreate):
    """One report of a batch: a report as for ``POST /api/v1/reports``, with its own key."""

    idempotency_key: IdempotencyKeyText | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Retries with the same key return the first answer and store one report.",
    )


class ReportBatch(BaseModel):
    """Reports from a gateway (IVR, SMS), answered in order as if filed one by one."""

    model_config = ConfigDict(extra="forbid")

    reports: list[BatchReport] = Field(min_length=1, max_length=MAX_BATCH_REPORTS)


class BatchItemError(BaseModel):
    """A batch report that could not be located: not stored; fix it and send it again."""

    index: int
    status_code: int
    error: str
    detail: str
    suggestions: list[dict[str, Any]] = Field(default_factory=list)


class ReportAnswer(BaseModel):
    """What the caller is told, immediately, and again on a retried idempotency key."""

    id: int
    token: str = Field(
        description="The tracking code: GET /api/v1/reports/track/{token} (the number is "
        "for staff)."
    )
    classification: Classification
    outage_id: int | None = None
    planned_outage_id: int | None = None
    duplicate_of: int | None = None
    region: str | None = None
    feeder: str | None = None
    etr: dt.datetime | None = None
    hazard: bool = False
    received_at: dt.datetime
    message: str


class ReportRead(BaseModel):
    """A report as its filer tracks it (no personal data; the public view has no address)."""

    id: int
    token: str
    received_at: dt.datetime
    channel: str
    category: str
    status: str
    classification: str
    hazard: bool
    located_by: str
    address: str | None
    region: str | None
    feeder: str | None
    outage_id: int | None
    outage_status: str | None
    etr: dt.datetime | None
    message: str


class EtrConflict(BaseModel):
    """A dispatcher's ETR that customers are not told, because the crew cannot make it."""

    dispatcher_etr: dt.datetime
    told_etr: dt.datetime
    reason: str


class OutageRead(BaseModel):
    id: int
    status: str
    device: str
    device_kind: str
    feeder: str
    region: str | None
    cause: str | None
    hazard: bool
    customers_affected: int
    customers_restored: int
    critical_affected: int | None = Field(description="Staff only (null for the public).")
    started_at: dt.datetime
    etr: dt.datetime | None
    confirmed_at: dt.datetime | None
    restored_at: dt.datetime | None
    report_count: int
    merged_into: int | None
    explanation: dict[str, Any]
    etr_conflict: EtrConflict | None = Field(
        default=None,
        description="Set when the last ETR a dispatcher gave is not the one customers are "
        "told (a later crew arrival replaced it); both are in the ETR history.",
    )


class EtrChangeRead(BaseModel):
    changed_at: dt.datetime
    previous_etr: dt.datetime | None
    etr: dt.datetime
    source: str
    reason: str | None = Field(description="Staff only: free text (null for the public).")
    actor: str | None = Field(description="Staff only (null for the public).")


class OutageCreate(BaseModel):
    """A dispatcher opening an outage by hand on a device (e.g. from SCADA)."""

    model_config = ConfigDict(extra="forbid")

    device: Text = Field(min_length=1, max_length=64, description="Device code")
    cause: Text | None = Field(default=None, max_length=64)
    confirmed: bool = True


class OutageUpdate(BaseModel):
    """A lifecycle step or ETR change by a dispatcher."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["confirm", "restore", "close", "set_etr", "set_cause"]
    device: Text | None = Field(
        default=None, max_length=64, description="For restore: the device restored"
    )
    etr: Moment | None = None
    cause: Text | None = Field(default=None, max_length=64)
    reason: Text = Field(default="", max_length=500)
    made_safe: bool = Field(
        default=False, description="For restore: the open make-safe tasks are made safe."
    )
    override_reason: Text | None = Field(
        default=None,
        max_length=500,
        description="For restore: restore although make-safe tasks are open (they move on to "
        "a make-safe order of their own).",
    )


class PlannedOutageCreate(BaseModel):
    """Announced work: the window, the reason and the area (feeders, devices or polygon)."""

    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=3, max_length=500)
    starts_at: Moment
    ends_at: Moment
    feeders: list[Annotated[Text, Field(max_length=64)]] = Field(
        default_factory=list, max_length=200
    )
    devices: list[Annotated[Text, Field(max_length=64)]] = Field(
        default_factory=list, max_length=500
    )
    area: GeoJSONArea | None = Field(default=None, description="GeoJSON Polygon/MultiPolygon")

    @model_validator(mode="after")
    def _window_and_area(self) -> PlannedOutageCreate:
        if self.ends_at <= self.starts_at:
            msg = "ends_at must be after starts_at"
            raise ValueError(msg)
        if not (self.feeders or self.devices or self.area):
            msg = "say which area: give feeders, devices or an area polygon"
            raise ValueError(msg)
        return self


class PlannedOutageUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text | None = Field(default=None, min_length=3, max_length=500)
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    status: Literal["cancelled", "completed"] | None = None


class CriticalCustomer(BaseModel):
    premise_id: int
    address: str
    critical: str


class PlannedOutageRead(BaseModel):
    id: int
    status: str
    reason: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    feeders: list[str]
    devices: list[str]
    customers_affected: int
    critical_customers: list[CriticalCustomer]
    warnings: list[str] = Field(default_factory=list)


class StatusAnswer(BaseModel):
    """Power status of one premise as a customer may see it (no personal data)."""

    state: Literal["normal", "outage", "planned", "restored"]
    address: str | None
    premise_id: int | None
    message: str
    outage_id: int | None = None
    etr: dt.datetime | None = None
    cause: str | None = None
    customers_affected: int | None = None
    planned_outage_id: int | None = None
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    reason: str | None = None
    restored_at: dt.datetime | None = None
    upcoming_planned: list[dict[str, Any]] = Field(default_factory=list)
    lon: float | None = None
    lat: float | None = None
    reason_texts: dict[str, str] | None = Field(
        default=None, description="The planned reason in 'en' and, when known, 'zh-CN'."
    )
    known_outage: bool = Field(
        default=False, description="We know this premise is off: no need to report it."
    )
    crew_stage: Literal["waiting", "assigned", "en_route", "on_site"] | None = Field(
        default=None, description="How far the crew on the outage has got (no crew identity)."
    )
    etr_earliest: dt.datetime | None = Field(
        default=None, description="The ETR range (outages.etr_range): at the earliest..."
    )
    etr_latest: dt.datetime | None = Field(default=None, description="...and at the latest.")
    etr_overdue: bool = Field(default=False, description="The point ETR has already passed.")
    checked_at: dt.datetime | None = Field(default=None, description="When this was looked up.")
