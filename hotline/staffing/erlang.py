"""Erlang C (callers wait forever) and Erlang A (callers hang up), written small and exact.

Erlang C is the M/M/n queue every workforce tool starts from. Erlang A (M/M/n+M, Palm's
queue, Garnett, Mandelbaum and Reiman 2002) adds exponential patience: a waiting caller
hangs up at rate 1/patience. Erlang C overstates waiting under load and says nothing about
abandonment; Erlang A predicts it, and is stable even when calls exceed capacity, which is
a storm night.

Erlang A here is the exact stationary birth-death chain (truncated where its tail is below
1e-12), and its service level is exact too: a caller who finds j others waiting is answered
after the sum of exponential stages of rates n mu + k theta (k = j+1 .. 1) if patience lasts
that long; tilting by the patience survival e^(-theta V) turns that into the product
n mu / (n mu + (j+1) theta) times the distribution function of stages of rates
n mu + (k+1) theta, which one pure-birth chain's transient distribution (uniformized)
gives for every j.
The service level counts a caller who hangs up as not answered in time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

TAIL = 1e-12


@dataclass(frozen=True)
class QueueFigures:
    """What a staffing level gives for one interval (times in seconds, rates as fractions)."""

    agents: int
    load_erlangs: float
    wait_probability: float
    service_level: float
    abandon_probability: float
    asa_s: float
    occupancy: float


def offered_load(calls: float, interval_s: float, aht_s: float) -> float:
    """Erlangs offered: calls per second times the average handle time."""
    if calls < 0 or interval_s <= 0 or aht_s <= 0:
        msg = f"calls >= 0, interval_s > 0 and aht_s > 0 needed: {calls}, {interval_s}, {aht_s}"
        raise ValueError(msg)
    return calls / interval_s * aht_s


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/n/n, by the recursion that never overflows."""
    blocked = 1.0
    for k in range(1, agents + 1):
        blocked = load * blocked / (k + load * blocked)
    return blocked


def erlang_c(agents: int, load: float, *, aht_s: float, target_s: float) -> QueueFigures:
    """Erlang C figures; with ``agents <= load`` the queue grows without bound (SL 0)."""
    _check_agents(agents)
    if agents <= load:
        return QueueFigures(agents, load, 1.0, 0.0, 0.0, math.inf, 1.0)
    blocked = erlang_b(agents, load)
    waits = agents * blocked / (agents - load * (1.0 - blocked))
    slack = agents - load
    service_level = 1.0 - waits * math.exp(-slack * target_s / aht_s)
    asa_s = waits * aht_s / slack
    return QueueFigures(agents, load, waits, service_level, 0.0, asa_s, load / agents)


def erlang_a(
    agents: int, load: float, *, aht_s: float, target_s: float, patience_s: float
) -> QueueFigures:
    """Erlang A figures: exact stationary M/M/n+M with mean patience ``patience_s``."""
    _check_agents(agents)
    if patience_s <= 0 or aht_s <= 0:
        msg = f"patience_s and aht_s must be positive: {patience_s}, {aht_s}"
        raise ValueError(msg)
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    lam = load * mu
    probs = _stationary(agents, lam, mu, theta)
    waiting = probs[agents:]
    queue = np.arange(waiting.size, dtype=np.float64)
    wait_probability = float(waiting.sum())
    queue_length = float((queue * waiting).sum())
    abandon = theta * queue_length / lam if lam > 0 else 0.0
    answered_late = _answered_within(agents, mu, theta, waiting.size, target_s)
    service_level = float(probs[:agents].sum() + (waiting * answered_late).sum())
    asa_s = queue_length / lam if lam > 0 else 0.0
    occupancy = lam * (1.0 - abandon) / (agents * mu)
    return QueueFigures(agents, load, wait_probability, service_level, abandon, asa_s, occupancy)


def _stationary(agents: int, lam: float, mu: float, theta: float) -> npt.NDArray[np.float64]:
    """p[k] of k callers in the system, grown until the tail is negligible."""
    logs = [0.0]
    k = 0
    while True:
        k += 1
        death = min(k, agents) * mu + max(k - agents, 0) * theta
        logs.append(logs[-1] + math.log(lam / death) if lam > 0 else -math.inf)
        if k > agents and (lam <= 0 or logs[-1] < max(logs) + math.log(TAIL)):
            break
    log_p = np.array(logs)
    p = np.exp(log_p - log_p.max())
    return np.asarray(p / p.sum(), dtype=np.float64)


def _answered_within(
    agents: int, mu: float, theta: float, states: int, target_s: float
) -> npt.NDArray[np.float64]:
    """P(answered within ``target_s``) for a caller finding j = 0..states-1 waiting."""
    j = np.arange(states, dtype=np.float64)
    served_mu = agents * mu
    survives = served_mu / (served_mu + (j + 1) * theta)
    # Pure birth through stages of rates n mu + (k + 1) theta, k = 0, 1, ...; the caller
    # finding j waiting needs j + 1 of them done by the target.
    rates = served_mu + (np.arange(states, dtype=np.float64) + 1) * theta
    done = _pure_birth(rates, target_s)
    at_least = np.cumsum(done[::-1])[::-1]  # at_least[m] = P(m or more stages done)
    return np.asarray(survives * at_least[1 : states + 1], dtype=np.float64)


def _pure_birth(rates: npt.NDArray[np.float64], t: float) -> npt.NDArray[np.float64]:
    """P(k stages done by ``t``), k = 0..len(rates), stage k left at ``rates[k]``.

    Uniformization: at the largest rate R the chain jumps at Poisson(R t) epochs and
    moves on with probability rate / R at each, so the distribution at ``t`` is a Poisson
    mixture of a few dozen cheap vector steps (dense matrix exponentials cost 10-40 ms).
    """
    uniform = float(rates.max()) if rates.size else 0.0
    p = np.zeros(rates.size + 1)
    p[0] = 1.0
    if uniform * t <= 0.0:
        return p
    move = np.concatenate([rates / uniform, [0.0]])
    mean = uniform * t
    steps = int(mean + 10.0 * math.sqrt(mean) + 20)
    weights = stats.poisson.pmf(np.arange(steps + 1), mean)
    out = weights[0] * p
    for k in range(1, steps + 1):
        moved = p * move
        p = p - moved
        p[1:] += moved[:-1]
        out += weights[k] * p
    return np.asarray(out / weights.sum(), dtype=np.float64)


def _check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 1:
        msg = f"agents must be a whole number of at least 1, got {agents!r}"
        raise ValueError(msg)
