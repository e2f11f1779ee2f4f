"""The call queue under a regional surge: agents pick the next call by region shares.

ciw (``hotline.staffing.simulate``) does not fit the rule: an arriving call always takes a
free agent there (no agent can be kept idle for a region's unlendable share), and a custom
service discipline is handed the waiting calls only, while the rule decides by the regions
the busy agents serve. So this is a small discrete-event loop of its own: Poisson arrivals
per region, exponential handle times and patience (a caller hangs up at arrival + patience
if no agent has answered), and identical agents. Two ways to pick the next call:

- ``"fair"``: the region the shared rule names (below its guaranteed share first, then the
  one borrowing least, fair queuing at equal standing), its oldest call; a call that
  arrives while an agent is free takes it when the rule lets its region take a seat;
- ``"fifo"``: the oldest call of all, the baseline of one undivided queue.

Times are seconds. Only calls arriving before ``duration_s`` are counted, and agent time
is measured over that span; the loop runs on until each call is answered or abandoned.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from hotline.region_shares import SeatBook, Share

Policy = Literal["fair", "fifo"]


@dataclass
class RegionTally:
    """One region's calls and agent time in one run."""

    offered: int = 0
    answered: int = 0
    in_time: int = 0
    abandoned: int = 0
    wait_s: float = 0.0
    busy_agent_s: float = 0.0  # agent-seconds spent on this region's calls
    short_s: float = 0.0  # seconds with calls waiting while holding fewer agents than nominal
    idle_agent_s_waiting: float = 0.0  # agent-seconds idle while this region had calls waiting

    @property
    def service_level(self) -> float:
        """Answered within the target, of all offered (abandoned calls count as missed)."""
        return self.in_time / self.offered if self.offered else 1.0

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.offered if self.offered else 0.0


@dataclass
class QueueRun:
    """Per region tallies of one run, with the span their agent time was measured over."""

    regions: dict[str, RegionTally]
    span_s: float
    agents: int
    nominal: dict[str, int] = field(default_factory=dict)

    def mean_agents(self, region: str) -> float:
        """Agents busy with the region's calls, on average over the span."""
        return self.regions[region].busy_agent_s / self.span_s


@dataclass
class _Call:
    region: str
    arrival_s: float
    patience_s: float
    handle_s: float
    done: bool = False


def simulate_regions(
    calls_per_hour: Mapping[str, float],
    shares: Mapping[str, Share],
    *,
    policy: Policy,
    aht_s: float,
    patience_s: float,
    duration_s: float,
    target_s: float = 20.0,
    seed: int = 1,
) -> QueueRun:
    """One run of the centre with the agents of ``shares`` (their nominal seats summed).

    Parameters
    ----------
    calls_per_hour
        Arrival rate per region; a region without a share counts against ``other``.
    shares
        The regions' shares of the agents (``plan_shares``); the FIFO baseline uses them
        only to measure time below a guaranteed share.
    """
    if policy not in ("fair", "fifo"):
        msg = f"policy must be 'fair' or 'fifo', got {policy!r}"
        raise ValueError(msg)
    book = SeatBook(dict(shares))
    agents = book.total
    rng = np.random.default_rng(seed)
    arrivals = _arrivals(calls_per_hour, book, rng, aht_s, patience_s, duration_s)
    tally = {name: RegionTally() for name in book.shares}
    sim = _Loop(book, policy, tally, target_s, duration_s)
    for call in arrivals:
        sim.advance(call.arrival_s)
        sim.arrive(call)
    sim.advance(float("inf"))
    nominal = {name: s.nominal for name, s in book.shares.items()}
    return QueueRun(tally, span_s=duration_s, agents=agents, nominal=nominal)


