"""``stormdesk storm``: play a small storm into the database so the console has work."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from geo.cluster import ensure_database
from geo.database import make_engine
from scenarios.storm import StormSummary, play_storm
from web.settings import Settings

console = Console()


def _local(moment: dt.datetime | None, tz: ZoneInfo) -> str:
    return "-" if moment is None else moment.astimezone(tz).strftime("%H:%M")


def storm(
    reports: Annotated[int, typer.Option(help="How many calls to file (at least 20).")] = 300,
    seed: Annotated[int, typer.Option(help="Same seed and same database, same storm.")] = 7,
    base_url: Annotated[
        str, typer.Option(help="Where `stormdesk demo` serves, for the links printed.")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Trip a recloser: file a storm of reports over the last hour, and a planned outage."""
    settings = Settings()
    engine = make_engine(ensure_database(settings))
    now = dt.datetime.now(dt.UTC)
    try:
        with (
            console.status(f"Filing {reports} reports through the intake"),
            Session(engine) as session,
            session.begin(),
        ):
            summary = play_storm(
                session=session, settings=settings, now=now, seed=seed, reports=reports
            )
    finally:
        engine.dispose()
    _print(summary, ZoneInfo(settings.timezone), base_url.rstrip("/"))


def _print(summary: StormSummary, tz: ZoneInfo, base: str) -> None:
    console.print(
        f"Storm (seed {summary.seed}): [bold]{summary.tripped_device}[/] "
        f"({summary.tripped_kind}, {summary.feeder}, {summary.customers_below} customers "
        f"below) tripped; {summary.reports} reports from {_local(summary.first_report_at, tz)} "
        f"to {_local(summary.last_report_at, tz)}, {summary.hazards} with a hazard."
    )
    console.print(
        f"SCADA reported {summary.tripped_device} open at {_local(summary.scada_at, tz)}."
        if summary.scada_at is not None
        else "No SCADA message: the calls alone place the outage."
    )
    counts = Table("classification", "reports", title="Reports by classification")
    for name, count in summary.by_classification.items():
        counts.add_row(name, str(count))
    counts.add_row("[bold]total[/]", f"[bold]{summary.reports}[/]")
    console.print(counts)
    outages = Table("outage", "device", "customers", "reports", "ETR", title="Active outages")
    for o in summary.outages:
        outages.add_row(
            f"#{o.id} {o.status}",
            f"{o.device} ({o.device_kind})",
            str(o.customers_affected),
            str(o.report_count),
            _local(o.etr, tz) + (" [red]hazard[/]" if o.hazard else ""),
        )
    console.print(outages)
    console.print(
        f"Planned outage #{summary.planned_outage_id} ({summary.planned_device}, "
        f"{summary.planned_customers} customers): its callers were answered 'planned'."
    )
    if summary.etr_after is not None:
        console.print(
            f"Dispatcher ETR update on the main outage: {_local(summary.etr_before, tz)} -> "
            f"{_local(summary.etr_after, tz)}."
        )
    links = Table("page", "URL", title="See it")
    links.add_row("Dispatch console (live, 10 s)", f"{base}/console")
    links.add_row("Hotline desk (ring it: stormdesk ring)", f"{base}/desk")
    links.add_row("Wallboard (live, 2 s)", f"{base}/wallboard")
    links.add_row("Customer status page", f"{base}/status")
    links.add_row("Public outage map", f"{base}/outages")
    links.add_row("Active outages (JSON)", f"{base}/api/v1/outages")
    console.print(links)
