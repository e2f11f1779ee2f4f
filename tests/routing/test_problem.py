"""Validation at construction: every bad value is named in the message."""

from __future__ import annotations

import numpy as np
import pytest

from routing.plan import Route, RoutePlan, Visit
from routing.problem import Crew, Job, Location, Problem, TimeWindow

MATRIX = np.zeros((3, 3), dtype=int)
CREW = Crew(id="c", start_location=0, shift=TimeWindow(0, 100))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TimeWindow(50, 10), "end_s=10 is before start_s=50"),
        (lambda: TimeWindow(-5, 10), "start_s=-5 is negative"),
        (lambda: Job("a", 1, service_s=-30), "job 'a': service_s=-30 is negative"),
        (lambda: Job("a", -1), "location=-1 is negative"),
        (lambda: Job("a", 1, priority=7), "priority=7 must be one of"),
        (lambda: Job("a", 1, sla_deadline_s=-1), "sla_deadline_s=-1 is negative"),
        (lambda: Job("a", 1, demand=-2), "demand=-2 is negative"),
        (
            lambda: Job("a", 1, time_windows=(TimeWindow(0, 10), TimeWindow(5, 20))),
            "overlap",
        ),
        (lambda: Crew("c", 0, TimeWindow(0, 1), capacity=-1), "capacity=-1 is negative"),
        (lambda: Crew("c", 0, TimeWindow(0, 1), frozen_job_ids=("a", "a")), "repeat a job"),
        (lambda: Problem(np.zeros((2, 3)), (), (CREW,)), r"not square: shape \(2, 3\)"),
        (lambda: Problem(np.full((2, 2), -1), (), (CREW,)), r"travel_s\[0\]\[0\]=-1 is negative"),
        (
            lambda: Problem(np.array([[0, np.inf], [1, 0]]), (), (CREW,)),
            r"travel_s\[0\]\[1\]=inf is not finite",
        ),
        (lambda: Problem(MATRIX, (), ()), "no crews"),
        (lambda: Problem(MATRIX, (Job("a", 5),), (CREW,)), "location=5 is outside the 3 x 3"),
        (lambda: Problem(MATRIX, (Job("a", 1), Job("a", 2)), (CREW,)), "'a' is used twice"),
        (
            lambda: Problem(
                MATRIX,
                (Job("a", 1, skills=frozenset({"lien"})),),
                (CREW,),
                skills=frozenset({"line"}),
            ),
            "job 'a': unknown skill 'lien'",
        ),
        (
            lambda: Problem(
                MATRIX,
                (),
                (Crew("c", 0, TimeWindow(0, 9), skills=frozenset({"x"})),),
                skills=frozenset({"line"}),
            ),
            "crew 'c': unknown skill 'x'",
        ),
        (
            lambda: Problem(MATRIX, (), (Crew("c", 0, TimeWindow(0, 9), frozen_job_ids=("z",)),)),
            "frozen job 'z' is not among the jobs",
        ),
        (
            lambda: Problem(
                MATRIX,
                (Job("a", 1, skills=frozenset({"line"})),),
                (Crew("c", 0, TimeWindow(0, 9), frozen_job_ids=("a",)),),
            ),
            r"frozen job 'a' needs skills \['line'\]",
        ),
        (
            lambda: Problem(MATRIX, (), (CREW,), cost=np.zeros((2, 2))),
            r"cost matrix shape \(2, 2\) differs",
        ),
        (lambda: Visit("a", 1, arrival_s=10, start_s=5, end_s=20, travel_s=3), "before arrival"),
        (lambda: Visit("a", 1, arrival_s=1, start_s=5, end_s=20, travel_s=-3), "travel_s=-3"),
        (lambda: RoutePlan(routes=(), dropped=(), cost=-4, objective=0), "cost=-4 is negative"),
        (
            lambda: Route("c", departure_s=0, visits=(), return_s=0, return_travel_s=-1, cost=0),
            "return_travel_s=-1",
        ),
    ],
)
def test_bad_values_are_rejected_with_their_value_named(build, message) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_time_windows_are_sorted_and_skills_frozen() -> None:
    job = Job("a", 0, time_windows=(TimeWindow(50, 60), TimeWindow(0, 10)), skills={"x"})  # type: ignore[arg-type]
    assert [w.start_s for w in job.time_windows] == [0, 50]
    assert job.skills == frozenset({"x"})


def test_from_coordinates_gives_straight_line_times_flagged() -> None:
    locations = [Location("a", 11.97, 57.70), Location("b", 11.98, 57.70)]
    problem = Problem.from_coordinates(
        locations,
        [Job("j", 1)],
        [Crew("c", 0, TimeWindow(0, 9999))],
        speed_mps=10.0,
        detour_factor=1.0,
    )
    # 0.01 degree of longitude at 57.7 N is about 595 m.
    assert 58 <= problem.travel_s[0, 1] <= 61
    assert problem.straight_line_locations == {0, 1}
