"""The public lane shares its few slots by region too: a status flood of one region
cannot starve another region's lookups (in process, through the admission gate)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import shapely
from shapely import STRtree
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Receive, Scope, Send

from geo.region_lookup import RegionLookup
from hotline.region_shares import OTHER, pool_smallest
from web.admission import AdmissionGate, BodyRule, Limits
from web.region_index import RegionIndex
from web.region_quota import LaneQuota, QuotaPlan, lane_gates

LIMITS = Limits(
    body=BodyRule(max_bytes=1000, max_json_keys=10),
    batch_body=BodyRule(max_bytes=10_000, max_json_keys=100),
    body_timeout_s=1.0,
    min_body_rate_bps=1000.0,
    main_slots=8,
    health_slots=1,
    public_read_slots=4,
)
# Five regions by customers: the public lane's 4 slots cannot give each (and other) one.
CUSTOMERS = {"R1": 500, "R2": 300, "R3": 200, "R4": 20, "R5": 10}
HOLD_S = 0.02


def _index() -> RegionIndex:
    index = RegionIndex(cast(sessionmaker[Session], None), "")
    accounts = {f"{code}-{i}": code for code in CUSTOMERS for i in range(3)}
    tree = STRtree([shapely.Point(0, 0)])
    index.lookup = RegionLookup(accounts, ["none"], tree, dict(CUSTOMERS))
    return index


def _scope(index: RegionIndex, account: str) -> Scope:
    app = SimpleNamespace(state=SimpleNamespace(region_index=index))
    return {
        "type": "http",
        "path": "/api/v1/status",
        "method": "GET",
        "query_string": f"account={account}".encode(),
        "app": app,
    }


def test_pool_smallest_keeps_the_heaviest_and_pools_the_rest() -> None:
    weights = {k: float(v) for k, v in CUSTOMERS.items()}
    assert pool_smallest(weights, 4) == {"R1": 500.0, "R2": 300.0, "R3": 200.0, OTHER: 30.0}
    assert pool_smallest(weights, 6) == weights  # room for all and other: unchanged


def test_the_public_lane_is_shared_by_region_by_default() -> None:
    gates = lane_gates({"main": 8, "health": 1, "public": 4}, QuotaPlan(), _scope(_index(), "x"))
    public = gates["public"]
    assert isinstance(public, LaneQuota)
    assert set(public.quota.book.shares) == {"R1", "R2", "R3", OTHER}
    assert public.quota.book.share_of("R5") == OTHER
    assert isinstance(gates["main"], LaneQuota)
    assert isinstance(gates["health"], asyncio.Semaphore)
    assert "intake" not in gates  # no group commit: single reports take main slots
    sizes = {"main": 8, "health": 1, "public": 4, "intake": 200}
    with_intake = lane_gates(sizes, QuotaPlan(), _scope(_index(), "x"))
    intake = with_intake["intake"]
    assert isinstance(intake, LaneQuota)
    assert set(intake.quota.book.shares) == set(CUSTOMERS) | {OTHER}


def _flood(quotas: QuotaPlan | None) -> list[str]:
    """40 lookups of R1 at once, then R2's and R4's: the accounts in the order let in."""
    index = _index()
    got_in: list[str] = []

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        got_in.append(scope["query_string"].decode().removeprefix("account="))
        await asyncio.sleep(HOLD_S)

    gate = AdmissionGate(slow_app, LIMITS, quotas)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: object) -> None:
        return None

    async def storm() -> None:
        flood = [gate(_scope(index, f"R1-{i % 3}"), receive, send) for i in range(40)]
        tasks = [asyncio.ensure_future(c) for c in flood]
        await asyncio.sleep(0)  # the flood queues first
        await asyncio.gather(
            gate(_scope(index, "R2-0"), receive, send),
            gate(_scope(index, "R4-0"), receive, send),
            *tasks,
        )

    asyncio.run(storm())
    assert len(got_in) == 42
    return got_in


def test_a_status_flood_of_one_region_does_not_starve_the_others() -> None:
    fair = _flood(QuotaPlan(lanes=("public",)))
    plain = _flood(None)
    # First come, first served: the others go in after the whole flood.
    assert plain.index("R2-0") >= 40 and plain.index("R4-0") >= 40
    # Shared by region: R2 (its own share) and R4 (pooled into other) go in at once or at
    # the first freed slots, while the flood still has most of its lookups waiting.
    assert fair.index("R2-0") < 6 and fair.index("R4-0") < 6, fair[:8]
