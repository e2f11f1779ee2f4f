"""``stormdesk roster plan --week YYYY-MM-DD [--region CODE]``: next week's roster, stored.

Forecast, Erlang requirement, CP-SAT roster and ciw simulation per region
(``hotline.roster_plans``), each plan committed as it is made and summed up in a table.
The heavy libraries load inside the command, so the rest of the CLI starts as fast as
before. A bad date, a day that is not a Monday, an unknown region or a database without call
history is a message and exit code 2, never a traceback.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from geo.cluster import ensure_database
from geo.database import make_engine
from geo.exceptions import StormdeskError
from web.settings import Settings

if TYPE_CHECKING:
    from hotline.models import RosterPlan
    from hotline.roster_plans import PlanOptions

app = typer.Typer(help="Week rosters from the call forecast.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
ACTOR = "cli"


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)


def _week(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(f"--week must be a Monday as YYYY-MM-DD, got {text!r}") from None


@app.command("plan")
def plan(
    week: Annotated[str, typer.Option("--week", help="The week's Monday, YYYY-MM-DD.")],
    region: Annotated[
        str | None, typer.Option("--region", help="Region code (default: every region with calls).")
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="CP-SAT seconds per roster solve.")
    ] = 30.0,
    work_limit: Annotated[
        float | None,
        typer.Option(
            "--work-limit",
            help="CP-SAT deterministic time per solve: the same plan however busy the machine.",
        ),
    ] = None,
    replications: Annotated[
        int, typer.Option("--replications", help="Simulated weeks for the 95% intervals.")
    ] = 30,
    seed: Annotated[int, typer.Option(help="Seed of the simulation.")] = 1,
) -> None:
    """Forecast -> agents required -> roster -> simulation, stored as the week's plan."""
    # statsforecast, OR-Tools and ciw load in seconds: only this command pays for them.
    from hotline.roster_plans import PlanOptions, plan_week, week_start_at

    day = _week(week)
    settings = Settings()
    now = dt.datetime.now(dt.UTC)
    engine = make_engine(ensure_database(settings))
    made: list[list[str]] = []
    try:
        options = PlanOptions(
            time_limit_s=time_limit, work_limit=work_limit, replications=replications, seed=seed
        )
        starts_at = week_start_at(day, settings.timezone)
        with Session(engine) as session:
            codes = [region] if region else _regions(session, starts_at, now, options)
            for code in codes:
                with console.status(f"planning {code} for the week of {day}"):
                    stored = plan_week(
                        session=session,
                        week=day,
                        region_code=code,
                        settings=settings,
                        now=now,
                        actor=ACTOR,
                        options=options,
                    )
                    made.append(_row(code, stored))
                    session.commit()
    except StormdeskError as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()
    table = Table(title=f"Roster plans for the week of {day}")
    heads = (
        "region",
        "roster",
        "agent-hours",
        "usual",
        "80/20 (95% CI)",
        "abandoned (95% CI)",
        "id",
    )
    for head in heads:
        table.add_column(head)
    for row in made:
        table.add_row(*row)
    console.print(table)


def _row(code: str, stored: RosterPlan) -> list[str]:
    """The summary line of a plan (read before its commit expires the row)."""
    return [
        code,
        stored.roster_method,
        f"{stored.agent_hours:,.1f}",
        f"{stored.usual_agent_hours:,.1f}",
        f"{stored.service_level:.1%} ({stored.service_level_low:.1%}-"
        f"{stored.service_level_high:.1%})",
        f"{stored.abandon_rate:.1%} ({stored.abandon_low:.1%}-{stored.abandon_high:.1%})",
        str(stored.id),
    ]


def _regions(
    session: Session, starts_at: dt.datetime, now: dt.datetime, options: PlanOptions
) -> list[str]:
    from hotline.roster_plans import history_window, regions_with_calls

    start, end = history_window(starts_at, now, options.history_weeks)
    codes = regions_with_calls(session=session, start=start, end=end)
    if not codes:
        msg = f"no calls in the {options.history_weeks} weeks before {end.date()} to plan from"
        raise _fail(msg)
    return codes
