"""Customer status lookup by address, point or account (no personal data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from dispatch.public_status import public_status
from geo.models import User
from geo.types import Text
from outages.schemas import StatusAnswer, Where
from web.deps import NowDep, ReadSessionDep, SettingsDep, lenient_reader

router = APIRouter(prefix="/api/v1", tags=["status"])
# Who may learn where an account lives (its address and point): the hotline and its heads.
PLACE_ROLES = ("agent", "supervisor", "admin")


@router.get("/status", response_model=StatusAnswer)
def status(
    session: ReadSessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: Annotated[User | None, Depends(lenient_reader)],
    address: Annotated[Text | None, Query(min_length=1, max_length=300)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    account: Annotated[Text | None, Query(min_length=1, max_length=32)] = None,
) -> StatusAnswer:
    """Power status at an address, point or account, with the crew's stage and an ETR range."""
    where = Where(address=address, lon=lon, lat=lat, account=account)
    staff = user is not None and user.role in PLACE_ROLES
    return public_status(session=session, where=where, settings=settings, now=now, staff=staff)
