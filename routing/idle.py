"""Idle crews take waiting work: the last improvement of a plan, priced by the customers' wait.

A time-limited search that prices driving and lateness past the SLA deadline leaves a crew on
shift idle while a job with its skills waits behind another crew's work, whenever the chain is
a few minutes of driving cheaper and still inside the deadline (found in the demo: a hospital's
transformer waited an hour behind a storm's recloser while a transformer crew stood at its
depot). A dispatcher sends the idle crew. This pass does what the dispatcher would: while some
crew has nothing to do, it moves the served job whose move to such a crew saves the most,
counting driving, lateness and each job's ``wait_cost`` per second until its service starts
(on the job moved and on every job behind it on its old route), and stops when no move
saves anything.

It never changes which jobs are served (the strict urgency rule stays as the search left it),
never moves a frozen visit, and gives each idle crew at most one job, so it ends after at most
as many moves as there are idle crews. The solver runs it only when some job's wait is priced
(dispatch): otherwise a move saves only driving and lateness, which the search has weighed,
and the VRPTW benchmarks, with many unused vehicles, would pay for the pass past their limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from routing.model import max_score, route_value
from routing.problem import Problem
from routing.schedule import can_serve


@dataclass(frozen=True)
class _Move:
    saving: int
    job: int
    source: int
    position: int
    target: int


def use_idle_crews(problem: Problem, orders: list[list[int]]) -> int:
    """Move waiting jobs to idle crews where that saves cost; ``orders`` changes in place.

    Returns the number of jobs moved.
    """
    top = max_score(problem)
    frozen = problem.frozen_owner
    known: dict[tuple[int, tuple[int, ...]], int | None] = {}

    def value(crew: int, order: Sequence[int]) -> int | None:
        # Routes the last move did not touch are priced again in the next round: remembered.
        key = (crew, tuple(order))
        if key not in known:
            known[key] = route_value(problem, crew, order, top)
        return known[key]

    moved = 0
    while True:
        idle = [c for c, order in enumerate(orders) if not order]
        if not idle:
            return moved
        best = _best_move(problem, orders, idle, frozen, value)
        if best is None:
            return moved
        del orders[best.source][best.position]
        orders[best.target] = [best.job]
        moved += 1


def _best_move(
    problem: Problem,
    orders: list[list[int]],
    idle: list[int],
    frozen: dict[int, int],
    value: Callable[[int, Sequence[int]], int | None],
) -> _Move | None:
    """The move of one served, unfrozen job to an idle crew that saves the most, if any."""
    idle_value = {k: value(k, []) or 0 for k in idle}
    best: _Move | None = None
    for source, order in enumerate(orders):
        before = value(source, order)
        if before is None:
            continue
        for position, j in enumerate(order):
            if j in frozen:
                continue
            rest = value(source, order[:position] + order[position + 1 :])
            if rest is None:
                continue
            for target in idle:
                if not can_serve(problem, target, j):
                    continue
                alone = value(target, [j])
                if alone is None:
                    continue
                saving = before + idle_value[target] - rest - alone
                if saving > 0 and (best is None or saving > best.saving):
                    best = _Move(saving, j, source, position, target)
    return best
