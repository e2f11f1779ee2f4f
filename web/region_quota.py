"""Region quotas on the admission slots: one region's storm cannot starve the others.

The idea is the Kubernetes API priority and fairness one (KEP 1040 and its borrowing
extension, KEP 3324), with supply regions as the priority levels:

- every region has **nominal seats**, its guaranteed share of a lane's slots (by weight;
  the shared ``other`` share takes requests whose region is not known);
- a region may **lend** up to ``lendable_share`` of its nominal seats while it leaves them
  idle, and **borrow** up to ``borrowing_share`` of its nominal seats beyond them from what
  the others lend;
- a region always gets its unlendable seats at once (borrowers never hold them), and the
  seats it lent come back as the borrowed requests end (requests are short: the seats are
  not pre-empted, a freed seat goes to a region under its nominal first);
- waiting requests queue per region (FIFO within the share; at most ``queue_limit`` each,
  beyond which a request is refused with 429): a freed seat goes first to the region
  furthest below its nominal, then, for borrowing, to the region borrowing least
  (fair across regions), so two flooding regions split what is idle evenly.

``SeatBook`` holds the rules and nothing else (no clock, no I/O: unit tests drive it);
``RegionQuota`` is its asyncio face for the admission gate. How a request's region is found
cheaply (from the report's account or point, or the status lookup's) is
``web.region_index``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.types import Scope

from web.region_index import RegionIndex

log = logging.getLogger(__name__)

OTHER = "other"


@dataclass(frozen=True)
class Share:
    """One region's seats: nominal (guaranteed), how many it lends, how many it borrows."""

    nominal: int
    lendable: int
    borrowing_limit: int

    def __post_init__(self) -> None:
        if self.nominal < 1:
            msg = f"a share needs at least one nominal seat, got {self.nominal}"
            raise ValueError(msg)
        if not 0 <= self.lendable <= self.nominal:
            msg = f"lendable seats must be 0..{self.nominal}, got {self.lendable}"
            raise ValueError(msg)
        if self.borrowing_limit < 0:
            msg = f"the borrowing limit must be >= 0, got {self.borrowing_limit}"
            raise ValueError(msg)


def plan_shares(
    total: int,
    weights: Mapping[str, float],
    *,
    lendable_share: float = 0.5,
    borrowing_share: float = 1.0,
) -> dict[str, Share]:
    """Split ``total`` seats by weight (largest remainders; each share at least one seat).

    ``other`` is added with the weight of an average region when it is missing.
    """
    if not weights:
        msg = "region quotas need at least one region weight"
        raise ValueError(msg)
    if any(w <= 0 for w in weights.values()):
        msg = f"region weights must be positive: {dict(weights)}"
        raise ValueError(msg)
    weights = dict(weights)
    weights.setdefault(OTHER, sum(weights.values()) / len(weights))
    if total < len(weights):
        msg = f"{total} seats cannot give each of {len(weights)} shares one: raise the limit"
        raise ValueError(msg)
    spare = total - len(weights)
    whole = sum(weights.values())
    exact = {name: spare * w / whole for name, w in weights.items()}
    seats = {name: 1 + math.floor(x) for name, x in exact.items()}
    by_remainder = sorted(exact, key=lambda n: (-(exact[n] - math.floor(exact[n])), n))
    for name in by_remainder[: total - sum(seats.values())]:
        seats[name] += 1
    return {
        name: Share(
            nominal=n,
            lendable=math.floor(n * lendable_share),
            borrowing_limit=math.ceil(n * borrowing_share),
        )
        for name, n in seats.items()
    }


@dataclass
class SeatBook:
    """Seats in use and requests waiting per region; see the module docstring."""

    shares: dict[str, Share]
    queue_limit: int = 100
    in_use: dict[str, int] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if OTHER not in self.shares:
            msg = f"the shares need an {OTHER!r} share for requests of no known region"
            raise ValueError(msg)
        for name in self.shares:
            self.in_use.setdefault(name, 0)
            self.waiting.setdefault(name, 0)

    @property
    def total(self) -> int:
        return sum(s.nominal for s in self.shares.values())

    def share_of(self, region: str | None) -> str:
        return region if region in self.shares else OTHER

    def free(self) -> int:
        return self.total - sum(self.in_use.values())

    def reserved_for_others(self, region: str) -> int:
        """Idle unlendable seats of the other regions: never given to a borrower."""
        return sum(
            max(0, (s.nominal - s.lendable) - self.in_use[name])
            for name, s in self.shares.items()
            if name != region
        )

    def may_take(self, region: str) -> bool:
        """Whether a request of ``region`` may take a seat now."""
        share = self.shares[region]
        if self.in_use[region] - share.nominal >= share.borrowing_limit:
            return False
        # Within its nominal seats or borrowing, a seat is taken only while the others'
        # idle unlendable seats stay free: below its own unlendable seats that always holds.
        return self.free() > self.reserved_for_others(region)

    def take(self, region: str) -> None:
        assert self.may_take(region), region
        self.in_use[region] += 1

    def give_back(self, region: str) -> None:
        assert self.in_use[region] > 0, region
        self.in_use[region] -= 1

    def next_to_admit(self) -> str | None:
        """Which waiting region gets a seat now: below its nominal first (the furthest
        below, as a share of its nominal), then the one borrowing least; None: nobody."""
        candidates = [r for r, n in self.waiting.items() if n > 0 and self.may_take(r)]
        if not candidates:
            return None

        def order(region: str) -> tuple[int, float, str]:
            share = self.shares[region]
            used = self.in_use[region]
            if used < share.nominal:
                return (0, used / share.nominal, region)
            return (1, (used - share.nominal) / max(share.nominal, 1), region)

        return min(candidates, key=order)


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

    lanes: tuple[str, ...] = ("main",)
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
    and the lane has a seat for every share.
    """
    gates: dict[str, asyncio.Semaphore | LaneQuota] = {
        lane: asyncio.Semaphore(size) for lane, size in sizes.items()
    }
    app = scope.get("app")
    index: RegionIndex | None = getattr(getattr(app, "state", None), "region_index", None)
    if plan is None or index is None or index.lookup is None:
        return gates
    weights = {code: max(n, 1) for code, n in index.lookup.customers.items()}
    for lane in plan.lanes:
        if sizes[lane] < len(weights) + (OTHER not in weights):
            log.warning("lane %s has too few slots for region quotas: a plain limit", lane)
            continue
        shares = plan_shares(
            sizes[lane],
            weights,
            lendable_share=plan.lendable_share,
            borrowing_share=plan.borrowing_share,
        )
        book = SeatBook(shares, queue_limit=plan.queue_limit)
        gates[lane] = LaneQuota(RegionQuota(book), index)
    return gates
