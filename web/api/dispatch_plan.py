"""Planning: propose routes for the open work orders, inspect and apply a proposal."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dispatch import planning, solve_worker
from dispatch.plan_schemas import PlanRequest
from geo.models import User
from routing.problem import Problem
from web.deps import NowDep, SessionDep, SettingsDep, require_role
from web.settings import Settings

router = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch"])
Dispatcher = Annotated[User, Depends(require_role("dispatcher"))]
Staff = Annotated[User, Depends(require_role("dispatcher", "agent", "crew"))]


def _build(
    session: Session, now: dt.datetime, settings: Settings
) -> tuple[Problem, planning.PlanContext]:
    problem, context = planning.build_problem(session=session, now=now, settings=settings)
    # Read-only so far: end the transaction so no connection idles in it during the solve
    # (the one commit inside a route; the unit of work commits the proposal it stores).
    session.commit()
    return problem, context


def _store(
    session: Session,
    problem: Problem,
    context: planning.PlanContext,
    result: solve_worker.SolveResult,
    solve_s: float,
    actor: str,
) -> dict[str, Any]:
    plan = planning.finish_proposal(
        session=session,
        problem=problem,
        context=context,
        result=result,
        solve_s=solve_s,
        actor=actor,
    )
    return planning.plan_read(plan)


@router.post("/plan")
async def make_plan(
    data: PlanRequest, session: SessionDep, settings: SettingsDep, now: NowDep, user: Dispatcher
) -> dict[str, Any]:
    """Propose routes for the open orders and on-shift crews (solved in a worker process)."""
    problem, context = await run_in_threadpool(_build, session, now, settings)
    started = time.perf_counter()
    future = solve_worker.submit(problem, time_limit_s=data.time_limit_s, seed=data.seed)
    result = await asyncio.wrap_future(future)
    solve_s = time.perf_counter() - started
    return await run_in_threadpool(
        _store, session, problem, context, result, solve_s, user.username
    )


@router.get("/plans/{plan_id}")
def get_plan(plan_id: int, session: SessionDep, user: Staff) -> dict[str, Any]:
    """One stored proposal with its status."""
    return planning.plan_read(planning.get_plan(session=session, plan_id=plan_id))


@router.post("/plans/{plan_id}/apply")
def apply_plan(
    plan_id: int, session: SessionDep, settings: SettingsDep, now: NowDep, user: Dispatcher
) -> dict[str, Any]:
    """Make a proposal the current plan; 409 when assignments changed since it was made."""
    result = planning.apply_plan(
        session=session, plan_id=plan_id, settings=settings, now=now, actor=user.username
    )
    return {
        "plan_id": result.plan_id,
        "status": "applied",
        "version": result.version,
        "changed": result.changed,
        "unassigned": result.unassigned,
        "skipped": result.skipped,
    }


@router.get("/current")
def current(session: SessionDep, settings: SettingsDep, now: NowDep, user: Staff) -> dict[str, Any]:
    """Current routes per crew with ETAs and leg geometry; flags unassigned priority-1 orders."""
    # The console loads this first: start the solver's worker process now, not on the plan.
    solve_worker.start_in_background()
    return planning.current_routes(session=session, now=now, settings=settings)
