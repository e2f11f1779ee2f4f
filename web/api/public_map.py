"""The public outage map's data: generalized areas, the region table, the coming week's work."""

from __future__ import annotations

from fastapi import APIRouter

from dispatch.public_view import public_outage_map
from outages.public_schemas import PublicOutageMap
from web.deps import NowDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/public", tags=["public"])


@router.get("/outage-map", response_model=PublicOutageMap)
def outage_map(session: SessionDep, settings: SettingsDep, now: NowDep) -> PublicOutageMap:
    """Current outages as grid-cell areas, customers out by region, ETR ranges, planned work."""
    return public_outage_map(session=session, settings=settings, now=now)
