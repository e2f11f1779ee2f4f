"""Geocoding and locating: address text or a point -> where it is in the territory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from geo.geocoder import geocode
from geo.locator import locate
from geo.schemas import GeocodeResult, Location
from geo.types import Text
from web.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["geo"])
MAX_QUERY_CHARS = 200


@router.get("/geocode", response_model=GeocodeResult)
def geocode_address(
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[Text, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="Address text")],
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
    distinct: Annotated[
        bool, Query(description="One match per address text (the best-ranked premise)")
    ] = False,
) -> GeocodeResult:
    """Ranked premises matching an address (exact, then fuzzy); no personal data."""
    return geocode(
        session=session,
        query=q,
        limit=limit,
        min_score=settings.geocode_min_fuzzy_score,
        distinct=distinct,
    )


@router.get("/locate", response_model=Location)
def locate_point(
    session: SessionDep,
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
) -> Location:
    """Region and feeder covering a point, with the nearest premise."""
    return locate(session=session, lon=lon, lat=lat)
