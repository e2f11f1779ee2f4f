"""Timing of a given visiting order, shared by the solver, the repair step and the checker.

Given a crew and an order of jobs, the earliest schedule (leave at the start of the shift,
wait when early for a window) is the one that meets the most windows and deadlines, so one
forward pass decides whether the order is feasible and gives the times the plan reports.
"""

from __future__ import annotations

from collections.abc import Sequence

from routing.plan import Route, Visit
from routing.problem import Job, Problem, is_straight_line


def earliest_start_s(job: Job, arrival_s: int) -> int | None:
    """First allowed start of service at or after ``arrival_s``, or None when too late."""
    if not job.time_windows:
        return arrival_s
    for window in job.time_windows:
        if arrival_s <= window.end_s:
            return max(arrival_s, window.start_s)
    return None


def schedule_route(problem: Problem, crew_index: int, job_indices: Sequence[int]) -> Route | None:
    """Earliest schedule of ``job_indices`` on a crew, or None when the order is infeasible.

    Frozen visits (the crew's prefix) ignore their time windows: they are in progress or the
    dispatcher has locked them, and the plan must keep them whatever the clock says. Skills are
    not checked here; callers only build orders from eligible crews.
    """
    crew = problem.crews[crew_index]
    travel, cost_matrix = problem.travel_s, problem.cost
    assert cost_matrix is not None  # filled in by Problem.__post_init__
    time_s = crew.shift.start_s
    location = crew.start_location
    load = 0
    cost = 0
    frozen = crew.frozen_job_ids
    visits: list[Visit] = []
    for position, j in enumerate(job_indices):
        job = problem.jobs[j]
        leg_s = int(travel[location, job.location])
        cost += int(cost_matrix[location, job.location])
        arrival_s = time_s + leg_s
        is_frozen = position < len(frozen) and frozen[position] == job.id
        start_s = arrival_s if is_frozen else earliest_start_s(job, arrival_s)
        if start_s is None:
            return None
        lateness_s = 0
        if job.sla_deadline_s is not None:
            lateness_s = max(0, start_s - job.sla_deadline_s)
        visits.append(
            Visit(
                job_id=job.id,
                location=job.location,
                arrival_s=arrival_s,
                start_s=start_s,
                end_s=start_s + job.service_s,
                travel_s=leg_s,
                lateness_s=lateness_s,
                straight_line=is_straight_line(problem, location, job.location),
            )
        )
        time_s = start_s + job.service_s
        location = job.location
        load += job.demand
    return_travel_s = 0
    if crew.end_location is not None:
        return_travel_s = int(travel[location, crew.end_location])
        cost += int(cost_matrix[location, crew.end_location])
    return_s = time_s + return_travel_s
    if return_s > crew.shift.end_s:
        return None
    if crew.capacity is not None and load > crew.capacity:
        return None
    return Route(
        crew_id=crew.id,
        departure_s=crew.shift.start_s,
        visits=tuple(visits),
        return_s=return_s,
        return_travel_s=return_travel_s,
        cost=cost,
    )


def is_feasible(problem: Problem, crew_index: int, job_indices: Sequence[int]) -> bool:
    """Whether ``schedule_route`` would succeed, without building the visits.

    The repair pass and the checker test thousands of candidate orders; this lean pass is
    several times faster than building the schedule.
    """
    crew = problem.crews[crew_index]
    travel = problem.travel_s
    time_s = crew.shift.start_s
    location = crew.start_location
    load = 0
    frozen = crew.frozen_job_ids
    for position, j in enumerate(job_indices):
        job = problem.jobs[j]
        arrival_s = time_s + int(travel[location, job.location])
        start_s = arrival_s
        if position >= len(frozen) or frozen[position] != job.id:
            allowed = earliest_start_s(job, arrival_s)
            if allowed is None:
                return False
            start_s = allowed
        time_s = start_s + job.service_s
        if time_s > crew.shift.end_s:
            return False
        location = job.location
        load += job.demand
    if crew.end_location is not None:
        time_s += int(travel[location, crew.end_location])
    return time_s <= crew.shift.end_s and (crew.capacity is None or load <= crew.capacity)


def can_serve(problem: Problem, crew_index: int, job_index: int) -> bool:
    """Whether the crew holds every skill the job needs and may take it (see ``Job.crews``)."""
    job, crew = problem.jobs[job_index], problem.crews[crew_index]
    return job.skills <= crew.skills and (not job.crews or crew.id in job.crews)


