"""``stormdesk history generate``: years of outages, repair orders, fault reports and calls into
the database, on its own territory (the demo city) or on the synthetic province."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo import migrate
from geo.cluster import ensure_database
from geo.database import make_engine
from geo.models import Premise
from scenarios.history import HistoryConfig, generate_history
from scenarios.history.store import NoTerritory, load_territory, write_history
from web.settings import Settings

app = typer.Typer(
    help="Generated multi-year history for reports and indices.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)
PROVINCE_PREMISES = 1_000_000
PROVINCE_FEEDERS = 5_000
STEPS = 8


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)


def _write_province(url: str, seed: int) -> None:
    from scenarios.synth import generate_grid, generate_territory, write_territory

    territory = generate_territory(
        seed=seed, n_feeders=PROVINCE_FEEDERS, n_premises=PROVINCE_PREMISES
    )
    write_territory(url=url, territory=territory, grid=generate_grid(territory, seed=seed))


def history_start(today: dt.date, years: int) -> dt.date:
    """The first day of a history that ends yesterday: the staffing forecast and roster plans
    read the last weeks of calls, so a history ending at New Year would leave them nothing."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


@app.command("generate")
def generate(
    years: Annotated[int, typer.Option(help="Years of history, ending before today.")] = 5,
    seed: Annotated[int, typer.Option(help="Same seed and territory, same history.")] = 1,
    territory: Annotated[
        str,
        typer.Option(
            help="demo: the database's territory (the demo city); province: the synthetic "
            "1M-premise province, written first into an empty database."
        ),
    ] = "demo",
) -> None:
    """Generate years of history and write it into the database (replacing an earlier one)."""
    if not 1 <= years <= 10:
        raise _fail(f"--years must be between 1 and 10, got {years}")
    if territory not in ("demo", "province"):
        raise _fail(f"--territory must be demo or province, got {territory!r}")
    kind: Literal["demo", "province"] = "province" if territory == "province" else "demo"
    settings = Settings()
    url = ensure_database(settings)
    migrate.upgrade(url)
    engine = make_engine(url)
    config = HistoryConfig(
        start=history_start(dt.date.today(), years), years=years, seed=seed, tz=settings.timezone
    )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("Reading the territory", total=STEPS)
            with Session(engine) as session:
                premises = session.scalar(select(func.count()).select_from(Premise)) or 0
                if kind == "province" and premises == 0:
                    progress.update(task, description="Writing the synthetic province")
                    _write_province(url, seed)
                elif kind == "province" and premises < PROVINCE_PREMISES:
                    raise _fail(
                        f"the database holds another territory ({premises} premises); point "
                        "DATABASE_URL at an empty database for the province"
                    )
                loaded = load_territory(session=session)
            progress.update(task, advance=1, description="Generating the history")
            history = generate_history(loaded.summary, config)
            progress.advance(task)

            def tick(label: str, n: int) -> None:
                progress.update(task, advance=1, description=f"Wrote {n:,} {label}")

            with Session(engine) as session, session.begin():
                counts = write_history(
                    session=session,
                    history=history,
                    territory=loaded,
                    settings=settings,
                    seed=seed,
                    progress=tick,
                )
    except NoTerritory as exc:
        raise _fail(f"{exc} (stormdesk load demo)") from None
    finally:
        engine.dispose()
    typhoons = ", ".join(str(d.date()) for d in history.typhoon_days)
    console.print(
        f"History {config.start} .. {years} years (seed {seed}): {counts.outages:,} outages, "
        f"{counts.steps:,} restoration steps, {counts.work_orders:,} work orders, "
        f"{counts.reports:,} reports, {counts.calls:,} calls. Typhoon days: {typhoons or 'none'}."
    )
