"""The wallboard's next 30 minutes from a stored roster plan: forecast calls x rostered agents.

The 30 minutes from ``now`` overlap two half hours of the plan: the rest of the current
one and the start of the next, each with its own forecast and its own agents on the
phones. Each piece is a short stationary queue (Erlang A with the callers' patience);
its late calls (answered after 20 s, or abandoned) are the piece's calls times one less
its service level, and a piece with calls and no agent loses all of them. The pieces
sum to the half hour's figures.

The plan's forecast was made days before and cannot see a storm that started an hour
ago; the calls of the last hour, held, can. So the calls predicted are the larger of the
two, spread over the pieces as the forecast spreads them (by duration when the forecast
expects none): a storm raises the prediction, a quiet evening does not lower the
forecast.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hotline.models import WEEK_HALF_HOURS, RosterPlan
from hotline.staffing.erlang import erlang_a, offered_load
from hotline.stats.calls import SERVICE_LEVEL_S

HALF_HOUR = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Prediction:
    """Calls expected in the next 30 minutes, their service level and late calls."""

    basis: str
    calls: float
    service_level: float | None
    late_calls: int | None


@dataclass(frozen=True)
class _Piece:
    duration_s: float
    calls: float
    agents: int


def _pieces(plan: RosterPlan, now: dt.datetime) -> list[_Piece]:
    """The rest of the current half hour and the start of the next (the week is cyclic, as
    the roster is: after Sunday 23:30 comes the plan's Monday 00:00)."""
    into = (now - plan.starts_at) / HALF_HOUR
    slot = int(into)
    done = into - slot
    out = []
    for k, share in ((slot, 1.0 - done), (slot + 1, done)):
        if share <= 0.0:
            continue
        t = k % WEEK_HALF_HOURS
        calls = float(plan.calls_forecast[t]) * (1.0 - plan.ivr_share) * share
        out.append(_Piece(share * HALF_HOUR.total_seconds(), calls, int(plan.rostered_agents[t])))
    return out


def _late(piece: _Piece, *, aht_s: float, patience_s: float) -> float:
    if piece.calls <= 0.0:
        return 0.0
    if piece.agents <= 0:
        return piece.calls
    load = offered_load(piece.calls, piece.duration_s, aht_s)
    figures = erlang_a(
        piece.agents, load, aht_s=aht_s, target_s=SERVICE_LEVEL_S, patience_s=patience_s
    )
    return piece.calls * (1.0 - figures.service_level)


def roster_prediction(
    plan: RosterPlan, now: dt.datetime, *, held_calls: float, aht_s: float, patience_s: float
) -> Prediction:
    """The next 30 minutes under ``plan`` (its week must contain ``now``)."""
    pieces = _pieces(plan, now)
    forecast = sum(p.calls for p in pieces)
    calls = max(forecast, held_calls)
    if forecast > 0.0:
        pieces = [_Piece(p.duration_s, p.calls * calls / forecast, p.agents) for p in pieces]
    else:
        total_s = sum(p.duration_s for p in pieces)
        pieces = [_Piece(p.duration_s, calls * p.duration_s / total_s, p.agents) for p in pieces]
    if calls <= 0.0:
        return Prediction("roster", 0.0, None, 0)
    late = sum(_late(p, aht_s=aht_s, patience_s=patience_s) for p in pieces)
    return Prediction("roster", calls, round(1.0 - late / calls, 4), round(late))
