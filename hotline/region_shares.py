"""Region shares of a capacity: one region's surge cannot starve the others (pure).

One rule for every place where supply regions share something scarce: the intake API's
admission slots (``web.region_quota``), the agents of the call-centre simulation
(``hotline.staffing.region_queue``) and the desk's next call (``hotline.call_offer``). It is
the Kubernetes API priority-and-fairness idea (KEP 1040 and its borrowing extension, KEP
3324) with supply regions as the priority levels:

- every region has **nominal seats**, its guaranteed share of the capacity (by weight; the
  shared ``other`` share takes work whose region is not known);
- a region may **lend** up to ``lendable`` of its nominal seats while it leaves them idle,
  and **borrow** up to ``borrowing_limit`` seats beyond its nominal from what others lend;
- capacity is divided max-min fair: every region gets min(demand, nominal) first, then the
  idle lendable seats go to the regions with demand left, one at a time to the one
  borrowing least (as a share of its nominal), up to their borrowing limits;
- seats are not pre-empted (a call in hand, a request in flight, runs to its end): a
  region always gets its unlendable seats at once (borrowers never hold them), and the
  seats it lent come back as the borrowed work ends, because a freed seat goes to a region
  under its nominal first;
- **fair queuing within a standing**: regions equally far below (or above) their nominal
  are served in turn, the one granted least so far (per nominal seat) first, so two
  flooding regions split what is idle evenly and a region with two waiting calls is not
  starved behind one with thirty. Within a region, work waits in arrival order.

``SeatBook`` holds the rule over seats in use, waiting and granted, and nothing else (no
clock, no I/O, no database); ``allocate`` is the same rule as a static division of a
capacity among demands.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

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
        msg = "region shares need at least one region weight"
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
    # Lendable seats round to the nearest (half up), as Kubernetes' LendableCL does: a share
    # of one seat lending half lends it, or a small lane would keep every seat idle from a
    # region that floods while the others sleep.
    return {
        name: Share(
            nominal=n,
            lendable=min(n, math.floor(n * lendable_share + 0.5)),
            borrowing_limit=math.ceil(n * borrowing_share),
        )
        for name, n in seats.items()
    }


def pool_smallest(weights: Mapping[str, float], seats: int) -> dict[str, float]:
    """Weights for ``seats`` seats: the heaviest regions keep a share of their own, the
    lightest are pooled into ``other`` when there are fewer seats than regions + 1.

    A small capacity (the public lane's few slots) cannot give every region a seat; pooled,
    the smallest regions still share one share that the biggest region's flood cannot take.
    """
    if seats < 2:
        msg = f"region shares need at least 2 seats (one region and other), got {seats}"
        raise ValueError(msg)
    own = {name: w for name, w in weights.items() if name != OTHER}
    if len(own) + 1 <= seats:
        return dict(weights)
    ranked = sorted(own, key=lambda name: (-own[name], name))
    kept = {name: own[name] for name in ranked[: seats - 1]}
    pooled = sum(own[name] for name in ranked[seats - 1 :]) + weights.get(OTHER, 0.0)
    return {**kept, OTHER: pooled}


@dataclass
class SeatBook:
    """Seats in use, work waiting and seats granted per region; see the module docstring.

    ``granted`` is the fair-queuing clock: it only breaks ties between regions of equal
    standing, so a caller may seed it (the desk seeds it with the calls each region had
    answered lately, having no memory of its own between requests).
    """

    shares: dict[str, Share]
    queue_limit: int = 100
    in_use: dict[str, int] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)
    granted: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if OTHER not in self.shares:
            msg = f"the shares need an {OTHER!r} share for work of no known region"
            raise ValueError(msg)
        for counts in (self.in_use, self.waiting, self.granted):
            unknown = set(counts) - set(self.shares)
            if unknown:
                msg = f"counts for regions without a share: {sorted(unknown)}; map them to other"
                raise ValueError(msg)
            for name in self.shares:
                counts.setdefault(name, 0)

    @property
    def total(self) -> int:
        return sum(s.nominal for s in self.shares.values())

    def share_of(self, region: str | None) -> str:
        """The share a region's work counts against: its own, else ``other``."""
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
        """Whether work of ``region`` may take a seat now."""
        share = self.shares[region]
        if self.in_use[region] - share.nominal >= share.borrowing_limit:
            return False
        # Within its nominal seats or borrowing, a seat is taken only while the others'
        # idle unlendable seats stay free: below its own unlendable seats that always holds.
        return self.free() > self.reserved_for_others(region)

    def take(self, region: str) -> None:
        assert self.may_take(region), region
        self.in_use[region] += 1
        self.granted[region] += 1

    def give_back(self, region: str) -> None:
        assert self.in_use[region] > 0, region
        self.in_use[region] -= 1

    def standing(self, region: str) -> tuple[int, float, float, str]:
        """The order in which regions get a freed seat (smallest first): below its nominal
        before borrowing; then the furthest below (or the one borrowing least), as a share
        of its nominal; then the one granted least per nominal seat (fair queuing)."""
        share = self.shares[region]
        used = self.in_use[region]
        fair = self.granted[region] / share.nominal
        if used < share.nominal:
            return (0, used / share.nominal, fair, region)
        return (1, (used - share.nominal) / share.nominal, fair, region)

    def next_to_admit(self) -> str | None:
        """Which waiting region gets a seat now (see ``standing``); None: nobody may."""
        candidates = [r for r, n in self.waiting.items() if n > 0 and self.may_take(r)]
        if not candidates:
            return None
        return min(candidates, key=self.standing)


def allocate(shares: Mapping[str, Share], demand: Mapping[str, int]) -> dict[str, int]:
    """Divide the shares' seats among demands by the rule, as if all arrived at once.

    Every region gets min(demand, nominal); the idle lendable seats go max-min fair (by
    borrowed seats per nominal seat) to regions with demand left, up to their borrowing
    limits. It is ``SeatBook`` filled from empty, so the static division and the
    seat-by-seat one cannot drift apart.
    """
    book = SeatBook(dict(shares))
    for name, wanted in demand.items():
        if wanted < 0:
            msg = f"demand must be >= 0, got {wanted} for {name}"
            raise ValueError(msg)
        book.waiting[book.share_of(name)] += wanted
    while (region := book.next_to_admit()) is not None:
        book.waiting[region] -= 1
        book.take(region)
    return dict(book.in_use)
