"""The GIS importer: good files land, every kind of bad file is refused whole, by row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
import typer
from shapely.geometry import Point, Polygon, box
from sqlalchemy import text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from geo import migrate
from geo.cluster import Cluster
from geo.database import make_engine
from geo.exceptions import ImportFailed
from geo.ingest import ImportKind, ImportReport, import_file, read_layer
from geo.ingest.resolve import _loops
from web import cli_import

# A test territory well away from the demo city (central Helsinki), so nothing of the demo
# covers it and point-in-polygon answers come from the rows imported here.
LON0, LAT0 = 25.30, 60.40
STEP_DEG = 0.01
TABLES = ("region", "feeder", "device", "premise", "street")
CLI_DB = "import_cli"


def cell(col: int, row: int = 0) -> Polygon:
    """A square of the test territory's grid."""
    x, y = LON0 + col * STEP_DEG, LAT0 + row * STEP_DEG
    return box(x, y, x + STEP_DEG, y + STEP_DEG)


def at(col: float, row: float = 0.0) -> Point:
    return Point(LON0 + col * STEP_DEG, LAT0 + row * STEP_DEG)


def frame(rows: list[dict[str, Any]], crs: Any = 4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def save(gdf: gpd.GeoDataFrame, path: Path, **kwargs: Any) -> Path:
    gdf.to_file(path, engine="pyogrio", **kwargs)
    return path


def counts(session: Session) -> dict[str, int]:
    return {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def run(session: Session, kind: ImportKind, path: Path, layer: str | None = None) -> ImportReport:
    return import_file(session=session, kind=kind, path=path, layer=layer)


def refused(session: Session, kind: ImportKind, path: Path, *needles: str) -> str:
    """Import a bad file: it must raise, name every needle, and change no row count."""
    before = counts(session)
    with pytest.raises(ImportFailed) as caught:
        run(session, kind, path)
    message = str(caught.value)
    for needle in needles:
        assert needle in message, message
    assert counts(session) == before
    return message


REGIONS = [
    {
        "code": "T-R1",
        "name": "Test county",
        "region_class": "rural",
        "geometry": box(LON0, LAT0, LON0 + 4 * STEP_DEG, LAT0 + 2 * STEP_DEG),
    },
]
FEEDERS = [
    {"code": "T-F1", "name": "Test feeder 1", "region_code": "T-R1", "geometry": cell(0)},
    {
        "code": "T-F2",
        "name": "Test feeder 2",
        "region_code": "T-R1",
        "voltage_kv": 20.0,
        "geometry": shapely.MultiPolygon([cell(1), cell(1, 1.2)]),
    },
]
# Listed child first: upstream links inside one file must not depend on row order.
DEVICES = [
    {
        "code": "T-F1-TR1",
        "kind": "transformer",
        "feeder_code": "T-F1",
        "upstream_code": "T-F1-CB",
        "geometry": at(0.2, 0.2),
    },
    {
        "code": "T-F1-TR2",
        "kind": "transformer",
        "feeder_code": "T-F1",
        "upstream_code": "T-F1-CB",
        "geometry": at(0.8, 0.8),
    },
    {
        "code": "T-F1-CB",
        "kind": "breaker",
        "feeder_code": "T-F1",
        "upstream_code": None,
        "geometry": at(0.5, 0.05),
    },
    {
        "code": "T-F2-CB",
        "kind": "breaker",
        "feeder_code": "T-F2",
        "upstream_code": None,
        "geometry": at(1.5, 0.05),
    },
]


@pytest.fixture
def grid(db_session: Session, tmp_path: Path) -> Session:
    """The test territory imported: one region, two feeders, a breaker and transformers."""
    run(db_session, "regions", save(frame(REGIONS), tmp_path / "regions.geojson"))
    run(db_session, "feeders", save(frame(FEEDERS), tmp_path / "feeders.geojson"))
    run(db_session, "devices", save(frame(DEVICES), tmp_path / "devices.geojson"))
    return db_session


def scalar(session: Session, sql: str, **params: Any) -> Any:
    return session.execute(text(sql), params).scalar_one()


# --- Good files -----------------------------------------------------------------------------


def test_geojson_regions_and_feeders_land(db_session: Session, tmp_path: Path) -> None:
    before = counts(db_session)
    regions = run(db_session, "regions", save(frame(REGIONS), tmp_path / "r.geojson"))
    feeders = run(db_session, "feeders", save(frame(FEEDERS), tmp_path / "f.geojson"))

    assert (regions.inserted, regions.updated, regions.crs) == (1, 0, "EPSG:4326")
    assert (feeders.inserted, feeders.updated) == (2, 0)
    assert counts(db_session)["feeder"] == before["feeder"] + 2
    row = db_session.execute(
        text(
            "SELECT f.voltage_kv, r.code, r.region_class, GeometryType(f.geom),"
            " ST_NumGeometries(f.geom) FROM feeder f JOIN region r ON r.id = f.region_id"
            " WHERE f.code = 'T-F2'"
        )
    ).one()
    assert tuple(row) == (20.0, "T-R1", "rural", "MULTIPOLYGON", 2)
    # An absent voltage takes the default; a polygon is stored as a one-part multipolygon.
    assert scalar(db_session, "SELECT voltage_kv FROM feeder WHERE code = 'T-F1'") == 10.0


def test_region_parents_in_the_same_file_in_any_order(db_session: Session, tmp_path: Path) -> None:
    regions = frame(
        [
            {"code": "T-CITY", "name": "City", "parent_code": "T-COUNTY", "geometry": cell(0)},
            {
                "code": "T-COUNTY",
                "name": "County",
                "region_class": "Remote",
                "geometry": box(LON0, LAT0, LON0 + 3 * STEP_DEG, LAT0 + STEP_DEG),
            },
        ]
    )
    run(db_session, "regions", save(regions, tmp_path / "r.geojson"))
    row = db_session.execute(
        text(
            "SELECT c.region_class, p.code, p.region_class FROM region c "
            "JOIN region p ON p.id = c.parent_id WHERE c.code = 'T-CITY'"
        )
    ).one()
    assert tuple(row) == ("urban", "T-COUNTY", "remote")


def test_geopackage_in_etrs_tm35fin_is_reprojected(grid: Session, tmp_path: Path) -> None:
    devices = frame(
        [
            {
                "code": "T-F2-FU1",
                "kind": "fuse",
                "feeder_code": "T-F2",
                "upstream_code": "T-F2-CB",
                "normally_open": 0,
                "geometry": at(1.3, 0.4),
            },
            {
                "code": "T-F2-TR1",
                "kind": "TRANSFORMER",
                "feeder_code": "T-F2",
                "upstream_code": "T-F2-FU1",
                "normally_open": 0,
                "rated_kva": 315,
                "geometry": at(1.6, 1.5),
            },
        ]
    )
    path = tmp_path / "grid.gpkg"
    save(devices.to_crs(3067), path, layer="devices")
    save(frame([{"note": "x", "geometry": at(0)}]), path, layer="other")

    report = run(grid, "devices", path, layer="devices")

    assert (report.inserted, report.crs) == (2, "EPSG:3067")
    stored = grid.execute(
        text(
            "SELECT d.code, ST_X(d.geom), ST_Y(d.geom), u.code, d.kind, d.rated_kva "
            "FROM device d JOIN device u ON u.id = d.upstream_id "
            "WHERE d.code IN ('T-F2-FU1', 'T-F2-TR1') ORDER BY d.code"
        )
    ).all()
    for (code, lon, lat, upstream, *_), expected in zip(
        stored, sorted(devices.itertuples(), key=lambda r: r.code), strict=True
    ):
        assert code == expected.code and upstream == expected.upstream_code
        assert lon == pytest.approx(expected.geometry.x, abs=1e-6)
        assert lat == pytest.approx(expected.geometry.y, abs=1e-6)
    assert stored[1][4:] == ("transformer", 315.0)


def test_geopackage_with_several_layers_needs_layer(grid: Session, tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    save(frame(FEEDERS), path, layer="a")
    save(frame(FEEDERS), path, layer="b")
    refused(grid, "feeders", path, "2 layers (a, b)", "--layer")


def test_premises_get_normalized_addresses_and_derived_links(grid: Session, tmp_path: Path) -> None:
    premises = frame(
        [
            {
                "account": "T-0001",
                "address": "Testikatu 12 a, 01000 Vantaa",
                "postcode": "01000",
                "geometry": at(0.75, 0.7),
            },
            {
                "account": "T-0002",
                "address": "Testikatu 14",
                "critical": "Hospital",
                "geometry": at(1.5, 1.5),
            },
            {
                "account": 3,
                "address": "Koekuja 1",
                "customer_name": "A. Test",
                "phone": "+358 40 1234567",
                "geometry": at(0.1, 0.1),
            },
        ]
    )
    before = counts(grid)

    report = run(grid, "premises", save(premises, tmp_path / "premises.geojson"))

    assert report.inserted == 3
    rows = grid.execute(
        text(
            "SELECT p.account, p.address_norm, p.street_norm, p.house_norm, f.code, t.code, r.code,"
            " p.critical FROM premise p JOIN feeder f ON f.id = p.feeder_id "
            "LEFT JOIN device t ON t.id = p.transformer_id JOIN region r ON r.id = p.region_id "
            "WHERE p.account LIKE 'T-%' OR p.account = '3' ORDER BY p.account"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("3", "koekuja 1", "koekuja", "1", "T-F1", "T-F1-TR1", "T-R1", None),
        ("T-0001", "testikatu 12a", "testikatu", "12a", "T-F1", "T-F1-TR2", "T-R1", None),
        # T-F2 has no transformer yet: the premise keeps its feeder and waits for one.
        ("T-0002", "testikatu 14", "testikatu", "14", "T-F2", None, "T-R1", "hospital"),
    ]
    streets = dict(
        grid.execute(
            text(
                "SELECT name_norm, premise_count FROM street WHERE name_norm IN "
                "('testikatu', 'koekuja')"
            )
        ).all()
    )
    assert streets == {"testikatu": 2, "koekuja": 1}
    assert counts(grid)["street"] == before["street"] + 2


def test_reimport_updates_and_keeps_absent_columns(grid: Session, tmp_path: Path) -> None:
    fixed = frame([{"code": "T-F2", "name": "Renamed", "geometry": cell(1)}])
    before = counts(grid)

    report = run(grid, "feeders", save(fixed, tmp_path / "fixed.geojson"))

    assert (report.inserted, report.updated) == (0, 1)
    assert counts(grid) == before
    row = grid.execute(
        text(
            "SELECT name, voltage_kv, region_id IS NOT NULL, ST_NumGeometries(geom) FROM feeder"
            " WHERE code = 'T-F2'"
        )
    ).one()
    assert tuple(row) == ("Renamed", 20.0, True, 1)


def test_moving_premises_recounts_streets(grid: Session, tmp_path: Path) -> None:
    path = tmp_path / "p.geojson"
    first = [{"account": "T-1", "address": "Vanhatie 1", "geometry": at(0.5, 0.5)}]
    run(grid, "premises", save(frame(first), path))
    renamed = [{"account": "T-1", "address": "Uusitie 1", "geometry": at(0.5, 0.5)}]
    run(grid, "premises", save(frame(renamed), path))
    names = (
        grid.execute(
            text("SELECT name_norm FROM street WHERE name_norm IN ('vanhatie', 'uusitie')")
        )
        .scalars()
        .all()
    )
    assert names == ["uusitie"]


def test_shapefile_with_truncated_column_names(grid: Session, tmp_path: Path) -> None:
    # GDAL cuts dBASE field names to 10 characters: feeder_code -> feeder_cod.
    devices = frame(
        [
            {
                "CODE": "T-F1-SW1",
                "KIND": "switch",
                "feeder_cod": "T-F1",
                "upstream_c": "T-F1-CB",
                "normally_o": "yes",
                "geometry": at(0.6, 0.6),
            }
        ]
    )
    report = run(grid, "devices", save(devices.to_crs(3067), tmp_path / "devices.shp"))

    assert report.inserted == 1
    row = grid.execute(
        text(
            "SELECT d.normally_open, u.code FROM device d JOIN device u ON u.id = d.upstream_id"
            " WHERE d.code = 'T-F1-SW1'"
        )
    ).one()
    assert tuple(row) == (True, "T-F1-CB")


# --- Bad files: refused whole, by row and column ----------------------------------------------


def test_missing_required_column(grid: Session, tmp_path: Path) -> None:
    devices = frame([{"code": "T-X", "kind": "fuse", "geometry": at(0.5, 0.5)}])
    refused(
        grid,
        "devices",
        save(devices, tmp_path / "d.geojson"),
        "missing required column feeder_code",
        "columns found: code, kind",
    )


def test_missing_crs_is_refused(grid: Session, tmp_path: Path) -> None:
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        save(frame(FEEDERS).set_crs(None, allow_override=True), path)
    refused(grid, "feeders", path, "file has no CRS", "EPSG:4326")


def test_unknown_crs_is_refused(grid: Session, tmp_path: Path) -> None:
    path = save(frame(FEEDERS[:1]).to_crs(3067)[["code", "name", "geometry"]], tmp_path / "f.shp")
    path.with_suffix(".prj").write_text('LOCAL_CS["site grid",UNIT["metre",1]]')
    refused(grid, "feeders", path, "CRS site grid cannot be transformed to EPSG:4326")


def test_unreadable_file_is_refused(grid: Session, tmp_path: Path) -> None:
    path = tmp_path / "notes.gpkg"
    path.write_text("not a geopackage")
    refused(grid, "feeders", path, "notes.gpkg", "not a readable")
    refused(grid, "feeders", tmp_path / "absent.geojson", "absent.geojson: no such file")


def test_bow_tie_polygon_is_refused(grid: Session, tmp_path: Path) -> None:
    x, y = LON0 + 3 * STEP_DEG, LAT0
    bow_tie = Polygon([(x, y), (x + STEP_DEG, y + STEP_DEG), (x + STEP_DEG, y), (x, y + STEP_DEG)])
    feeders = frame([*FEEDERS, {"code": "T-F3", "name": "Bow tie", "geometry": bow_tie}])
    refused(
        grid,
        "feeders",
        save(feeders, tmp_path / "f.geojson"),
        'row 3 (code "T-F3"): column geometry: invalid geometry (Self-intersection',
    )


def test_wrong_geometry_type_is_refused(grid: Session, tmp_path: Path) -> None:
    feeders = frame([{"code": "T-F9", "name": "A point", "geometry": at(3, 0)}])
    refused(
        grid,
        "feeders",
        save(feeders, tmp_path / "f.geojson"),
        'row 1 (code "T-F9"): column geometry: a Point where a Polygon or MultiPolygon is expected',
    )


def test_reference_to_missing_feeder_is_refused(grid: Session, tmp_path: Path) -> None:
    devices = frame(
        [
            {"code": "T-OK", "kind": "fuse", "feeder_code": "T-F1", "geometry": at(0.3, 0.3)},
            {"code": "F-07", "kind": "fuse", "feeder_code": "F-99", "geometry": at(0.4, 0.4)},
        ]
    )
    refused(
        grid,
        "devices",
        save(devices, tmp_path / "d.geojson"),
        'row 2 (code "F-07"): column feeder_code: feeder "F-99" does not exist',
    )


def test_duplicate_code_is_refused(grid: Session, tmp_path: Path) -> None:
    feeders = frame([*FEEDERS, {**FEEDERS[0], "geometry": cell(3)}])
    refused(
        grid,
        "feeders",
        save(feeders, tmp_path / "f.geojson"),
        'row 3 (code "T-F1"): column code: duplicate: row 1 has the same code',
    )


def test_device_cycle_in_file_is_refused(grid: Session, tmp_path: Path) -> None:
    devices = frame(
        [
            {
                "code": "T-A",
                "kind": "fuse",
                "feeder_code": "T-F1",
                "upstream_code": "T-B",
                "geometry": at(0.3, 0.3),
            },
            {
                "code": "T-B",
                "kind": "fuse",
                "feeder_code": "T-F1",
                "upstream_code": "T-A",
                "geometry": at(0.4, 0.4),
            },
        ]
    )
    refused(
        grid,
        "devices",
        save(devices, tmp_path / "d.geojson"),
        'row 1 (code "T-A"): column upstream_code: closes a loop',
        'row 2 (code "T-B"): column upstream_code: closes a loop',
    )


def test_device_cycle_through_stored_devices_is_refused(grid: Session, tmp_path: Path) -> None:
    # The stored T-F1-TR1 hangs below T-F1-CB; hanging the breaker below it closes a loop.
    devices = frame(
        [
            {
                "code": "T-F1-CB",
                "kind": "breaker",
                "feeder_code": "T-F1",
                "upstream_code": "T-F1-TR1",
                "geometry": at(0.5, 0.05),
            }
        ]
    )
    refused(
        grid,
        "devices",
        save(devices, tmp_path / "d.geojson"),
        'row 1 (code "T-F1-CB"): column upstream_code: closes a loop "T-F1-CB" -> "T-F1-TR1"',
    )


def test_upstream_on_another_feeder_is_refused(grid: Session, tmp_path: Path) -> None:
    devices = frame(
        [
            {
                "code": "T-X",
                "kind": "fuse",
                "feeder_code": "T-F2",
                "upstream_code": "T-F1-CB",
                "geometry": at(1.5, 0.5),
            }
        ]
    )
    refused(
        grid,
        "devices",
        save(devices, tmp_path / "d.geojson"),
        'row 1 (code "T-X"): column upstream_code: device "T-F1-CB" is on feeder "T-F1"',
    )


def test_premise_outside_every_feeder_is_refused(grid: Session, tmp_path: Path) -> None:
    premises = frame([{"account": "T-FAR", "address": "Kaukotie 1", "geometry": at(50, 50)}])
    refused(
        grid,
        "premises",
        save(premises, tmp_path / "p.geojson"),
        'row 1 (account "T-FAR"): column feeder_code: is empty and the point',
        "outside every feeder's service area",
    )


def test_bad_values_are_all_reported_together(grid: Session, tmp_path: Path) -> None:
    premises = frame(
        [
            {
                "account": "T-1",
                "address": "Tie 1",
                "critical": "bakery",
                "transformer_code": "T-F1-CB",
                "geometry": at(0.5, 0.5),
            },
            {"account": "T-2", "address": None, "geometry": at(0.5, 0.6)},
            {
                "account": "T-3",
                "address": "Tie 3",
                "feeder_code": "T-F2",
                "transformer_code": "T-F1-TR1",
                "geometry": at(0.5, 0.7),
            },
            {"account": "T-4", "address": "Tie 4", "geometry": None},
        ]
    )
    message = refused(
        grid,
        "premises",
        save(premises, tmp_path / "p.geojson"),
        "5 problems found, nothing was imported",
        'row 1 (account "T-1"): column critical: "bakery" is not one of hospital',
        'row 1 (account "T-1"): column transformer_code: device "T-F1-CB" is a breaker',
        'row 2 (account "T-2"): column address: is empty: a value is required',
        'row 3 (account "T-3"): column transformer_code: transformer "T-F1-TR1" is on feeder '
        '"T-F1", not "T-F2"',
        'row 4 (account "T-4"): column geometry: geometry is empty',
    )
    assert message.count("\n  row ") == 5


def test_a_database_error_midway_leaves_nothing(grid: Session, tmp_path: Path) -> None:
    # A rule only the database knows fails in the second step (parent links), after the
    # rows were inserted: the savepoint must take the inserted rows back with it.
    grid.execute(
        text("ALTER TABLE region ADD CONSTRAINT t_flat CHECK (parent_id IS NULL OR code <> 'T-Z')")
    )
    regions = frame(
        [
            {"code": "T-Y", "name": "parent", "geometry": cell(5)},
            {"code": "T-Z", "name": "child", "parent_code": "T-Y", "geometry": cell(6)},
        ]
    )
    refused(grid, "regions", save(regions, tmp_path / "r.geojson"), "the database refused")
    # The caller's transaction is still usable after the refusal.
    assert scalar(grid, "SELECT count(*) FROM region WHERE code IN ('T-Y', 'T-Z')") == 0


# --- Pure parts ------------------------------------------------------------------------------


def test_read_layer_collects_row_errors_without_a_database(tmp_path: Path) -> None:
    regions = frame(
        [
            {"code": "R1", "name": "ok", "region_class": "URBAN", "geometry": cell(0)},
            {"code": "R2", "name": "", "region_class": "suburban", "geometry": cell(1)},
        ]
    )
    parsed = read_layer(kind="regions", path=save(regions, tmp_path / "r.geojson"))
    assert parsed.values["region_class"] == ["urban", None]
    assert sorted((e.row, e.column) for e in parsed.errors) == [(1, "name"), (1, "region_class")]


def test_coordinates_that_are_not_lon_lat_are_named(tmp_path: Path) -> None:
    # Metric coordinates labelled EPSG:4326: the usual mistake of a hand-made export.
    mislabelled = frame(
        [{"code": "R1", "name": "x", "geometry": box(385000, 6672000, 386000, 6673000)}]
    )
    parsed = read_layer(kind="regions", path=save(mislabelled, tmp_path / "r.gpkg"))
    assert [(e.row, e.column) for e in parsed.errors] == [(0, "geometry")]
    assert "is the layer's CRS right?" in parsed.errors[0].message


def test_loops_are_found_once() -> None:
    parents = {"a": "b", "b": "c", "c": "a", "d": "a", "e": None, "f": "f"}
    assert _loops(parents, ["d", "a", "e", "f"]) == [["a", "b", "c"], ["f"]]


# --- The command line -------------------------------------------------------------------------


@pytest.fixture
def cli_db(pg_cluster: Cluster) -> Iterator[str]:
    """A migrated scratch database: the CLI commits for real."""
    pg_cluster.create_database(CLI_DB)
    url = pg_cluster.url(CLI_DB)
    migrate.upgrade(url)
    yield url
    pg_cluster.drop_database(CLI_DB)


def cli_counts(url: str) -> dict[str, int]:
    engine = make_engine(url, pool_size=1)
    try:
        with Session(engine) as session:
            return counts(session)
    finally:
        engine.dispose()


def test_cli_imports_good_files_and_refuses_bad_ones(cli_db: str, tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(cli_import.app, name="import")
    runner = CliRunner()
    env = {"DATABASE_URL": cli_db}

    def invoke(*args: str) -> Any:
        return runner.invoke(app, ["import", *args], env=env)

    good = invoke("regions", str(save(frame(REGIONS), tmp_path / "regions.geojson")))
    assert good.exit_code == 0, good.output
    gpkg = tmp_path / "grid.gpkg"
    save(frame(FEEDERS).to_crs(3067), gpkg, layer="feeders")
    good = invoke("feeders", str(gpkg), "--layer", "feeders")
    assert good.exit_code == 0, good.output
    assert "inserted" in good.stdout and "EPSG:3067" in good.stdout
    before = cli_counts(cli_db)

    bad_rows = [
        {"code": "T-OK", "kind": "breaker", "feeder_code": "T-F1", "geometry": at(0.5, 0.1)},
        {"code": "F-07", "kind": "fuse", "feeder_code": "F-99", "geometry": at(0.5, 0.5)},
    ]
    bad = invoke("devices", str(save(frame(bad_rows), tmp_path / "bad.geojson")))

    assert bad.exit_code == 1
    assert 'row 2 (code "F-07"): column feeder_code: feeder "F-99" does not exist' in bad.stderr
    assert "Traceback" not in bad.output
    assert cli_counts(cli_db) == before
    assert before["feeder"] == 2
