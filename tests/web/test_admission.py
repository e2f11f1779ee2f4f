"""The admission gate's lanes and the JSON structure check, in process (the attacks over a
real socket are in ``test_slow_clients.py``)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from starlette.types import Receive, Scope, Send

from web.admission import MAX_JSON_DEPTH, AdmissionGate, BodyRule, Limits, json_problem

LIMITS = Limits(
    body=BodyRule(max_bytes=1000, max_json_keys=10),
    batch_body=BodyRule(max_bytes=10_000, max_json_keys=100),
    body_timeout_s=1.0,
    min_body_rate_bps=1000.0,
    main_slots=3,
    health_slots=1,
    public_read_slots=2,
)


def test_each_lane_lets_at_most_its_slots_in() -> None:
    inside: Counter[str] = Counter()
    most: Counter[str] = Counter()

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        inside[scope["path"]] += 1
        most[scope["path"]] = max(most[scope["path"]], inside[scope["path"]])
        await asyncio.sleep(0.01)
        inside[scope["path"]] -= 1

    gate = AdmissionGate(slow_app, LIMITS)

    async def storm() -> None:
        async def noop_receive() -> dict[str, object]:
            return {}

        async def noop_send(message: object) -> None:
            return None

        calls = [
            gate({"type": "http", "path": path, "method": "GET"}, noop_receive, noop_send)  # type: ignore[arg-type]
            for path in ("/api/v1/outages", "/healthz", "/api/v1/status", "/static/x.js")
            for _ in range(20)
        ]
        await asyncio.gather(*calls)

    asyncio.run(storm())
    assert most == {"/api/v1/outages": 3, "/healthz": 1, "/api/v1/status": 2, "/static/x.js": 20}
    assert sum(inside.values()) == 0


def test_single_reports_have_a_lane_of_their_own_only_with_intake_slots() -> None:
    """With group commit a single report waits for the writer holding no thread, so it
    takes an intake slot; the batch route and other posts keep to the main lane."""
    from dataclasses import replace

    async def run(limits: Limits) -> Counter[str]:
        inside: Counter[str] = Counter()
        most: Counter[str] = Counter()

        async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
            key = f"{scope['method']} {scope['path']}"
            for k in (key, "all"):
                inside[k] += 1
                most[k] = max(most[k], inside[k])
            await asyncio.sleep(0.01)
            for k in (key, "all"):
                inside[k] -= 1

        gate = AdmissionGate(slow_app, limits)

        async def noop_receive() -> dict[str, object]:
            return {}

        async def noop_send(message: object) -> None:
            return None

        calls = [
            gate({"type": "http", "path": path, "method": method}, noop_receive, noop_send)  # type: ignore[arg-type]
            for method, path in (
                ("POST", "/api/v1/reports"),
                ("POST", "/api/v1/reports/batch"),
                ("GET", "/api/v1/reports"),
            )
            for _ in range(20)
        ]
        await asyncio.gather(*calls)
        return most

    with_lane = asyncio.run(run(replace(LIMITS, intake_slots=12)))
    assert with_lane == {
        "POST /api/v1/reports": 12,
        "POST /api/v1/reports/batch": 3,
        "GET /api/v1/reports": 3,
        "all": 15,
    }
    # Without the lane the single reports share the main lane's 3 slots with the others.
    without = asyncio.run(run(LIMITS))
    assert without["all"] == 3 and without["POST /api/v1/reports"] >= 1


def test_limits_must_be_positive() -> None:
    from dataclasses import replace

    with pytest.raises(ValueError, match="at least 1"):
        AdmissionGate(lambda *_: None, replace(LIMITS, health_slots=0))  # type: ignore[arg-type]


def test_json_problem_counts_depth_and_keys_outside_strings() -> None:
    deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    assert "nested" in (json_problem(deep, 10) or "")
    shallow = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert json_problem(shallow, 10) is None
    # Brackets and colons inside strings (escaped quotes too) are text, not structure.
    tricky = json.dumps({"a": '[[[[{{{{ "\\": :::: ' * 50}).encode()
    assert json_problem(tricky, 1) is None
    keys = json.dumps({f"k{i}": i for i in range(11)}).encode()
    assert "11 keys" in (json_problem(keys, 10) or "")
