"""``stormdesk routing``: solve a routing problem file from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from routing.formats import FORMATS, FormatError, plan_summary, read_instance

app = typer.Typer(
    help="Plan crew routes: solve JSON, VRPLIB or Solomon problem files.",
    no_args_is_help=True,
)
console = Console()


@app.callback()
def main() -> None:
    """Plan crew routes with the stormdesk solver."""


@app.command("solve")
def solve_command(
    file: Annotated[Path, typer.Argument(help="Problem file (JSON, VRPLIB or Solomon).")],
    format: Annotated[
        str | None,
        typer.Option("--format", help=f"One of {', '.join(FORMATS)}; guessed when omitted."),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.01, help="Seconds for the whole solve.")
    ] = 10.0,
    seed: Annotated[int, typer.Option("--seed", help="Shuffles job order; 0 keeps it.")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"cost", "routes", "vehicles", "dropped"}.')
    ] = False,
) -> None:
    """Solve a problem file and print cost, vehicles used and routes."""
    if format is not None and format not in FORMATS:
        typer.echo(f"error: unknown format {format!r}; use one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(code=2)
    try:
        instance = read_instance(file, format)
    except FormatError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    from routing.solver import solve  # the solver's 170 MB only for this command

    plan = solve(instance.problem, time_limit_s=time_limit, seed=seed)
    summary = plan_summary(instance, plan)
    if as_json:
        typer.echo(json.dumps(summary))
        return
    console.print(
        f"instance {instance.name}: cost {summary['cost']}, vehicles {summary['vehicles']}",
        markup=False,
    )
    for k, route in enumerate(summary["routes"], start=1):
        console.print(f"Route #{k}: {' '.join(str(j) for j in route)}", markup=False)
    for dropped in summary["dropped"]:
        console.print(
            f"dropped {dropped['id']} (priority {dropped['priority']}): {dropped['reason']}",
            markup=False,
        )
