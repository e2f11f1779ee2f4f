"""The shared region rule: guaranteed shares, lending, borrowing limits, max-min fairness."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.region_shares import OTHER, SeatBook, Share, allocate, plan_shares, pool_smallest

REGIONS = ("A", "B", "C", "D", OTHER)


def _shares(nominal: dict[str, int], lendable: float, borrowing: float) -> dict[str, Share]:
    return {r: Share(n, int(n * lendable), int(n * borrowing)) for r, n in nominal.items()}


def test_everyone_within_its_nominal_gets_all_it_asks() -> None:
    shares = _shares({"A": 4, "B": 4, OTHER: 2}, lendable=0.5, borrowing=1.0)
    assert allocate(shares, {"A": 3, "B": 1}) == {"A": 3, "B": 1, OTHER: 0}


def test_a_surge_borrows_only_what_is_lendable_and_idle() -> None:
    shares = _shares({"A": 4, "B": 4, OTHER: 2}, lendable=0.5, borrowing=10.0)
    # B uses 1 of 4: of its 3 idle seats 2 are lendable; other lends 1 of its 2.
    assert allocate(shares, {"A": 50, "B": 1}) == {"A": 4 + 2 + 1, "B": 1, OTHER: 0}
    everything = _shares({"A": 4, "B": 4, OTHER: 2}, lendable=1.0, borrowing=10.0)
    assert allocate(everything, {"A": 50, "B": 1}) == {"A": 9, "B": 1, OTHER: 0}


def test_the_borrowing_limit_caps_a_surge_even_with_capacity_idle() -> None:
    shares = _shares({"A": 4, "B": 4, OTHER: 2}, lendable=1.0, borrowing=0.5)
    assert allocate(shares, {"A": 50}) == {"A": 6, "B": 0, OTHER: 0}


def test_two_surges_split_the_lent_seats_by_their_nominal() -> None:
    shares = _shares({"A": 2, "B": 4, "C": 6, OTHER: 2}, lendable=1.0, borrowing=10.0)
    got = allocate(shares, {"A": 100, "B": 100})
    # 8 idle seats lent: A borrows 8/3 per 2 nominal, B 16/3 per 4: equal per nominal seat.
    assert got["A"] + got["B"] == 14
    assert got["A"] - 2 in (2, 3) and got["B"] - 4 in (5, 6)


def test_unknown_regions_count_against_other() -> None:
    shares = _shares({"A": 2, OTHER: 2}, lendable=0.0, borrowing=0.0)
    assert allocate(shares, {"nowhere": 5}) == {"A": 0, OTHER: 2}
    with pytest.raises(ValueError, match="demand must be >= 0"):
        allocate(shares, {"A": -1})
    with pytest.raises(ValueError, match="regions without a share"):
        SeatBook(shares, in_use={"nowhere": 1})


def test_equal_standing_is_broken_by_who_was_granted_least() -> None:
    """Fair queuing: with nothing in use, the region served least lately goes first."""
    shares = _shares({"A": 3, "B": 3, OTHER: 2}, lendable=0.5, borrowing=1.0)
    book = SeatBook(shares, waiting={"A": 30, "B": 2}, granted={"A": 0, "B": 0})
    order = []
    for _ in range(4):
        region = book.next_to_admit()
        assert region is not None
        order.append(region)
        book.waiting[region] -= 1
        book.take(region)
        book.give_back(region)  # the call ends before the next one is picked
    assert order == ["A", "B", "A", "B"]


def test_plan_shares_gives_every_share_a_seat() -> None:
    shares = plan_shares(10, {"A": 100.0, "B": 1.0}, lendable_share=1.0, borrowing_share=2.0)
    assert sum(s.nominal for s in shares.values()) == 10
    assert shares["B"].nominal >= 1 and shares[OTHER].nominal >= 1
    assert all(s.lendable == s.nominal for s in shares.values())


nominals = st.fixed_dictionaries({r: st.integers(1, 8) for r in REGIONS})
demands = st.fixed_dictionaries({r: st.integers(0, 30) for r in REGIONS})


@settings(max_examples=400, deadline=None)
@given(nominals, demands, st.floats(0, 1), st.floats(0, 3))
def test_allocation_properties(
    nominal: dict[str, int], demand: dict[str, int], lendable: float, borrowing: float
) -> None:
    """No region below min(demand, nominal); never more than the capacity or the demand;
    nobody past its borrowing limit; no lendable seat idle while a region that may still
    borrow has demand left; borrowers' shares per nominal seat within one seat (max-min)."""
    shares = _shares(nominal, lendable, borrowing)
    got = allocate(shares, demand)
    capacity = sum(nominal.values())
    assert sum(got.values()) <= capacity
    for r, share in shares.items():
        assert min(demand[r], share.nominal) <= got[r] <= demand[r]
        assert got[r] - share.nominal <= share.borrowing_limit
    # Idle seats a borrower could have: all idle seats but the unlendable ones left idle.
    reserved = sum(max(0, s.nominal - s.lendable - got[r]) for r, s in shares.items())
    idle_lendable = capacity - sum(got.values()) - reserved
    unmet = [
        r
        for r, s in shares.items()
        if got[r] < demand[r] and got[r] - s.nominal < s.borrowing_limit
    ]
    assert not (unmet and idle_lendable > 0), (got, unmet, idle_lendable)
    borrowers = [r for r in REGIONS if got[r] > shares[r].nominal]
    for r in unmet:
        for other in borrowers:
            # The region left wanting borrows no less (per seat) than any other borrower,
            # give or take the one seat that integer division leaves over.
            mine = (got[r] - shares[r].nominal) / shares[r].nominal
            theirs = (got[other] - 1 - shares[other].nominal) / shares[other].nominal
            assert mine >= theirs, (r, other, got)


@settings(max_examples=200, deadline=None)
@given(nominals, demands, st.lists(st.sampled_from(REGIONS), max_size=60))
def test_seat_by_seat_keeps_the_guarantee_whatever_ends_when(
    nominal: dict[str, int], demand: dict[str, int], endings: list[str]
) -> None:
    """Driven one seat at a time with work ending in any order, a region with work waiting
    always holds at least its unlendable seats and never sees a seat it may take idle."""
    shares = _shares(nominal, 0.5, 2.0)
    book = SeatBook(shares, waiting=dict(demand))
    for ended in [None, *endings]:
        if ended is not None and book.in_use[ended] > 0:
            book.give_back(ended)
        while (region := book.next_to_admit()) is not None:
            book.waiting[region] -= 1
            book.take(region)
        assert book.free() >= 0
        for r, share in shares.items():
            if book.waiting[r]:
                assert book.in_use[r] >= share.nominal - share.lendable
                assert not book.may_take(r)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from("ABCDEFGHIJ"), st.floats(0.5, 1000.0), min_size=1),
    st.integers(2, 12),
)
def test_pooling_fits_any_lane_and_keeps_the_weight(weights: dict[str, float], seats: int) -> None:
    """However few the seats, every share gets one and no region's weight is lost; the
    regions that keep a share of their own are the heaviest."""
    pooled = pool_smallest(weights, seats)
    shares = plan_shares(seats, pooled)
    assert sum(s.nominal for s in shares.values()) == seats
    assert sum(pooled.values()) == pytest.approx(sum(weights.values()))
    kept = set(pooled) - {OTHER}
    folded = set(weights) - kept
    if folded:
        assert min(weights[r] for r in kept) >= max(weights[r] for r in folded)
    with pytest.raises(ValueError, match="at least 2 seats"):
        pool_smallest(weights, 1)
