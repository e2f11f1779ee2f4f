"""Planning: propose routes for the open work orders, inspect and apply a proposal."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from dispatch import planning, solve_worker
from dispatch.current import current_routes
from dispatch.proposals import apply_plan as apply_proposal
from dispatch.proposals import plan_read
from dispatch.schemas import ApplyRead, CurrentRoutesRead, PlanRead, PlanRequest
from geo.models import User
from web.deps import NowDep, PlanDep, SessionDep, SettingsDep, require_role
from web.settings import Settings

router = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch"])
Dispatcher = Annotated[User, Depends(require_role("dispatcher"))]
Staff = Annotated[User, Depends(require_role("dispatcher", "agent", "crew"))]
# A proposal holds every crew's route: not for crews (they read their own route only).
Planner = Annotated[User, Depends(require_role("dispatcher", "agent"))]


def _prepare(session: SessionDep, now: dt.datetime, settings: Settings) -> planning.Prepared:
    prepared = planning.prepare(session=session, now=now, settings=settings)
    # Read-only so far: end the transaction so no connection idles in it during the solve
    # (the one commit inside a route; the unit of work commits the proposal it stores).
    session.commit()
    return prepared


def _finish(
    session: SessionDep,
    prepared: planning.Prepared,
    result: solve_worker.SolveResult,
    solve_s: float,
    actor: str,
) -> PlanRead:
    plan = planning.finish(
        session=session, prepared=prepared, result=result, solve_s=solve_s, actor=actor
    )
    return plan_read(plan)


@router.post("/plan", response_model=PlanRead)
async def make_plan(
    user: Dispatcher,
    data: PlanRequest,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> PlanRead:
    """Propose routes for the open orders and on-shift crews (solved in a worker process)."""
    prepared = await run_in_threadpool(_prepare, session, now, settings)
    started = time.perf_counter()
    future = solve_worker.submit(prepared.problem, time_limit_s=data.time_limit_s, seed=data.seed)
    result = await asyncio.wrap_future(future)
    solve_s = time.perf_counter() - started
    return await run_in_threadpool(_finish, session, prepared, result, solve_s, user.username)


@router.get("/plans/{plan_id}", response_model=PlanRead)
def get_plan(user: Planner, plan: PlanDep) -> PlanRead:
    """One stored proposal with its status."""
    return plan_read(plan)


@router.post("/plans/{plan_id}/apply", response_model=ApplyRead)
def apply_plan(
    user: Dispatcher,
    plan: PlanDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> ApplyRead:
    """Make a proposal the current plan; 409 when assignments changed since it was made."""
    result = apply_proposal(
        session=session, plan_id=plan.id, settings=settings, now=now, actor=user.username
    )
    return ApplyRead.model_validate(result, from_attributes=True)


@router.get("/current", response_model=CurrentRoutesRead)
def current(
    user: Staff,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> CurrentRoutesRead:
    """Current routes per crew with ETAs and leg geometry; flags unassigned priority-1 orders."""
    # The console loads this first: start the solver's worker process now, not on the plan.
    solve_worker.start_in_background()
    routes = CurrentRoutesRead.model_validate(
        current_routes(session=session, now=now, settings=settings)
    )
    if user.role == "crew":  # a crew reads its own route only
        routes.routes = [r for r in routes.routes if r.crew_id == user.crew_id]
    return routes
