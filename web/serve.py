"""Serving with uvicorn, with the connection limits an exposed server needs.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but has no limit on how
long a client may take to send a request's headers: a connection that never sends a byte,
or sends one a minute, stays open forever (300 of them were measured holding the server's
sockets). ``HeaderTimeoutProtocol`` closes a connection whose request headers are not in
within ``header_timeout_s`` of its first byte (or of its opening), and one whose headers
grow past ``MAX_HEADER_BYTES``. Bodies have their own deadline in ``web.admission``.
"""

from __future__ import annotations

import asyncio
import os
from functools import cache
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from web.settings import Settings

MAX_HEADER_BYTES = 64 * 1024
WORKER_HEALTHCHECK_S = 60


@cache
def _environment_timeout_s() -> float:
    return Settings().header_timeout_s


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size cap on request headers.

    The deadline is ``header_timeout_s`` of a subclass (``protocol_for``), else the
    environment's settings (worker processes import this class by name).
    """

    header_timeout_s: float | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._in_headers = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_headers and (self.cycle is None or self.cycle.response_complete):
            # The first bytes of a new request: its headers must now arrive in time.
            self._in_headers = True
            self._header_bytes = 0
            self._arm()
        super().data_received(data)
        if self._in_headers:  # still no complete headers after this data
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
                self._disarm()
                self.send_400_response("Request headers too large.")

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        self._disarm()
        timeout_s = self.header_timeout_s or _environment_timeout_s()
        self._header_timer = self.loop.call_later(timeout_s, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def protocol_for(settings: Settings) -> type[HeaderTimeoutProtocol]:
    """The protocol class with this installation's header timeout."""
    return type(
        "HeaderTimeoutProtocol",
        (HeaderTimeoutProtocol,),
        {"header_timeout_s": settings.header_timeout_s},
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The limits every ``stormdesk serve`` (and the tests' live servers) run with."""
    return {
        "http": protocol_for(settings),
        "timeout_keep_alive": settings.keep_alive_s,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    }


TIMERS_MODES = ("process", "worker", "off")


def serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    timers: str = "process",
    access_log: bool = True,
) -> None:
    """Serve the app; with several workers each is a process of its own (settings from the
    environment, as ``Settings()`` reads them).

    ``timers``: ``process`` runs the dispatch cycle and the hotline timers in one process
    beside the workers (``web/timers.py``), ``worker`` inside every worker (as before the
    timers process), ``off`` not at all (``stormdesk timers`` runs them elsewhere).
    """
    if timers not in TIMERS_MODES:
        raise ValueError(f"timers must be one of {', '.join(TIMERS_MODES)}, not {timers!r}")
    process = None
    if timers == "process" and settings.cycle_interval_s > 0:
        from web.timers import TimersProcess

        process = TimersProcess(settings)
        process.start()
    if timers != "worker":
        settings = settings.model_copy(update={"cycle_interval_s": 0.0})
        # Worker processes read their settings from the environment.
        os.environ["STORMDESK_CYCLE_INTERVAL_S"] = "0"
    try:
        _run_uvicorn(settings, host=host, port=port, workers=workers, access_log=access_log)
    finally:
        if process is not None:
            process.stop()


def _run_uvicorn(
    settings: Settings, *, host: str, port: int, workers: int, access_log: bool
) -> None:
    options = uvicorn_options(settings)
    if workers > 1:
        # Worker processes import the class by name: the module-level one, which reads the
        # header timeout from the environment's settings.
        options["http"] = HeaderTimeoutProtocol
        uvicorn.run(
            "web.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=access_log,
            # The parent pings each worker; a worker still importing the geo stack on a busy
            # machine misses uvicorn's default 5 s and is killed and restarted forever.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
            **options,
        )
        return
    from web.main import create_app

    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        **options,
    )
