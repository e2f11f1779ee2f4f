"""Region quotas on the admission slots: one region's storm cannot starve the others.

The rule is ``hotline.region_shares`` (the Kubernetes API priority-and-fairness idea with
supply regions as the priority levels: nominal seats, lending, borrowing, fair wake-ups),
the same one the call queue uses. Here a lane's admission slots are the seats: waiting
requests queue per region (FIFO within the share; at most ``queue_limit`` each, beyond
which a request is refused with 429), and a freed slot goes to the region the rule names.

``RegionQuota`` is the rule's asyncio face for the admission gate. How a request's region
is found cheaply (from the report's account or point, or the status lookup's) is
``web.region_index``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import Scope

from hotline.region_shares import OTHER, SeatBook, Share, plan_shares, pool_smallest
from web.region_index import RegionIndex

__all__ = [
    "OTHER",
    "LaneQuota",
    "QueueFull",
    "QuotaPlan",
    "RegionQuota",
    "SeatBook",
    "Share",
    "lane_gates",
    "plan_shares",
]

log = logging.getLogger(__name__)


class QueueFull(Exception):
    """A region's queue is full: the request is refused (429) rather than queued."""

    def __init__(self, region: str, limit: int) -> None:
        super().__init__(f"too many requests of region {region} are waiting ({limit})")
        self.region = region


class RegionQuota:
    """The admission seats of one lane, shared by region; use ``async with quota.seat(r)``."""

    def __init__(self, book: SeatBook) -> None:
        self.book = book
        self._queues: dict[str, deque[asyncio.Future[None]]] = {r: deque() for r in book.shares}

    def seat(self, region: str | None) -> _Seat:
        return _Seat(self, self.book.share_of(region))

    async def acquire(self, region: str) -> None:
        book = self.book
        queue = self._queues[region]
        if not queue and book.may_take(region):
            book.take(region)
            return
        if len(queue) >= book.queue_limit:
            raise QueueFull(region, book.queue_limit)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(waiter)
        book.waiting[region] += 1
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # Granted just as it was cancelled: the seat goes to the next waiter.
                self.release(region)
            else:
                queue.remove(waiter)
                book.waiting[region] -= 1
            raise

    def release(self, region: str) -> None:
        self.book.give_back(region)
        self._wake()

    def _wake(self) -> None:
        book = self.book
        while (region := book.next_to_admit()) is not None:
            waiter = self._queues[region].popleft()
            book.waiting[region] -= 1
            book.take(region)
            waiter.set_result(None)


@dataclass
class _Seat:
    quota: RegionQuota
    region: str

    async def __aenter__(self) -> None:
        await self.quota.acquire(self.region)

    async def __aexit__(self, *_: object) -> None:
        self.quota.release(self.region)


@dataclass(frozen=True)
class QuotaPlan:
    """Which admission lanes are shared by region, and how (``web.settings.Settings``)."""

    lanes: tuple[str, ...] = ("main", "public", "intake")
    lendable_share: float = 0.5
    borrowing_share: float = 10.0
    queue_limit: int = 200


class LaneQuota:
    """A lane's seats shared by region: the request's region from the worker's index."""

    def __init__(self, quota: RegionQuota, index: RegionIndex) -> None:
        self.quota = quota
        self.index = index

    async def enter(self, scope: Scope) -> _Held:
        region = self.quota.book.share_of(self.index.region_of(scope))
        await self.quota.acquire(region)
        return _Held(self.quota, region)


@dataclass
class _Held:
    quota: RegionQuota
    region: str

    def leave(self) -> None:
        self.quota.release(self.region)


def lane_gates(
    sizes: Mapping[str, int], plan: QuotaPlan | None, scope: Scope
) -> dict[str, asyncio.Semaphore | LaneQuota]:
    """Each lane's gate: region quotas where planned and possible, else a plain limit.

    Possible means the worker's region index is loaded (regions weighted by customers)
    and the lane has two slots or more; a lane with fewer slots than regions + 1 gives the
    heaviest regions a share each and pools the rest into ``other`` (``pool_smallest``).
    """
    gates: dict[str, asyncio.Semaphore | LaneQuota] = {
        lane: asyncio.Semaphore(size) for lane, size in sizes.items()
    }
    app = scope.get("app")
    index: RegionIndex | None = getattr(getattr(app, "state", None), "region_index", None)
    if plan is None or index is None or index.lookup is None:
        return gates
    weights = {code: float(max(n, 1)) for code, n in index.lookup.customers.items()}
    for lane in plan.lanes:
        if lane not in sizes:  # the intake lane without group commit
            continue
        if sizes[lane] < 2:
            log.warning("lane %s has one slot: a plain limit, no region quotas", lane)
            continue
        lane_weights = pool_smallest(weights, sizes[lane])
        if len(lane_weights) < len(weights) + (OTHER not in weights):
            log.info("lane %s: the smallest regions share the other share", lane)
        shares = plan_shares(
            sizes[lane],
            lane_weights,
            lendable_share=plan.lendable_share,
            borrowing_share=plan.borrowing_share,
        )
        book = SeatBook(shares, queue_limit=plan.queue_limit)
        gates[lane] = LaneQuota(RegionQuota(book), index)
    return gates
