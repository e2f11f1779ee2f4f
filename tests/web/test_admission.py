"""The admission gate lets at most its limit of requests into the app at once."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Receive, Scope, Send

from web.admission import AdmissionGate


def test_at_most_limit_requests_inside() -> None:
    inside = 0
    most = 0

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await asyncio.sleep(0.01)
        inside -= 1

    gate = AdmissionGate(slow_app, limit=3)

    async def storm() -> None:
        async def noop_receive() -> dict[str, object]:
            return {}

        async def noop_send(message: object) -> None:
            return None

        await asyncio.gather(
            *(gate({"type": "http"}, noop_receive, noop_send) for _ in range(20))  # type: ignore[arg-type]
        )

    asyncio.run(storm())
    assert most == 3
    assert inside == 0


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AdmissionGate(lambda *_: None, limit=0)  # type: ignore[arg-type]
