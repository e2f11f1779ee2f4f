"""Pydantic shapes of the public outage map: what anyone may read, nothing about a customer.

Outage and planned areas are GeoJSON Features (RFC 7946, lon/lat) whose geometry is the
generalized area of ``outages.public_map``; no premise, caller, crew or device identity.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

CrewStage = Literal["waiting", "assigned", "en_route", "on_site"]


class PublicOutageProps(BaseModel):
    """One current outage: how many are out, since when, the crew's stage and the ETR range."""

    outage_id: int
    status: Literal["investigating", "confirmed"]
    region: str | None
    region_name: str | None
    customers_out: int
    cause: str | None
    started_at: dt.datetime
    crew_stage: CrewStage
    etr_earliest: dt.datetime | None
    etr_latest: dt.datetime | None
    etr_overdue: bool
    updated_at: dt.datetime


class PublicOutageFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] | None
    properties: PublicOutageProps


class PublicPlannedProps(BaseModel):
    """Planned work of the coming week; ``reason_texts`` has 'en' and, when known, 'zh-CN'."""

    planned_outage_id: int
    reason: str
    reason_texts: dict[str, str]
    starts_at: dt.datetime
    ends_at: dt.datetime
    active_now: bool
    customers_affected: int


class PublicPlannedFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] | None
    properties: PublicPlannedProps


class PublicRegion(BaseModel):
    """One supply region's line of the summary table."""

    code: str
    name: str
    customers_served: int
    customers_out: int
    percent_out: float = Field(description="Customers out / served x 100, one decimal.")
    outages: int
    updated_at: dt.datetime | None = Field(
        description="The latest change to an outage in the region (none: nothing recent)."
    )


class PublicTotals(BaseModel):
    customers_served: int
    customers_out: int
    percent_out: float
    outages: int


class PublicOutageMap(BaseModel):
    """Everything the public map shows, as of ``generated_at``."""

    generated_at: dt.datetime
    time_zone: str
    refresh_s: int
    cell_m: float = Field(description="The grid cell areas are drawn on (metres).")
    bbox: tuple[float, float, float, float] = Field(
        description="The territory's extent: west, south, east, north (degrees)."
    )
    totals: PublicTotals
    regions: list[PublicRegion]
    outages: list[PublicOutageFeature]
    planned: list[PublicPlannedFeature]
