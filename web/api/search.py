"""The console's search box: one query for outages, devices, crews, addresses and callers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from dispatch.schemas import SearchHit
from dispatch.search import MAX_HITS, search_console
from geo.models import User
from geo.types import Text
from web.deps import SessionDep, SettingsDep, require_role

router = APIRouter(prefix="/api/v1", tags=["dispatch"])
# Phone and account hits name a customer's premise: dispatchers and agents only.
Staff = Annotated[User, Depends(require_role("dispatcher", "agent"))]


@router.get("/search", response_model=list[SearchHit])
def search(
    _user: Staff,
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[Text, Query(min_length=1, max_length=200, description="What was typed")],
    limit: Annotated[int, Query(ge=1, le=MAX_HITS)] = MAX_HITS,
) -> list[SearchHit]:
    """Outages, devices, crews, caller phones or accounts, and addresses matching ``q``."""
    return search_console(
        session=session,
        query=q,
        limit=limit,
        min_score=settings.geocode_min_fuzzy_score,
        phone_region=settings.phone_region,
    )
