"""Admission: a request's body is read whole, within a deadline and a size cap, before the
request may take one of the app's slots; health checks and cheap public reads have their own.

Sync routes run on anyio's 40 worker threads and hold a pooled database connection (the
pool has 10 + 20) from their first query until their session closes, and the closing
needs a thread too. Under a few hundred clients every thread can be a request waiting for
a connection while every connection waits for a thread: the server wedges until the
pool's 30 s timeout answers 500s (found by bench/intake.py). Requests beyond the limits
wait here, in the event loop, holding neither a thread nor a connection; the lanes add up
to the pool's 30 connections. Single reports have a lane of their own when group commit is
on (``outages.intake.group_commit``): they wait for the group writer on the event loop,
holding neither, so the lane is sized for the writer's groups rather than the pool, and the
few the writer hands back are filed alone in threads of their own (``web.api.reports``).

A slot is taken only once the body is in: a client trickling its body a byte at a time
(or sending 100 MB) would otherwise hold a slot for as long as it likes. ``BodyLimits``
reads it first, answers 413 past the cap and 408 past the deadline, and refuses with a 422
JSON that is not UTF-8 (naming the first bad byte), nested deeper than ``MAX_JSON_DEPTH``,
with a number longer than ``MAX_JSON_DIGITS`` or with more keys than the route's limit
(pydantic would build one error per unknown key, in the event loop).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import anyio
import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.region_index import BODY_KEY
from web.region_quota import LaneQuota, QueueFull, QuotaPlan, lane_gates

MAX_JSON_DEPTH = 32
MAX_JSON_DIGITS = 1000
"""Longer numbers are refused: Python's JSON reader raises past 4,300 digits, and FastAPI
answered that with a bare 400 "There was an error parsing the body"."""
# Anchored at a run's start: unanchored, the engine retried every digit of every shorter run
# (a 2 MB body of 1,000-digit numbers took 1.6 s of the GIL).
_LONG_NUMBER = re.compile(rb"(?<![0-9])[0-9]{%d,}" % (MAX_JSON_DIGITS + 1))
# Strings (escapes included) are cut out before brackets are counted.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.S)
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b"[]{}:")
# JSON structure checks of large bodies run in a few threads of their own, not the routes'.
_CHECK_THREADS = anyio.CapacityLimiter(4)
_CHECK_IN_THREAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class BodyRule:
    """How much body a route may receive, how fast, and how many JSON keys it may hold."""

    max_bytes: int
    max_json_keys: int


@dataclass(frozen=True)
class Limits:
    """The admission settings, from ``web.settings.Settings``."""

    body: BodyRule
    batch_body: BodyRule
    body_timeout_s: float
    min_body_rate_bps: float
    main_slots: int
    health_slots: int
    public_read_slots: int
    intake_slots: int | None = None  # None: single reports take main slots


BATCH_PATH = "/api/v1/reports/batch"
INTAKE_PATH = "/api/v1/reports"
OPEN311_PREFIX = "/open311/"
HEALTH_PATHS = frozenset({"/healthz"})
# Public reads of one premise or point: a few indexed queries each.
PUBLIC_READ_PATHS = frozenset(
    {"/api/v1/status", "/api/v1/geocode", "/api/v1/locate", "/status", "/openapi.json"}
)
UNGATED_PREFIXES = ("/static/",)  # files from disk: no thread, no connection
# A wallboard stream lasts for hours and holds no thread between its events; each
# snapshot takes a thread of its own small limiter (web/api/wallboard.py).
UNGATED_PATHS = frozenset({"/api/v1/wallboard/stream"})


def lane_of(scope: Scope, *, intake: bool = False) -> str | None:
    """Which slots a request takes: ``health``, ``public``, ``intake`` (a single report,
    when that lane exists), ``main``, or None (no gate)."""
    path: str = scope["path"]
    if path.startswith(UNGATED_PREFIXES) or path in UNGATED_PATHS:
        return None
    if path in HEALTH_PATHS:
        return "health"
    if scope["method"] in ("GET", "HEAD") and path in PUBLIC_READ_PATHS:
        return "public"
    if intake and scope["method"] == "POST" and path == INTAKE_PATH:
        return "intake"
    return "main"


class AdmissionGate:
    """ASGI middleware letting at most so many HTTP requests of each lane in at once.

    With ``quotas`` (``web.region_quota.QuotaPlan``), a lane's slots are shared by supply
    region instead of first come, first served (see that module).
    """

    def __init__(self, app: ASGIApp, limits: Limits, quotas: QuotaPlan | None = None) -> None:
        sizes = {
            "main": limits.main_slots,
            "health": limits.health_slots,
            "public": limits.public_read_slots,
        }
        if limits.intake_slots is not None:
            sizes["intake"] = limits.intake_slots
        for lane, size in sizes.items():
            if size < 1:
                msg = f"admission limit of lane {lane} must be at least 1, got {size}"
                raise ValueError(msg)
        self.app = app
        self.sizes = sizes
        self.quotas = quotas
        self._gates: dict[str, asyncio.Semaphore | LaneQuota] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = lane_of(scope, intake="intake" in self.sizes) if scope["type"] == "http" else None
        if lane is None:
            await self.app(scope, receive, send)
            return
        if not self._gates:  # made inside the server's event loop, on first use
            self._gates = lane_gates(self.sizes, self.quotas, scope)
        gate = self._gates[lane]
        if isinstance(gate, asyncio.Semaphore):
            async with gate:
                await self.app(scope, receive, send)
            return
        try:
            seat = await gate.enter(scope)
        except QueueFull as full:
            refused = BodyRefused(429, str(full), "RegionBusy")
            await _refuse(scope, send, refused, retry_after_s=1)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            seat.leave()


class BodyRefused(Exception):
    """A body that is not let in: the status and the message to answer."""

    def __init__(self, status: int, message: str, error: str = "BodyRefused") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error


def json_problem(body: bytes, max_keys: int) -> str | None:
    """Why a JSON body is refused before parsing: not UTF-8, too deep or too many keys
    (None: fine).

    JSON between systems is UTF-8 (RFC 8259); without this check a stray byte reached the
    framework's JSON reader and came back as a bare "error parsing the body" 400. Counts on
    the body's skeleton (strings cut out, only brackets and colons kept), with numpy for
    the nesting depth, so a 20 MB body takes tens of milliseconds.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as bad:
        byte = body[bad.start : bad.start + 1].hex()
        return f"the JSON body is not UTF-8: byte 0x{byte} at position {bad.start}"
    outside_strings = _JSON_STRING.sub(b"", body)
    long_number = _LONG_NUMBER.search(outside_strings)
    if long_number is not None:
        digits = long_number.end() - long_number.start()
        return f"the JSON body has a number of {digits} digits: at most {MAX_JSON_DIGITS}"
    skeleton = outside_strings.translate(None, _NOT_STRUCTURE)
    keys = skeleton.count(b":")
    if keys > max_keys:
        return f"the JSON body has {keys} keys: at most {max_keys} are accepted here"
    brackets = np.frombuffer(skeleton.replace(b":", b""), dtype=np.uint8)
    if brackets.size:
        steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1).astype(np.int32)
        depth = int(np.cumsum(steps).max())
        if depth > MAX_JSON_DEPTH:
            return f"the JSON body is nested {depth} levels deep: at most {MAX_JSON_DEPTH}"
    return None


