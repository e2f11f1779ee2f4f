"""The planning flow: ``prepare`` (read the problem), solve in the worker, ``finish`` (store).

One pair of steps serves everyone who plans: the API route (it prepares in a thread, ends
its read-only transaction, awaits the worker process and finishes), and ``propose``, the
same three steps in one blocking call for tests and the benchmark.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dispatch import solve_worker
from dispatch.models import DispatchPlan
from dispatch.problem import PlanContext, build_problem
from dispatch.proposals import proposal_document, store_proposal
from dispatch.settings import DispatchSettings
from routing.problem import Problem


@dataclass(frozen=True)
class Prepared:
    """What a solve needs (the problem) and what storing its answer needs (the context)."""

    problem: Problem
    context: PlanContext


def prepare(*, session: Session, now: dt.datetime, settings: DispatchSettings) -> Prepared:
    """Read the live orders and available crews into a routing problem (no writes).

    Raises ``NothingToPlan`` when no crew is on shift and none has a visit in progress.
    """
    problem, context = build_problem(session=session, now=now, settings=settings)
    return Prepared(problem=problem, context=context)


def finish(
    *,
    session: Session,
    prepared: Prepared,
    result: solve_worker.SolveResult,
    solve_s: float,
    actor: str,
) -> DispatchPlan:
    """Turn a solved plan into the stored proposal (document building plus the insert)."""
    document = proposal_document(
        prepared.problem,
        result.plan,
        prepared.context,
        violations=result.violations,
        solve_s=solve_s,
    )
    return store_proposal(
        session=session, document=document, context=prepared.context, solve_s=solve_s, actor=actor
    )


def propose(
    *,
    session: Session,
    now: dt.datetime,
    settings: DispatchSettings,
    time_limit_s: float,
    actor: str,
    seed: int = 0,
) -> DispatchPlan:
    """Prepare, solve in the worker process (blocking this thread), finish: one call."""
    prepared = prepare(session=session, now=now, settings=settings)
    started = time.perf_counter()
    result = solve_worker.submit(prepared.problem, time_limit_s=time_limit_s, seed=seed).result()
    solve_s = time.perf_counter() - started
    return finish(session=session, prepared=prepared, result=result, solve_s=solve_s, actor=actor)
