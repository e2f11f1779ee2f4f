"""The public outage map's data: generalized areas, the region table, the coming week's work.

Every viewer gets the same answer, and during a storm thousands of open maps ask every
minute while one answer costs a few hundred milliseconds of PostGIS on a province
(bench/RESULTS.md). So each worker keeps its last answer for ``public_map_cache_s`` and
serves it again; the answer's ``generated_at`` says how old it is, and the page shows that.
One request computes a missed answer while the others wait for it, rather than all at once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

from fastapi import APIRouter, Request

from dispatch.public_view import public_outage_map
from outages.public_schemas import PublicOutageMap
from web.deps import NowDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/public", tags=["public"])


@dataclass(frozen=True)
class _Cached:
    computed_s: float  # time.monotonic() when computed
    now: dt.datetime  # the app clock it was computed for
    answer: PublicOutageMap


_cache: dict[str, _Cached] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every kept answer (tests that change data under an open page)."""
    with _lock:
        _cache.clear()


def _fresh(cached: _Cached | None, now: dt.datetime, ttl_s: float) -> bool:
    # Both clocks must agree it is recent: a frozen or moved app clock (tests, replays)
    # never gets an answer computed for another moment.
    return (
        cached is not None
        and time.monotonic() - cached.computed_s < ttl_s
        and abs((now - cached.now).total_seconds()) < ttl_s
    )


@router.get("/outage-map", response_model=PublicOutageMap)
def outage_map(
    request: Request, session: SessionDep, settings: SettingsDep, now: NowDep
) -> PublicOutageMap:
    """Current outages as grid-cell areas, customers out by region, ETR ranges, planned work."""
    ttl_s = settings.public_map_cache_s
    if ttl_s <= 0:
        return public_outage_map(session=session, settings=settings, now=now)
    key = str(request.app.state.engine.url)
    with _lock:
        cached = _cache.get(key)
        if _fresh(cached, now, ttl_s):
            assert cached is not None
            return cached.answer
        answer = public_outage_map(session=session, settings=settings, now=now)
        _cache[key] = _Cached(computed_s=time.monotonic(), now=now, answer=answer)
        return answer
