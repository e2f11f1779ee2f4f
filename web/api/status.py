"""Customer status lookup by address, point or account (no personal data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dispatch.public_view import public_status
from geo.types import Text
from outages.schemas import StatusAnswer, Where
from web.deps import NowDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["status"])


@router.get("/status", response_model=StatusAnswer)
def status(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    address: Annotated[Text | None, Query(min_length=1, max_length=300)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    account: Annotated[Text | None, Query(min_length=1, max_length=32)] = None,
) -> StatusAnswer:
    """Power status at an address, point or account, with the crew's stage and an ETR range."""
    where = Where(address=address, lon=lon, lat=lat, account=account)
    return public_status(session=session, where=where, settings=settings, now=now)
