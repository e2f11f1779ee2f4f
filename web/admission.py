"""An admission gate: at most ``limit`` requests inside the app at once.

Sync routes run on anyio's 40 worker threads and hold a pooled database connection (the
pool has 10 + 20) from their first query until their session closes, and the closing
needs a thread too. Under a few hundred clients every thread can be a request waiting for
a connection while every connection waits for a thread: the server wedges until the
pool's 30 s timeout answers 500s (found by bench/intake.py). Requests beyond the limit
wait here, in the event loop, holding neither a thread nor a connection.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send


class AdmissionGate:
    """ASGI middleware letting at most ``limit`` HTTP requests in at once."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        if limit < 1:
            msg = f"admission limit must be at least 1, got {limit}"
            raise ValueError(msg)
        self.app = app
        self.limit = limit
        self._gate: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._gate is None:  # made inside the server's event loop, on first use
            self._gate = asyncio.Semaphore(self.limit)
        async with self._gate:
            await self.app(scope, receive, send)
