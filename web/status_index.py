"""The worker's status memory (``dispatch.status_memory``), started with the app.

Built in the lifespan when ``status_memory`` is on: it loads in a thread of its own, so
a worker starts serving at once and answers status lookups from the database until the
memory is live (and again whenever its listener is disconnected).
"""

from __future__ import annotations

from fastapi import Request

from dispatch.status_memory import StatusMemory
from web.settings import Settings


def start_status_memory(settings: Settings, conninfo: str) -> StatusMemory | None:
    if not settings.status_memory:
        return None
    memory = StatusMemory(
        conninfo,
        history_h=settings.status_memory_history_h,
        min_interval_s=settings.status_memory_min_interval_s,
    )
    memory.start()
    return memory


def status_memory_of(request: Request) -> StatusMemory | None:
    memory: StatusMemory | None = getattr(request.app.state, "status_memory", None)
    return memory
