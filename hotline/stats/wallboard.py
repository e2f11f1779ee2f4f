"""The live wallboard: per region, the queue, today's call figures, agents by state,
orders and tickets past their clocks, and what the next 30 minutes will bring.

One snapshot serves the wallboard stream, its JSON and the Prometheus metrics, so the
three always agree; the test recounts every total from the records one by one.

The next 30 minutes: the orders whose 95598 deadline falls within them and that their
crew will not meet (no crew on the way, or an ETA past the deadline), and the calls
expected, the service level Erlang A predicts for them and the calls it predicts will
wait past 20 s or hang up (``predicted_late_calls``). Where a roster plan is in force for
the region (``hotline.roster_plans``), the calls are its forecast and the agents its
rostered ones (``prediction_basis: "roster"``, see ``hotline.stats.prediction``);
otherwise the last hour's arrivals, held, against the agents working now
(``"current_agents"``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from dispatch.models import BEFORE_SITE_STATUSES, LIVE_STATUSES, WorkOrder
from geo.models import Region
from hotline.models import OPEN_STATUSES, RosterPlan, Ticket
from hotline.roster_plans import plan_in_force
from hotline.settings import HotlineSettings
from hotline.staffing.erlang import erlang_a, offered_load
from hotline.stats.calls import SERVICE_LEVEL_S
from hotline.stats.calls_source import LiveQueue, live_calls
from hotline.stats.prediction import Prediction, roster_prediction
from hotline.trail import clock_of, trails
from outages.models import Report

HORIZON = dt.timedelta(minutes=30)
UNKNOWN = "unknown"


@dataclass
class RegionBoard:
    """One region's tiles (``region`` is ``total`` for the whole centre)."""

    region: str
    contacts_today: int = 0
    calls_waiting: int | None = None
    longest_wait_s: float | None = None
    calls_today: int | None = None
    service_level: float | None = None
    answer_rate: float | None = None
    abandon_rate: float | None = None
    agents: dict[str, int] = field(default_factory=dict)
    orders_live: int = 0
    orders_overdue: int = 0
    tickets_open: int = 0
    tickets_overdue: int = 0
    predicted_breaches: int = 0
    predicted_calls: float | None = None
    predicted_service_level: float | None = None
    predicted_late_calls: int | None = None
    prediction_basis: str | None = None


@dataclass(frozen=True)
class Board:
    as_of: dt.datetime
    regions: list[RegionBoard]
    total: RegionBoard

    def as_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "regions": [asdict(r) for r in self.regions],
            "total": asdict(self.total),
        }


def _orders(session: Session, now: dt.datetime) -> dict[str, tuple[int, int, int]]:
    """Per region: live orders, overdue, and predicted to breach within the horizon."""
    soon = now + HORIZON
    before_site = WorkOrder.status.in_(BEFORE_SITE_STATUSES)
    live = WorkOrder.status.in_(LIVE_STATUSES)
    overdue = or_(
        and_(before_site, WorkOrder.onsite_due_at < now),
        and_(live, WorkOrder.restore_due_at < now),
    )
    late_eta = or_(WorkOrder.eta_at.is_(None), WorkOrder.eta_at > WorkOrder.onsite_due_at)
    breach = and_(
        ~overdue,
        or_(
            and_(before_site, WorkOrder.onsite_due_at.between(now, soon), late_eta),
            and_(live, WorkOrder.restore_due_at.between(now, soon)),
        ),
    )
    rows = session.execute(
        select(
            func.coalesce(Region.code, UNKNOWN),
            func.count(),
            func.sum(case((overdue, 1), else_=0)),
            func.sum(case((breach, 1), else_=0)),
        )
        .select_from(WorkOrder)
        .outerjoin(Region, Region.id == WorkOrder.region_id)
        .where(live)
        .group_by(Region.code)
    ).all()
    return {code: (int(n), int(late or 0), int(soon_n or 0)) for code, n, late, soon_n in rows}


def _tickets(
    session: Session, now: dt.datetime, settings: HotlineSettings
) -> dict[str, tuple[int, int]]:
    """Per region: open tickets and those whose answer clock (or contact clock) ran out."""
    found = session.execute(
        select(Ticket, func.coalesce(Region.code, UNKNOWN))
        .outerjoin(Region, Region.id == Ticket.region_id)
        .where(Ticket.status.in_(OPEN_STATUSES))
    ).all()
    steps = trails(session=session, ticket_ids=[t.id for t, _ in found])
    out: dict[str, tuple[int, int]] = {}
    for ticket, code in found:
        clock = clock_of(ticket=ticket, trail=steps[ticket.id], now=now, settings=settings)
        n, late = out.get(code, (0, 0))
        out[code] = (n + 1, late + int(clock.overdue or clock.contact_overdue))
    return out


def _contacts(session: Session, since: dt.datetime, now: dt.datetime) -> dict[str, int]:
    rows = session.execute(
        select(func.coalesce(Region.code, UNKNOWN), func.count())
        .select_from(Report)
        .outerjoin(Region, Region.id == Report.region_id)
        .where(Report.received_at >= since, Report.received_at <= now)
        .group_by(Region.code)
    ).all()
    return {code: int(n) for code, n in rows}


