"""A layer read from a file and checked, with the problems found in it so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.exceptions import ImportFailed
from geo.ingest.schemas import LayerSchema

# One screenful: enough to show the pattern of what is wrong with an export.
MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True)
class RowError:
    """One problem in one row: ``row`` is the 0-based feature index."""

    row: int
    column: str
    message: str


@dataclass
class Layer:
    """A file read, reprojected to EPSG:4326 and checked row by row, not yet written.

    ``values`` holds the coerced value of every schema field per row (the field's default,
    often ``None``, when empty or when the column is absent); ``present`` names the fields
    the file has.
    """

    schema: LayerSchema
    path: Path
    crs: str
    present: frozenset[str]
    values: dict[str, list[Any]]
    geoms: npt.NDArray[np.object_]
    geom_ok: npt.NDArray[np.bool_]
    errors: list[RowError] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.geoms)

    def fail(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))

    def label(self, row: int) -> str:
        """``row 7 (code "F-07")``: the 1-based feature number GIS tools show, and the key."""
        key = self.values[self.schema.key][row]
        return f"row {row + 1}" + (f' ({self.schema.key} "{key}")' if key is not None else "")

    def raise_if_errors(self) -> None:
        """Refuse the whole file with every problem found (the first twenty of them)."""
        if not self.errors:
            return
        errors = sorted(self.errors, key=lambda e: e.row)
        lines = [f"  {self.label(e.row)}: column {e.column}: {e.message}" for e in errors]
        if len(lines) > MAX_REPORTED_ERRORS:
            lines = [
                *lines[:MAX_REPORTED_ERRORS],
                f"  ... and {len(lines) - MAX_REPORTED_ERRORS} more",
            ]
        problems = "problem" if len(errors) == 1 else "problems"
        msg = (
            f"{self.path.name}: {len(errors)} {problems} found, nothing was imported:\n"
            + "\n".join(lines)
            + "\nFix them in the file and import it again (see docs/import.md)."
        )
        raise ImportFailed(msg)


# Database column -> one value per row of the layer, as resolution against the database
# computed it (ids for codes, derived columns), ready for the write.
Resolved = dict[str, list[Any]]
