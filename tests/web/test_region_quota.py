"""The region quota rules: guaranteed shares, lending, borrowing, fair wake-ups (pure)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from web.region_quota import OTHER, QueueFull, RegionQuota, SeatBook, Share, plan_shares


def _book(lendable: int = 2, borrowing: int = 4, queue_limit: int = 100) -> SeatBook:
    shares = {name: Share(4, lendable, borrowing) for name in ("A", "B", "C", OTHER)}
    return SeatBook(shares, queue_limit=queue_limit)


def test_plan_shares_splits_by_weight_and_adds_other() -> None:
    shares = plan_shares(24, {"A": 3.0, "B": 1.0, "C": 1.0}, lendable_share=0.5)
    assert sum(s.nominal for s in shares.values()) == 24
    assert set(shares) == {"A", "B", "C", OTHER}
    assert shares["A"].nominal > shares["B"].nominal == shares["C"].nominal
    assert shares["A"].lendable == shares["A"].nominal // 2


def test_plan_shares_refuses_too_few_seats_and_bad_weights() -> None:
    with pytest.raises(ValueError, match="cannot give each of 4 shares one"):
        plan_shares(3, {"A": 1.0, "B": 1.0, "C": 1.0})
    with pytest.raises(ValueError, match="positive"):
        plan_shares(10, {"A": 0.0})
    with pytest.raises(ValueError, match="lendable"):
        Share(2, 3, 0)


def test_a_lone_flood_borrows_the_idle_lendable_seats_and_no_more() -> None:
    book = _book()
    taken = 0
    while book.may_take("A"):
        book.take("A")
        taken += 1
    # Its own 4 seats, plus 2 lendable from each of the three others (limit 4 borrowed).
    assert taken == 4 + 4
    # Each other region still gets its unlendable 2 seats at once, and its lent 2 back
    # only as A's requests end.
    for region in ("B", "C", OTHER):
        assert book.may_take(region)


def test_lent_seats_come_back_to_their_region_first() -> None:
    book = _book(lendable=2, borrowing=8)
    for _ in range(4 + 6):
        book.take("A")  # A holds all 6 lendable seats of the others
    for _ in range(2):
        book.take("B")  # B's unlendable seats
    assert not book.may_take("B")  # its lent seats are in A's hands
    book.waiting["A"] = book.waiting["B"] = 1
    book.give_back("A")
    assert book.next_to_admit() == "B"  # below its nominal: before A borrows again


def test_the_borrowing_limit_holds_even_with_everything_idle() -> None:
    book = _book(lendable=4, borrowing=1)
    for _ in range(5):
        book.take("A")
    assert not book.may_take("A")


def test_two_floods_split_the_idle_seats_evenly() -> None:
    book = _book(lendable=4, borrowing=8)
    for _ in range(4):
        book.take("A")
        book.take("B")
    book.waiting["A"] = book.waiting["B"] = 10
    grants = []
    while (region := book.next_to_admit()) is not None:
        book.take(region)
        book.waiting[region] -= 1
        grants.append(region)
    assert grants.count("A") == grants.count("B") == 4  # C's and other's 8 lendable seats


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C", OTHER]), st.booleans()),
        max_size=200,
    ),
    st.integers(0, 4),
    st.integers(0, 8),
)
def test_invariants_under_any_arrivals_and_departures(
    ops: list[tuple[str, bool]], lendable: int, borrowing: int
) -> None:
    """Whatever arrives and leaves: seats never exceed the total, nobody borrows past its
    limit, a waiting region always holds at least its unlendable seats, and no seat stays
    idle while someone who may take it waits (work conservation)."""
    book = _book(lendable=lendable, borrowing=borrowing)
    for region, arrive in ops:
        if arrive:
            if book.waiting[region] == 0 and book.may_take(region):
                book.take(region)
            else:
                book.waiting[region] += 1
        elif book.in_use[region] > 0:
            book.give_back(region)
        while (woken := book.next_to_admit()) is not None:
            book.waiting[woken] -= 1
            book.take(woken)
        assert sum(book.in_use.values()) <= book.total
        for name, share in book.shares.items():
            assert book.in_use[name] - share.nominal <= share.borrowing_limit
            if book.waiting[name]:
                assert book.in_use[name] >= share.nominal - share.lendable
                assert not book.may_take(name)


def test_the_async_quota_queues_wakes_and_refuses_past_the_queue_limit() -> None:
    async def scenario() -> None:
        quota = RegionQuota(_book(lendable=0, borrowing=0, queue_limit=2))
        for _ in range(4):
            await quota.acquire("A")
        waiters = [asyncio.ensure_future(quota.acquire("A")) for _ in range(2)]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiters)
        with pytest.raises(QueueFull):
            await quota.acquire("A")
        await quota.acquire("B")  # another region is not held up by A's queue
        quota.release("A")
        await asyncio.sleep(0)
        assert waiters[0].done() and not waiters[1].done()
        waiters[1].cancel()
        await asyncio.sleep(0)
        assert quota.book.waiting["A"] == 0
        assert quota.book.in_use == {"A": 4, "B": 1, "C": 0, OTHER: 0}

    asyncio.run(scenario())


def test_an_unknown_region_uses_the_other_share() -> None:
    quota = RegionQuota(_book())
    assert quota.book.share_of("nowhere") == OTHER
    assert quota.book.share_of(None) == OTHER