def predicted_service_level(
    calls_per_30min: float, agents: int, *, aht_s: float, patience_s: float
) -> float | None:
    """Erlang A service level of the next half hour; None without calls or agents known."""
    if agents <= 0 or calls_per_30min <= 0:
        return None
    load = offered_load(calls_per_30min, HORIZON.total_seconds(), aht_s)
    figures = erlang_a(agents, load, aht_s=aht_s, target_s=SERVICE_LEVEL_S, patience_s=patience_s)
    return round(figures.service_level, 4)


def wallboard(*, session: Session, now: dt.datetime, settings: HotlineSettings) -> Board:
    """The snapshot at ``now`` (today: since local midnight)."""
    midnight = dt.datetime.combine(
        now.astimezone(ZoneInfo(settings.timezone)).date(), dt.time(), ZoneInfo(settings.timezone)
    )
    orders = _orders(session, now)
    tickets = _tickets(session, now, settings)
    contacts = _contacts(session, midnight, now)
    calls = live_calls(session=session, since=midnight, now=now)
    plans = plan_in_force(session=session, now=now)
    codes = sorted(
        set(session.scalars(select(Region.code))) | orders.keys() | tickets.keys() | contacts.keys()
    )
    boards = []
    for code in codes:
        board = RegionBoard(region=code, contacts_today=contacts.get(code, 0))
        board.orders_live, board.orders_overdue, board.predicted_breaches = orders.get(
            code, (0, 0, 0)
        )
        board.tickets_open, board.tickets_overdue = tickets.get(code, (0, 0))
        queue = calls.get(code)
        if queue is not None:
            board.calls_waiting = queue.waiting
            board.longest_wait_s = queue.longest_wait_s
            board.calls_today = queue.offered
            board.service_level = queue.service_level
            board.answer_rate = queue.answer_rate
            board.abandon_rate = queue.abandon_rate
            board.agents = dict(queue.agents)
        _predict(board, queue, plans.get(code), now, settings)
        boards.append(board)
    return Board(now, boards, _total(boards))


def _predict(
    board: RegionBoard,
    queue: LiveQueue | None,
    plan: RosterPlan | None,
    now: dt.datetime,
    settings: HotlineSettings,
) -> None:
    """The next 30 minutes' calls, service level and late calls on the best basis known."""
    held = queue.last_hour / 2.0 if queue is not None else 0.0
    prediction: Prediction | None = None
    if plan is not None:
        prediction = roster_prediction(
            plan,
            now,
            held_calls=held,
            aht_s=settings.wallboard_aht_s,
            patience_s=settings.wallboard_patience_s,
        )
    elif queue is not None:
        working = queue.agents.get("on_call", 0) + queue.agents.get("wrap_up", 0)
        level = predicted_service_level(
            held, working, aht_s=settings.wallboard_aht_s, patience_s=settings.wallboard_patience_s
        )
        late = None if level is None else round(held * (1.0 - level))
        prediction = Prediction("current_agents", held, level, late)
    if prediction is None:
        return
    board.prediction_basis = prediction.basis
    board.predicted_calls = round(prediction.calls, 2)
    board.predicted_service_level = prediction.service_level
    board.predicted_late_calls = prediction.late_calls


def _total(boards: list[RegionBoard]) -> RegionBoard:
    total = RegionBoard(region="total")
    for b in boards:
        total.contacts_today += b.contacts_today
        total.orders_live += b.orders_live
        total.orders_overdue += b.orders_overdue
        total.tickets_open += b.tickets_open
        total.tickets_overdue += b.tickets_overdue
        total.predicted_breaches += b.predicted_breaches
        if b.predicted_late_calls is not None:
            total.predicted_late_calls = (total.predicted_late_calls or 0) + b.predicted_late_calls
        if b.calls_waiting is not None:
            total.calls_waiting = (total.calls_waiting or 0) + b.calls_waiting
            total.calls_today = (total.calls_today or 0) + (b.calls_today or 0)
            waits = [w for w in (total.longest_wait_s, b.longest_wait_s) if w is not None]
            total.longest_wait_s = max(waits) if waits else None
            for state, n in b.agents.items():
                total.agents[state] = total.agents.get(state, 0) + n
    _total_prediction(total, boards)
    return total


def _total_prediction(total: RegionBoard, boards: list[RegionBoard]) -> None:
    """The centre's next 30 minutes: calls summed, service level weighted by calls."""
    predicted = [b for b in boards if b.prediction_basis is not None]
    if not predicted:
        return
    bases = {b.prediction_basis for b in predicted}
    total.prediction_basis = bases.pop() if len(bases) == 1 else "mixed"
    total.predicted_calls = round(sum(b.predicted_calls or 0.0 for b in predicted), 2)
    weighed = [b for b in predicted if b.predicted_service_level is not None]
    calls = sum(b.predicted_calls or 0.0 for b in weighed)
    if calls > 0:
        level = sum(
            (b.predicted_calls or 0.0) * (b.predicted_service_level or 0.0) for b in weighed
        )
        total.predicted_service_level = round(level / calls, 4)
