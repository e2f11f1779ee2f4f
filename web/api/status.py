"""Customer status lookup by address, point or account (no personal data).

A lookup by account is answered from the worker's status memory when it is live
(``dispatch.status_memory``: no database, no thread), else, and for addresses and points,
by the one statement of ``dispatch.public_status`` in the thread pool. Both give the same
answer; the route is async so that the memory path costs no thread hop at all.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from dispatch.public_status import public_status
from geo.models import User
from geo.types import Text
from outages.schemas import StatusAnswer, Where
from web.deps import NowDep, ReadSessionDep, SettingsDep, lenient_reader
from web.status_index import status_memory_of

router = APIRouter(prefix="/api/v1", tags=["status"])
# Who may learn where an account lives (its address and point): the hotline and its heads.
PLACE_ROLES = ("agent", "supervisor", "admin")


@router.get("/status", response_model=StatusAnswer)
async def status(
    request: Request,
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
    memory = status_memory_of(request)
    if memory is not None and where.account:
        answer = memory.answer(where.account, settings=settings, now=now, staff=staff)
        if answer is not None:
            return answer
    return await run_in_threadpool(
        public_status, session=session, where=where, settings=settings, now=now, staff=staff
    )
