"""``stormdesk report daily|indicators|reported``: the supervisor's reports as files.

The same ``hotline.stats`` reports as the /reports page and its exports; a bad date, format
or path is a message and exit code 2, never a traceback.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from geo.cluster import ensure_database
from geo.database import make_engine
from geo.exceptions import StormdeskError
from hotline.stats import StatsReport, daily_report, indicator_report, reported_form
from hotline.stats.export import FORMATS, export
from web.settings import Settings

app = typer.Typer(help="The centre's reports as CSV or XLSX files.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

DateOption = Annotated[
    str | None, typer.Option("--date", help="Local day YYYY-MM-DD (today by default).")
]
FormatOption = Annotated[str, typer.Option("--format", help="csv or xlsx.")]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", help="File to write (default: stormdesk-<kind>-<date>.<fmt>)."),
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)


def _day(text: str | None, settings: Settings) -> dt.date:
    if text is None:
        return dt.datetime.now(ZoneInfo(settings.timezone)).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(f"--date must be a day as YYYY-MM-DD, got {text!r}") from None


def _write(make: object, kind: str, day_text: str | None, fmt: str, out: Path | None) -> None:
    if fmt not in FORMATS:
        raise _fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    settings = Settings()
    day = _day(day_text, settings)
    target = out or Path(f"stormdesk-{kind}-{day.isoformat()}.{fmt}")
    if target.parent and not target.parent.exists():
        raise _fail(f"the folder of --out does not exist: {target.parent}")
    now = dt.datetime.now(dt.UTC)
    engine = make_engine(ensure_database(settings))
    try:
        with Session(engine) as session:
            report: StatsReport = make(session=session, day=day, now=now, settings=settings)  # type: ignore[operator]
    except StormdeskError as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()
    target.write_bytes(export(report, fmt))
    console.print(f"{kind} report of {report.period.label} written to {target}")


@app.command("daily")
def daily(date: DateOption = None, format: FormatOption = "csv", out: OutOption = None) -> None:
    """The daily report: contacts, calls, fault orders and clocks, tickets, satisfaction."""
    _write(daily_report, "daily", date, format, out)


@app.command("reported")
def reported(date: DateOption = None, format: FormatOption = "csv", out: OutOption = None) -> None:
    """The reported (上报) form of one day."""
    _write(reported_form, "reported", date, format, out)


@app.command("indicators")
def indicators(
    date: DateOption = None,
    months: Annotated[int, typer.Option(help="Months back, the date's month included.")] = 12,
    format: FormatOption = "csv",
    out: OutOption = None,
) -> None:
    """Monthly indicators up to the month of --date, with targets and trends."""

    def make(
        *, session: Session, day: dt.date, now: dt.datetime, settings: Settings
    ) -> StatsReport:
        return indicator_report(
            session=session, last_month=day, months=months, now=now, settings=settings
        )

    _write(make, "indicators", date, format, out)
