"""The desk's next call: which ringing call an agent should take, by the region rule.

The desk used to take the oldest ringing call, so in a storm one region's thirty calls stood
in front of another region's two, and the other region's callers waited out the storm's
whole queue. The offer applies the rule the admission gate and the call-queue simulation
share (``hotline.region_shares``): agents are the seats, divided among supply regions by
customers; a region's busy agents are its calls answered and not yet ended; waiting calls
are the ringing ones. The region the rule names gets the offer (below its guaranteed share
first, then the one borrowing least), and within a region the oldest call.

The desk keeps no state between requests (but the regions' customer counts, cached for a
few minutes), so the fair-queuing tie-break (regions of equal standing take turns, the one
served least per guaranteed agent first) is seeded with the calls each region had answered
by agents in the last ``FAIR_WINDOW``: an agent who answers and hangs up between offers
still alternates between regions. Every idle agent is lendable
and borrowing is unlimited: an agent who asks is free, and an offer of nothing while calls
ring would leave an agent idle.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from geo.models import Premise, Region, User
from hotline.call_schemas import CallOffer, OfferReason, RegionQueue
from hotline.calls import read_call
from hotline.models import Call
from hotline.region_shares import OTHER, SeatBook, plan_shares

# How far back answered calls count for taking turns: about a few handle times.
FAIR_WINDOW = dt.timedelta(minutes=15)
# A call rings for minutes; one "ringing" for longer lost its abandon on the way from the
# CTI. Every count reads calls started since then, a range of the started_at index.
RINGING_WINDOW = dt.timedelta(hours=2)
# Customers per region (the share weights) change with imports, not between polls: each
# desk polls every 2 s, and counting a million premises takes a tenth of a second.
WEIGHTS_TTL_S = 300.0
_weights_lock = threading.Lock()
_weights: tuple[float, dict[str, float]] | None = None


def _per_region(session: Session, stmt: Select[str, int]) -> dict[str, int]:
    rows = session.execute(stmt).all()
    counts: dict[str, int] = {}
    for code, n in rows:
        key = code or OTHER
        counts[key] = counts.get(key, 0) + int(n)
    return counts


def _counts(session: Session, *where: ColumnElement[bool]) -> dict[str, int]:
    stmt = (
        select(Region.code, func.count(Call.id))
        .select_from(Call)
        .outerjoin(Region, Region.id == Call.region_id)
        .where(*where)
        .group_by(Region.code)
    )
    return _per_region(session, stmt)


def _region_weights(session: Session) -> dict[str, float]:
    """Customers per region (at least 1 each), counted at most every ``WEIGHTS_TTL_S``."""
    global _weights
    with _weights_lock:
        if _weights is not None and time.monotonic() - _weights[0] < WEIGHTS_TTL_S:
            return _weights[1]
    stmt = (
        select(Region.code, func.count(Premise.id))
        .select_from(Region)
        .outerjoin(Premise, Premise.region_id == Region.id)
        .group_by(Region.code)
    )
    weights = {code: float(max(n, 1)) for code, n in _per_region(session, stmt).items()}
    with _weights_lock:
        _weights = (time.monotonic(), weights)
    return weights


def _agents(session: Session) -> int:
    stmt = select(func.count(User.id)).where(User.role.in_(("agent", "supervisor")), User.active)
    return int(session.scalar(stmt) or 0)


def _oldest(session: Session, share: str, known: set[str], since: dt.datetime) -> Call | None:
    stmt = select(Call).where(
        Call.started_at >= since, Call.status == "ringing", Call.agent_id.is_(None)
    )
    if share == OTHER:
        stmt = stmt.outerjoin(Region, Region.id == Call.region_id).where(
            Region.code.is_(None) | Region.code.not_in(known)
        )
    else:
        stmt = stmt.join(Region, Region.id == Call.region_id).where(Region.code == share)
    return session.scalar(stmt.order_by(Call.started_at, Call.id).limit(1))


def offer_call(*, session: Session, user: User, now: dt.datetime) -> CallOffer:
    """The ringing call ``user`` should answer next (one routed to them comes first)."""
    since = now - RINGING_WINDOW
    recent_since = Call.started_at >= since
    routed = session.scalar(
        select(Call)
        .where(recent_since, Call.status == "ringing", Call.agent_id == user.id)
        .order_by(Call.started_at, Call.id)
        .limit(1)
    )
    waiting = _counts(session, recent_since, Call.status == "ringing", Call.agent_id.is_(None))
    busy = _counts(session, recent_since, Call.status == "answered")
    recent = _counts(
        session,
        recent_since,
        Call.answered_by == "agent",
        Call.answered_at >= now - FAIR_WINDOW,
    )
    weights = _region_weights(session) or {OTHER: 1.0}
    # The asking agent is free whatever the roster says, so there is always a seat to give.
    agents = max(_agents(session), sum(busy.values()) + 1, len(weights) + 1)
    shares = plan_shares(agents, weights, lendable_share=1.0, borrowing_share=float(agents))
    book = SeatBook(shares)

    def fold(counts: dict[str, int], into: dict[str, int]) -> None:
        for code, n in counts.items():
            into[book.share_of(code)] += n

    fold(waiting, book.waiting)
    fold(busy, book.in_use)
    fold(recent, book.granted)
    queues = [
        RegionQueue(
            region=name,
            waiting=book.waiting[name],
            busy=book.in_use[name],
            answered_recently=book.granted[name],
            nominal_agents=share.nominal,
        )
        for name, share in sorted(shares.items())
        if book.waiting[name] or book.in_use[name]
    ]
    if routed is not None:
        return _offer(session, routed, "routed_to_you", agents, queues)
    region = book.next_to_admit()
    if region is None:
        return CallOffer(
            call=None, region=None, reason="none_waiting", agents=agents, queues=queues
        )
    below = book.in_use[region] < shares[region].nominal
    call = _oldest(session, region, set(shares) - {OTHER}, since)
    assert call is not None, region  # the counts and the lookup read the same rows
    return _offer(session, call, "below_share" if below else "borrowing", agents, queues)


def _offer(
    session: Session, call: Call, reason: OfferReason, agents: int, queues: list[RegionQueue]
) -> CallOffer:
    read = read_call(session=session, call=call)
    return CallOffer(
        call=read,
        region=read.region or OTHER,
        reason=reason,
        agents=agents,
        queues=queues,
    )