class BodyLimits:
    """ASGI middleware that reads a request's whole body before the app sees the request."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        rule = self.limits.batch_body if scope["path"] == BATCH_PATH else self.limits.body
        try:
            body = await self._read(scope, receive, rule)
            await _check_json(scope, body, rule)
        except BodyRefused as refused:
            await _refuse(scope, send, refused)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        scope[BODY_KEY] = body  # the region quota reads the report's region from it
        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive, rule: BodyRule) -> bytes:
        declared = _content_length(scope)
        if declared is not None and declared > rule.max_bytes:
            msg = f"the body has {declared} bytes: at most {rule.max_bytes} are accepted here"
            raise BodyRefused(413, msg)
        limits = self.limits
        started = time.monotonic()
        chunks: list[bytes] = []
        size = 0
        while True:
            # The deadline grows with what has arrived, so a large body on a slow line
            # gets through while a trickle does not.
            allowed = limits.body_timeout_s + size / limits.min_body_rate_bps
            left = started + allowed - time.monotonic()
            message: Message | None = None
            if left > 0:
                with anyio.move_on_after(left):
                    message = await receive()
            if message is None:
                msg = f"the request body did not arrive in time ({allowed:.0f} s): send it faster"
                raise BodyRefused(408, msg)
            if message["type"] == "http.disconnect":
                raise BodyRefused(400, "the client went away while sending its body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > rule.max_bytes:
                msg = f"the body is over {rule.max_bytes} bytes: at most that is accepted here"
                raise BodyRefused(413, msg)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                raise BodyRefused(400, "Content-Length is not a number") from None
    return None


async def _check_json(scope: Scope, body: bytes, rule: BodyRule) -> None:
    content_type = next((v for n, v in scope["headers"] if n == b"content-type"), b"")
    # FastAPI reads a body without a content type as JSON too.
    if (content_type and b"json" not in content_type.lower()) or not body:
        return
    if len(body) < _CHECK_IN_THREAD_BYTES:
        problem = json_problem(body, rule.max_json_keys)
    else:
        problem = await anyio.to_thread.run_sync(
            json_problem, body, rule.max_json_keys, limiter=_CHECK_THREADS
        )
    if problem is not None:
        raise BodyRefused(422, problem)


async def _refuse(
    scope: Scope, send: Send, refused: BodyRefused, retry_after_s: int | None = None
) -> None:
    """The answer, and ``Connection: close``: what is left of the body is not read.

    Open311 clients parse errors in the GeoReport v2 shape (a list of ``code`` and
    ``description``, JSON or XML by the path's extension), so their routes get that shape
    here too, as the routes' own errors do (``web.api.open311.Open311Route``).
    """
    path: str = scope["path"]
    status = refused.status
    if path.startswith(OPEN311_PREFIX):
        status = 400 if status == 422 else status  # the spec's "bad request", as the routes
        body, media = _open311_error(path, status, refused.message)
    else:
        body = json.dumps({"detail": refused.message, "error": refused.error}).encode()
        media = b"application/json"
    headers = [
        (b"content-type", media),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if retry_after_s is not None:
        headers.append((b"retry-after", str(retry_after_s).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _open311_error(path: str, status: int, message: str) -> tuple[bytes, bytes]:
    if path.endswith(".xml"):
        root = ET.Element("errors")
        error = ET.SubElement(root, "error")
        ET.SubElement(error, "code").text = str(status)
        ET.SubElement(error, "description").text = message
        xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return xml, b"text/xml; charset=utf-8"
    body = [{"code": status, "description": message}]
    return json.dumps(body).encode(), b"application/json"
