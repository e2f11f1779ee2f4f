"""``stormdesk import regions|feeders|devices|premises FILE``: GIS layers into the territory.

Each command imports one file in one transaction: a refused file prints every problem found
(rows and columns named) to stderr, exits with code 1 and leaves the database as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from geo.cluster import ensure_database
from geo.database import make_engine
from geo.exceptions import ImportFailed
from web.settings import Settings

if TYPE_CHECKING:  # geo.ingest pulls in geopandas: every CLI start would pay for it
    from geo.ingest import ImportKind, ImportReport

app = typer.Typer(
    help="Import GIS layers (GeoJSON, GeoPackage, Shapefile); schemas in docs/import.md.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)

FileArg = Annotated[
    Path,
    typer.Argument(help="A GeoJSON, GeoPackage or Shapefile.", metavar="FILE", show_default=False),
]
LayerOpt = Annotated[
    str | None,
    typer.Option("--layer", help="Layer to read from a multi-layer file (GeoPackage)."),
]


def run_import(kind: ImportKind, path: Path, layer: str | None) -> ImportReport:
    """Import in one transaction, committed only when the whole file went in.

    The embedded cluster is started first when ``DATABASE_URL`` is unset, as every other
    command does.
    """
    from geo.ingest import import_file

    engine = make_engine(ensure_database(Settings()), pool_size=1)
    try:
        with (
            console.status(f"Importing {kind} from {path.name}"),
            Session(engine) as session,
            session.begin(),
        ):
            return import_file(session=session, kind=kind, path=path, layer=layer)
    finally:
        engine.dispose()


def _print_report(report: ImportReport) -> None:
    table = Table(title=f"Imported {report.kind} from {report.path.name}", show_header=False)
    if report.layer:
        table.add_row("layer", report.layer)
    table.add_row("CRS read", report.crs)
    table.add_row("inserted", str(report.inserted))
    table.add_row("updated", str(report.updated))
    table.add_row("seconds", f"{report.duration_s:.2f}")
    console.print(table)


def _run(kind: ImportKind, path: Path, layer: str | None) -> None:
    try:
        report = run_import(kind, path, layer)
    except ImportFailed as error:
        # Plain text, no markup: the message quotes user data that may contain brackets.
        err_console.print(f"error: {error}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    _print_report(report)


@app.command("regions")
def import_regions(file: FileArg, layer: LayerOpt = None) -> None:
    """Supply regions (polygons): code, name, region_class, parent_code."""
    _run("regions", file, layer)


@app.command("feeders")
def import_feeders(file: FileArg, layer: LayerOpt = None) -> None:
    """Feeder service areas (polygons): code, name, substation_code, region_code, voltage_kv."""
    _run("feeders", file, layer)


@app.command("devices")
def import_devices(file: FileArg, layer: LayerOpt = None) -> None:
    """Devices (points): code, kind, feeder_code, upstream_code, normally_open, rated_kva."""
    _run("devices", file, layer)


@app.command("premises")
def import_premises(file: FileArg, layer: LayerOpt = None) -> None:
    """Premises (points): account, address, and optional feeder, transformer, region, PII."""
    _run("premises", file, layer)
