"""The ``stormdesk`` command line: demo, serve, database, loading, users, imports, routing."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

# Registers the crew table: ``user_account.crew_id`` (``user add``) points at it by name.
import dispatch.models  # noqa: F401
from geo import migrate
from geo.auth import create_user, revoke
from geo.cluster import ensure_database, local_cluster
from geo.database import make_engine
from geo.exceptions import StormdeskError
from geo.models import ROLES, Premise
from web import (
    cli_cluster,
    cli_desk,
    cli_history,
    cli_import,
    cli_report,
    cli_roster,
    cli_routing,
    cli_storm,
)
from web.settings import Settings

app = typer.Typer(help="stormdesk: outage intake and repair dispatch.", no_args_is_help=True)
db_app = typer.Typer(help="The database: embedded cluster under var/pg unless DATABASE_URL.")
load_app = typer.Typer(help="Load datasets.")
user_app = typer.Typer(help="Users and roles.")
app.add_typer(db_app, name="db")
app.add_typer(load_app, name="load")
app.add_typer(user_app, name="user")
app.add_typer(cli_import.app, name="import")
app.add_typer(cli_routing.app, name="routing")
app.add_typer(cli_cluster.app, name="cluster")
app.add_typer(cli_report.app, name="report")
app.add_typer(cli_history.app, name="history")
app.add_typer(cli_roster.app, name="roster")
app.command()(cli_storm.storm)
app.command()(cli_desk.ring)

console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def _step(label: str) -> Iterator[None]:
    """A spinner with elapsed time for anything that may take more than a second."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(label, total=1)
        yield
        progress.update(task, completed=1)


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(ensure_database(settings))
    try:
        with Session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _migrate(settings: Settings) -> None:
    with _step("Migrating the database"):
        migrate.upgrade(ensure_database(settings))


def _load_demo(settings: Settings) -> dict[str, int]:
    from scenarios.demo_city import build_demo_city
    from scenarios.demo_city.loader import load_demo_city

    with _step("Building the demo city from OpenStreetMap (Helsinki)"):
        city = build_demo_city()
    with _step("Loading it into PostGIS"), _session(settings) as session:
        return load_demo_city(session=session, city=city)


def _turn_roster(settings: Settings) -> None:
    """Put the demo's day crews on shift from this hour, whatever the hour (see
    ``scenarios.demo_city.crews.shifts_from``)."""
    from scenarios.demo_city.loader import turn_demo_roster

    local = dt.datetime.now(ZoneInfo(settings.timezone))
    with _session(settings) as session:
        turn_demo_roster(session=session, start=dt.time(local.hour))
    console.print(f"Demo roster: day crews on shift {local.hour:02d}:00 for 12 hours.")


def _seed_hotline(settings: Settings) -> list[str]:
    """Departments, knowledge base, department logins and shared phones; their logins."""
    from scenarios.hotline_demo import seed_hotline_demo

    with _step("Seeding the hotline (departments, knowledge base)"), _session(settings) as s:
        return seed_hotline_demo(session=s).logins


def _territory_loaded(settings: Settings) -> bool:
    with _session(settings) as session:
        return bool(session.scalar(select(func.count()).select_from(Premise)))


@db_app.command("start")
def db_start() -> None:
    """Start the embedded cluster (initializing it on first use) and create the database."""
    settings = Settings()
    if settings.database_url:
        console.print("DATABASE_URL is set: using that server, nothing to start.")
        return
    with _step(f"Starting PostgreSQL under {settings.var_dir / 'pg'}"):
        ensure_database(settings)
    console.print(f"Database ready at {settings.resolved_database_url()}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster."""
    settings = Settings()
    local_cluster(settings.var_dir, settings.pg_bin_dir).stop()
    console.print("Stopped.")


@db_app.command("status")
def db_status() -> None:
    """Say which database is used, whether it runs, and its migration revision."""
    settings = Settings()
    if not settings.database_url:
        cluster = local_cluster(settings.var_dir, settings.pg_bin_dir)
        if not cluster.running():
            console.print(f"Embedded cluster at {cluster.data_dir}: [yellow]stopped[/]")
            raise typer.Exit(3)
        console.print(f"Embedded cluster at {cluster.data_dir}: [green]running[/]")
    url = settings.resolved_database_url()
    console.print(f"Database {url}: revision {migrate.current(url) or 'none (not migrated)'}")


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply every pending migration."""
    _migrate(Settings())
    console.print("Migrated to head.")


@db_app.command("reset")
def db_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop everything and migrate an empty database."""
    settings = Settings()
    if not yes:
        typer.confirm(f"Erase all data in {settings.resolved_database_url()}?", abort=True)
    url = ensure_database(settings)
    with _step("Resetting the database"):
        if settings.database_url:
            migrate.downgrade(url, "base")
        else:
            cluster = local_cluster(settings.var_dir, settings.pg_bin_dir)
            cluster.drop_database(settings.db_name)
            cluster.create_database(settings.db_name)
        migrate.upgrade(url)
    console.print("Database reset and migrated.")


@load_app.command("demo")
def load_demo() -> None:
    """Load the demo city: real Helsinki roads and addresses, a synthetic grid on them."""
    settings = Settings()
    _migrate(settings)
    counts = _load_demo(settings)
    table = Table("table", "rows", title="Demo city loaded")
    for name, count in counts.items():
        table.add_row(name, str(count))
    console.print(table)
    _turn_roster(settings)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    crew: Annotated[int | None, typer.Option(help="Crew id, for role crew.")] = None,
) -> None:
    """Add a user; the password is read from standard input."""
    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else ""
    if not password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _session(Settings()) as session:
        user = create_user(
            session=session, username=name, role=role, password=password, crew_id=crew
        )
        console.print(f"Added user {user.username!r} ({user.role}), id {user.id}.")


