"""The solver (OR-Tools and the numba polish) loads in the solve worker, not in every process."""

from __future__ import annotations

import subprocess
import sys


def test_processes_that_never_solve_do_not_load_the_solver() -> None:
    """The web app, the CLI and the timers import parts of ``routing`` (problems, networks)
    but never solve: the solver and its compiled polish load in the solve worker only.
    Loaded everywhere, they cost about 170 MB in the server's parent and timers processes."""
    probe = (
        "import sys, web.main, web.cli, dispatch.planning, dispatch.solve_worker, routing; "
        "loaded = sorted(m for m in ('routing.solver', 'routing.sisr', 'routing.sisr_kernel') "
        "if m in sys.modules); "
        "print(loaded); assert routing.solve.__module__ == 'routing.solver'"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    # The last line is printed before ``routing.solve`` loads the solver on purpose.
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