def find_priority_swap(
    problem: Problem, routes: Sequence[Sequence[int]], dropped_job: int
) -> tuple[int, int] | None:
    """A served, less urgent job that the dropped job could replace in place, if any.

    This is the strict urgency rule: a job must never be left out while a less urgent job
    (lower priority class, or the same class and a lower score) is served where it could
    have been. Returns (crew index, position) of the least urgent such job, or None when the
    rule holds for ``dropped_job``.
    """
    job = problem.jobs[dropped_job]
    jobs = problem.jobs
    best: tuple[int, int] | None = None
    best_rank = job.rank
    for c, order in enumerate(routes):
        n_frozen = len(problem.crews[c].frozen_job_ids)
        positions = [p for p in range(n_frozen, len(order)) if jobs[order[p]].rank > best_rank]
        if not positions or not can_serve(problem, c, dropped_job):
            continue
        for position in sorted(positions, key=lambda p: jobs[order[p]].rank, reverse=True):
            served_rank = jobs[order[position]].rank
            if served_rank <= best_rank:
                break
            swapped = [*order[:position], dropped_job, *order[position + 1 :]]
            if is_feasible(problem, c, swapped):
                best, best_rank = (c, position), served_rank
                break
    return best


def free_time_s(problem: Problem, crew_index: int, job_indices: Sequence[int]) -> int:
    """Time a route could still absorb: the slack before the shift ends plus the waits for
    windows (-1 when the route is infeasible). An insertion needing more cannot fit."""
    route = schedule_route(problem, crew_index, job_indices)
    if route is None:
        return -1
    waits = sum(v.start_s - v.arrival_s for v in route.visits)
    return problem.crews[crew_index].shift.end_s - route.return_s + waits


def find_insertion(
    problem: Problem,
    routes: Sequence[Sequence[int]],
    job_index: int,
    free_s: Sequence[int] | None = None,
) -> tuple[int, int] | None:
    """Where a dropped job fits without removing anything: (crew index, position) with the
    least added travel, or None. The repair pass uses it before any swap; ``free_s`` (per
    crew, from ``free_time_s``) skips routes without room for the job's service."""
    best: tuple[int, int] | None = None
    best_added = None
    travel = problem.travel_s
    job = problem.jobs[job_index]
    location = job.location
    for c, order in enumerate(routes):
        if not can_serve(problem, c, job_index):
            continue
        if free_s is not None and free_s[c] < job.service_s:
            continue
        crew = problem.crews[c]
        for position in range(len(crew.frozen_job_ids), len(order) + 1):
            before = (
                crew.start_location if position == 0 else problem.jobs[order[position - 1]].location
            )
            after = problem.jobs[order[position]].location if position < len(order) else None
            added = int(travel[before, location]) + (
                int(travel[location, after]) - int(travel[before, after])
                if after is not None
                else 0
            )
            if best_added is not None and added >= best_added:
                continue
            candidate = [*order[:position], job_index, *order[position:]]
            if is_feasible(problem, c, candidate):
                best, best_added = (c, position), added
    return best


def drop_reason(
    problem: Problem, job_index: int, routes: Sequence[Sequence[int]] | None = None
) -> str:
    """Why a job is not in the plan, in words a dispatcher can act on, true of ``routes``
    (the final plan's job orders per crew) when they are given."""
    job = problem.jobs[job_index]
    if job.crews and not any(c.id in job.crews for c in problem.crews):
        return f"locked to {', '.join(sorted(job.crews))}, which is not in the plan"
    eligible = [c for c in range(len(problem.crews)) if can_serve(problem, c, job_index)]
    if not eligible:
        if job.crews:
            return f"locked to {', '.join(sorted(job.crews))}, which lacks {sorted(job.skills)}"
        return f"no crew has the skills {sorted(job.skills)}"
    if not any(
        crew.capacity is None or job.demand <= crew.capacity
        for crew in (problem.crews[c] for c in eligible)
    ):
        return f"demand {job.demand} exceeds the capacity of every crew with the skills"
    reachable = False
    for c in eligible:
        prefix = [problem.job_index[j] for j in problem.crews[c].frozen_job_ids]
        if is_feasible(problem, c, [*prefix, job_index]):
            reachable = True
            break
    if not reachable:
        return (
            "no crew can reach it within its time windows and get back within its shift, "
            "even with no other work"
        )
    names = ", ".join(problem.crews[c].id for c in eligible)
    if routes is None:
        return f"not enough crew time: the crews with the skills ({names}) are full"
    served = [problem.jobs[j] for c in eligible for j in routes[c]]
    more = sum(1 for other in served if other.rank < job.rank)
    less = len(served) - more
    text = (
        f"not enough crew time: the {len(eligible)} crew{'s' if len(eligible) > 1 else ''} "
        f"with the skills ({names}) serve {more} more urgent job"
        f"{'' if more == 1 else 's'}"
    )
    if less:
        text += (
            f" and {less} less urgent one{'' if less == 1 else 's'} it cannot replace: "
            "in their place it would break a time window or the end of a shift"
        )
    return text
