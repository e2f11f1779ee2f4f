"""One auditor for plans: every rule a plan must keep, checked from the problem alone.

Tests, the benchmark and dispatch use this so a plan is judged the same way everywhere. It
trusts nothing the solver computed: times, costs and the urgency rule are recomputed.
"""

from __future__ import annotations

from routing.plan import Route, RoutePlan
from routing.problem import Job, Problem
from routing.schedule import can_serve, earliest_start_s, find_insertion, find_priority_swap


def check_plan(problem: Problem, plan: RoutePlan) -> list[str]:
    """Violations of the plan against the problem; an empty list means the plan is valid.

    Checked: each job served once or dropped once, crews known and used once, skills, frozen
    prefixes first and in order, times consistent with travel and service, service starts
    inside a time window, shifts, capacity, the reported cost, and the strict urgency rule (no
    dropped job could replace a less urgent served job in place).
    """
    problems: list[str] = []
    seen: dict[str, str] = {}
    for route in plan.routes:
        for visit in route.visits:
            if visit.job_id in seen:
                problems.append(f"job {visit.job_id!r} is served twice")
            seen[visit.job_id] = route.crew_id
    for dropped in plan.dropped:
        if dropped.job_id in seen:
            problems.append(f"job {dropped.job_id!r} is both served and dropped")
        seen[dropped.job_id] = ""
    for job_id in problem.job_index.keys() - seen.keys():
        problems.append(f"job {job_id!r} is neither served nor dropped")
    for job_id in seen.keys() - problem.job_index.keys():
        problems.append(f"plan names job {job_id!r} that is not in the problem")
    crews_seen: set[str] = set()
    total_cost = 0
    for route in plan.routes:
        if route.crew_id not in problem.crew_index:
            problems.append(f"route for unknown crew {route.crew_id!r}")
            continue
        if route.crew_id in crews_seen:
            problems.append(f"crew {route.crew_id!r} has two routes")
        crews_seen.add(route.crew_id)
        total_cost += _check_route(problem, route, problems)
    if total_cost != plan.cost and not problems:
        problems.append(f"plan cost {plan.cost} differs from the recomputed {total_cost}")
    if not problems:
        _check_priority(problem, plan, problems)
    return problems


def _check_route(problem: Problem, route: Route, problems: list[str]) -> int:
    """Append the route's violations; return its recomputed cost."""
    c = problem.crew_index[route.crew_id]
    crew = problem.crews[c]
    assert problem.cost is not None  # filled in by Problem.__post_init__
    where = f"crew {crew.id!r}"
    ids = route.job_ids
    if tuple(ids[: len(crew.frozen_job_ids)]) != crew.frozen_job_ids:
        problems.append(
            f"{where}: route starts {ids[: len(crew.frozen_job_ids)]}, not with its frozen "
            f"prefix {list(crew.frozen_job_ids)}"
        )
    if route.departure_s < crew.shift.start_s:
        problems.append(f"{where}: departs at {route.departure_s} before its shift starts")
    time_s, location, load, cost = route.departure_s, crew.start_location, 0, 0
    for position, visit in enumerate(route.visits):
        j = problem.job_index.get(visit.job_id)
        if j is None:
            continue
        job = problem.jobs[j]
        label = f"{where}, job {job.id!r}"
        if not can_serve(problem, c, j):
            problems.append(f"{label}: crew lacks skills {sorted(job.skills - crew.skills)}")
        leg_s = int(problem.travel_s[location, job.location])
        cost += int(problem.cost[location, job.location])
        if visit.location != job.location:
            problems.append(f"{label}: visit at location {visit.location}, job is elsewhere")
        if visit.arrival_s < time_s + leg_s:
            problems.append(
                f"{label}: arrives at {visit.arrival_s}, but cannot be there before "
                f"{time_s + leg_s}"
            )
        frozen = position < len(crew.frozen_job_ids)
        allowed = earliest_start_s(job, visit.start_s)
        if not frozen and allowed != visit.start_s:
            problems.append(f"{label}: service starts at {visit.start_s}, outside its windows")
        if visit.end_s != visit.start_s + job.service_s:
            problems.append(f"{label}: ends at {visit.end_s}, service takes {job.service_s} s")
        deadline = job.sla_deadline_s
        expected_late = 0 if deadline is None else max(0, visit.start_s - deadline)
        if visit.lateness_s != expected_late:
            problems.append(f"{label}: lateness {visit.lateness_s}, expected {expected_late}")
        time_s, location = visit.end_s, job.location
        load += job.demand
    if crew.end_location is not None:
        time_s += int(problem.travel_s[location, crew.end_location])
        cost += int(problem.cost[location, crew.end_location])
    if route.return_s < time_s:
        problems.append(f"{where}: returns at {route.return_s}, cannot before {time_s}")
    if max(route.return_s, time_s) > crew.shift.end_s:
        problems.append(
            f"{where}: works until {max(route.return_s, time_s)}, after its shift ends at "
            f"{crew.shift.end_s}"
        )
    if crew.capacity is not None and load > crew.capacity:
        problems.append(f"{where}: load {load} exceeds capacity {crew.capacity}")
    if route.cost != cost:
        problems.append(f"{where}: route cost {route.cost}, recomputed {cost}")
    for c_frozen, other in enumerate(problem.crews):
        if c_frozen != c and set(other.frozen_job_ids) & set(ids):
            problems.append(f"{where}: serves jobs frozen on crew {other.id!r}")
    return cost


def _urgency(job: Job) -> str:
    return f"priority {job.priority}" + (f", score {job.score:g}" if job.score else "")


def _check_priority(problem: Problem, plan: RoutePlan, problems: list[str]) -> None:
    orders = [[] for _ in problem.crews]  # type: list[list[int]]
    for route in plan.routes:
        orders[problem.crew_index[route.crew_id]] = [
            problem.job_index[v.job_id] for v in route.visits
        ]
    frozen = problem.frozen_owner
    for dropped in plan.dropped:
        j = problem.job_index[dropped.job_id]
        if j in frozen:
            problems.append(f"job {dropped.job_id!r} is frozen on a crew but dropped")
            continue
        fits = find_insertion(problem, orders, j)
        if fits is not None:
            c, position = fits
            problems.append(
                f"job {dropped.job_id!r} ({_urgency(problem.jobs[j])}) is dropped though it "
                f"fits on crew {problem.crews[c].id!r} at stop {position + 1} as the route is"
            )
            continue
        swap = find_priority_swap(problem, orders, j)
        if swap is not None:
            c, position = swap
            served = problem.jobs[orders[c][position]]
            problems.append(
                f"job {dropped.job_id!r} ({_urgency(problem.jobs[j])}) is dropped while "
                f"{served.id!r} ({_urgency(served)}) is served on crew "
                f"{problem.crews[c].id!r} where it could have been"
            )
