"""Small routing instances built in code, so every test states its own numbers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from routing.problem import Crew, Job, Problem, TimeWindow

HOUR_S = 3600


@pytest.fixture
def random_problem() -> Callable[[int], Problem]:
    """A seeded storm-like instance: windows, skills, SLAs, shifts, a frozen prefix."""

    def build(seed: int) -> Problem:
        rng = np.random.default_rng(seed)
        n_crews, n_jobs = 4, 40
        xy = rng.uniform(0, 20_000, (n_crews + n_jobs, 2))
        travel = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 12)
        jobs = []
        for i in range(n_jobs):
            windows: tuple[TimeWindow, ...] = ()
            if i % 3 == 0:
                start = int(rng.integers(0, 5 * HOUR_S))
                windows = (TimeWindow(start, start + HOUR_S),)
            if i % 7 == 0:
                windows = (TimeWindow(0, HOUR_S), TimeWindow(4 * HOUR_S, 5 * HOUR_S))
            jobs.append(
                Job(
                    id=f"j{i}",
                    location=n_crews + i,
                    service_s=int(rng.integers(600, 2400)),
                    time_windows=windows,
                    priority=int(rng.integers(1, 5)),
                    skills=frozenset({"line"}) if i % 4 == 0 else frozenset(),
                    sla_deadline_s=int(rng.integers(HOUR_S, 6 * HOUR_S)),
                    demand=int(rng.integers(0, 3)),
                )
            )
        crews = [
            Crew(
                id=f"c{k}",
                start_location=k,
                end_location=0 if k % 2 == 0 else None,
                shift=TimeWindow(k * 600, 6 * HOUR_S + k * 900),
                skills=frozenset({"line"}) if k < 2 else frozenset(),
                capacity=12,
                frozen_job_ids=("j5", "j2") if k == 2 else (),
            )
            for k in range(n_crews)
        ]
        return Problem(
            travel_s=travel, jobs=tuple(jobs), crews=tuple(crews), skills=frozenset({"line"})
        )

    return build
