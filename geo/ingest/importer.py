"""The one door GIS layers come in by: ``import_file``, all or nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from geo.ingest.read import read_layer
from geo.ingest.resolve import RESOLVERS
from geo.ingest.schemas import ImportKind
from geo.ingest.write import write_layer


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows inserted and updated, the CRS it read, how long it took."""

    kind: ImportKind
    path: Path
    layer: str | None
    crs: str
    inserted: int
    updated: int
    duration_s: float

    @property
    def rows(self) -> int:
        return self.inserted + self.updated


def import_file(
    *, session: Session, kind: ImportKind, path: Path, layer: str | None = None
) -> ImportReport:
    """Import one layer file of ``kind`` into the territory, all or nothing.

    Parameters
    ----------
    session
        The caller owns the transaction; the writes happen in a savepoint inside it, so a
        refused file leaves the caller's transaction usable and unchanged.
    kind
        Which table the file feeds (see ``SCHEMAS`` and docs/import.md).
    path
        A GeoJSON, GeoPackage or Shapefile.
    layer
        The layer to read from a multi-layer file such as a GeoPackage.

    Raises
    ------
    ImportFailed
        The file is unreadable, has no usable CRS, lacks a required column, or has rows
        that are invalid or point at objects that do not exist; the message names the rows
        and columns. Nothing is written then.
    """
    started = time.perf_counter()
    parsed = read_layer(kind=kind, path=path, layer=layer)
    resolved = RESOLVERS[kind](session, parsed)
    parsed.raise_if_errors()
    inserted, updated = write_layer(session, parsed, resolved)
    return ImportReport(
        kind=kind,
        path=path,
        layer=layer,
        crs=parsed.crs,
        inserted=inserted,
        updated=updated,
        duration_s=time.perf_counter() - started,
    )
