"""Pydantic shapes of what geo/ returns to the outside (no PII in any of them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class GeocodeMatch(BaseModel):
    """One ranked candidate premise for an address query."""

    premise_id: int
    address: str
    lon: float
    lat: float
    score: float = Field(ge=0, le=1)
    method: Literal["exact", "fuzzy"]


class GeocodeResult(BaseModel):
    query: str
    matches: list[GeocodeMatch]
    hint: str | None = None


class NamedRef(BaseModel):
    id: int
    code: str
    name: str


class NearestPremise(BaseModel):
    premise_id: int
    address: str
    distance_m: float


class Location(BaseModel):
    """Where a point falls in the territory."""

    lon: float
    lat: float
    region: NamedRef
    feeder: NamedRef
    nearest_premise: NearestPremise | None = None


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: str
    expires_in_s: int


class UserRead(BaseModel):
    id: int
    username: str
    role: str
    crew_id: int | None = None