def _arrivals(
    rates: Mapping[str, float],
    book: SeatBook,
    rng: np.random.Generator,
    aht_s: float,
    patience_s: float,
    duration_s: float,
) -> list[_Call]:
    calls: list[_Call] = []
    for name, per_hour in rates.items():
        if per_hour < 0:
            msg = f"calls per hour must be >= 0, got {per_hour} for {name}"
            raise ValueError(msg)
        count = int(rng.poisson(per_hour * duration_s / 3600.0))
        times = rng.uniform(0.0, duration_s, count)
        handles = rng.exponential(aht_s, count)
        patiences = rng.exponential(patience_s, count)
        region = book.share_of(name)
        calls.extend(
            _Call(region, float(t), float(p), float(h))
            for t, h, p in zip(times, handles, patiences, strict=True)
        )
    calls.sort(key=lambda c: c.arrival_s)
    return calls


class _Loop:
    """The event loop: service ends and hang-ups on a heap, arrivals fed in time order."""

    def __init__(
        self,
        book: SeatBook,
        policy: Policy,
        tally: dict[str, RegionTally],
        target_s: float,
        horizon_s: float,
    ) -> None:
        self.book = book
        self.policy = policy
        self.tally = tally
        self.target_s = target_s
        self.horizon_s = horizon_s
        self.now = 0.0
        self.events: list[tuple[float, int, str, _Call]] = []
        self.seq = itertools.count()
        self.queues: dict[str, deque[_Call]] = {name: deque() for name in book.shares}
        self.fifo: deque[_Call] = deque()

    def advance(self, until: float) -> None:
        """Process every event before ``until``, accruing agent time as it passes."""
        while self.events and self.events[0][0] <= until:
            at, _, kind, call = heapq.heappop(self.events)
            self._accrue(at)
            if kind == "end":
                self.book.give_back(call.region)
                self._dispatch()
            elif not call.done:  # a hang-up of a call still waiting
                call.done = True
                self.book.waiting[call.region] -= 1
                self.tally[call.region].abandoned += 1
        if until != float("inf"):
            self._accrue(until)

    def arrive(self, call: _Call) -> None:
        book = self.book
        self.tally[call.region].offered += 1
        if self.policy == "fair":
            # Behind its own region's live waiting calls, never ahead of them.
            can = not book.waiting[call.region] and book.may_take(call.region)
        else:
            can = book.free() > 0
        if can:
            self._answer(call)
            return
        book.waiting[call.region] += 1
        (self.queues[call.region] if self.policy == "fair" else self.fifo).append(call)
        self._push(call.arrival_s + call.patience_s, "hang_up", call)

    def _dispatch(self) -> None:
        book = self.book
        if self.policy == "fifo":
            while book.free() > 0 and (call := _pop_live(self.fifo)) is not None:
                book.waiting[call.region] -= 1
                self._answer(call)
            return
        while (region := book.next_to_admit()) is not None:
            call = _pop_live(self.queues[region])
            assert call is not None, region  # waiting counts only live calls
            book.waiting[region] -= 1
            self._answer(call)

    def _answer(self, call: _Call) -> None:
        call.done = True
        book = self.book
        if self.policy == "fair":
            book.take(call.region)
        else:
            # FIFO ignores the shares: record the seat without the rule's consent.
            book.in_use[call.region] += 1
            book.granted[call.region] += 1
        wait = self.now - call.arrival_s
        tally = self.tally[call.region]
        tally.answered += 1
        tally.wait_s += wait
        tally.in_time += wait <= self.target_s
        self._push(self.now + call.handle_s, "end", call)

    def _push(self, at: float, kind: str, call: _Call) -> None:
        heapq.heappush(self.events, (at, next(self.seq), kind, call))

    def _accrue(self, at: float) -> None:
        dt = min(at, self.horizon_s) - min(self.now, self.horizon_s)
        if dt > 0:
            book = self.book
            free = book.free()
            for name, share in book.shares.items():
                tally = self.tally[name]
                busy = book.in_use[name]
                tally.busy_agent_s += busy * dt
                if book.waiting[name]:
                    tally.idle_agent_s_waiting += free * dt
                    if busy < share.nominal:
                        tally.short_s += dt
        self.now = max(self.now, at)


def _pop_live(queue: deque[_Call]) -> _Call | None:
    """The oldest call still waiting (hung-up calls are dropped as they surface)."""
    while queue:
        call = queue.popleft()
        if not call.done:
            return call
    return None
