"""Import GIS layers of the territory: regions, feeders, devices and premises.

Utilities keep their network in a GIS and export it as GeoJSON, GeoPackage or Shapefile;
this package is the one door those exports come in by. A file is imported whole or not at
all: it is read, reprojected to EPSG:4326 and checked row by row against its schema and
against the database first, every problem found is reported in one message (exports usually
have several at once), and only a clean file is written, inside a savepoint so a database
error midway leaves nothing behind. Rows are upserted by code (account for premises), so
importing a corrected file again is the way to fix data. The schemas are documented for
users in ``docs/import.md``.

Modules along the way a file takes: ``schemas`` (what each kind of layer holds), ``read``
(file to ``Layer``), ``validate`` (row checks without the database), ``resolve`` and
``premises`` (checks and ids from the database), ``write`` (the upsert) and ``importer``
(``import_file``, the whole path).
"""

from geo.ingest.importer import ImportReport, import_file
from geo.ingest.layer import Layer, RowError
from geo.ingest.read import read_layer
from geo.ingest.schemas import KINDS, SCHEMAS, Field, ImportKind, LayerSchema

__all__ = [
    "KINDS",
    "SCHEMAS",
    "Field",
    "ImportKind",
    "ImportReport",
    "Layer",
    "LayerSchema",
    "RowError",
    "import_file",
    "read_layer",
]