@app.command()
def cycle() -> None:
    """Run one dispatch cycle now: orders follow outages, escalations, queued notifications.

    The web app runs it every few seconds; this is for a desk without the server running.
    """
    import datetime as dt
    import logging

    from dispatch.cycle import run_cycle
    from outages.notify import LoggingSender

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings()
    with _session(settings) as session:
        result = run_cycle(
            session=session, now=dt.datetime.now(dt.UTC), settings=settings, sender=LoggingSender()
        )
    console.print(
        f"Orders created {result.orders_created}, cancelled {result.orders_cancelled}; "
        f"escalations {result.escalations}; notifications sent {result.notifications_sent}."
    )


@user_app.command("revoke")
def user_revoke(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """End every token of a user now (a lost phone, a leaver); they must log in again."""
    with _session(Settings()) as session:
        user = revoke(session=session, username=name, actor="cli", now=dt.datetime.now(dt.UTC))
        console.print(f"Revoked every token of {user.username!r}.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (each with its own pool).")
    ] = 1,
    timers: Annotated[
        str,
        typer.Option(
            help="Where the dispatch cycle and hotline timers run: process (one process "
            "beside the workers), worker (inside each worker) or off (run `stormdesk "
            "timers` elsewhere)."
        ),
    ] = "process",
    access_log: Annotated[
        bool, typer.Option(help="Log every request (off behind a proxy that logs them).")
    ] = True,
) -> None:
    """Serve the API and the pages (the database must be migrated).

    Connections that take longer than STORMDESK_HEADER_TIMEOUT_S to send their headers
    are closed, idle keep-alive ones after STORMDESK_KEEP_ALIVE_S, and request bodies have
    a deadline and a size cap (see web/admission.py and web/serve.py). The dispatch cycle
    and the hotline timers run every STORMDESK_CYCLE_INTERVAL_S in a process of their own.
    """
    from web.serve import TIMERS_MODES
    from web.serve import serve as run

    if timers not in TIMERS_MODES:
        raise typer.BadParameter(
            f"must be one of {', '.join(TIMERS_MODES)}, not {timers!r}", param_hint="--timers"
        )
    settings = Settings()
    ensure_database(settings)
    run(settings, host=host, port=port, workers=workers, timers=timers, access_log=access_log)


@app.command()
def timers() -> None:
    """Run the dispatch cycle and the hotline timers every STORMDESK_CYCLE_INTERVAL_S until
    stopped (for a server started with --timers off); Ctrl-C ends it after the job in
    progress."""
    from web.timers import timers_main

    settings = Settings()
    if settings.cycle_interval_s <= 0:
        raise typer.BadParameter(
            "STORMDESK_CYCLE_INTERVAL_S is 0: the timers would never run; set it above 0."
        )
    ensure_database(settings)
    timers_main(settings)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Start the local database, load the demo city if needed, and serve it."""
    settings = Settings()
    started = time.monotonic()
    _migrate(settings)
    if not _territory_loaded(settings):
        _load_demo(settings)
    _turn_roster(settings)
    department_logins = _seed_hotline(settings)
    from scenarios.demo_city import DEMO_LOGINS

    base = f"http://{host}:{port}"
    table = Table(
        "page", "URL", title=f"stormdesk demo ready in {time.monotonic() - started:.0f} s"
    )
    table.add_row("Start page (every face)", f"{base}/")
    table.add_row("Dispatch console", f"{base}/console")
    table.add_row("Crew page (phone)", f"{base}/crew")
    table.add_row("Hotline desk", f"{base}/desk")
    table.add_row("Reports (supervisor)", f"{base}/reports")
    table.add_row("Wallboard", f"{base}/wallboard")
    table.add_row("Customer status page", f"{base}/status")
    table.add_row("Public outage map", f"{base}/outages")
    table.add_row("Open311 services", f"{base}/open311/v2/services.json")
    table.add_row("API docs", f"{base}/docs")
    table.add_row("Health", f"{base}/healthz")
    console.print(table)
    logins = Table("username", "password", "role", title="Demo logins")
    for login in DEMO_LOGINS:
        logins.add_row(login["username"], login["password"], login["role"])
    console.print(logins)
    console.print(
        f"Department logins (password <username>-demo-pass): {', '.join(department_logins)}"
    )
    console.print("Play a small storm from another terminal: [bold].venv/bin/stormdesk storm[/]")
    serve(host=host, port=port, workers=1)


def main() -> None:
    """Entry point that turns domain errors into one-line messages and exit code 1."""
    try:
        app()
    except StormdeskError as exc:
        raise SystemExit(_fail(str(exc)).exit_code) from None
