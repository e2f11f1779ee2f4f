"""Point -> feeder for a storm batch: the in-memory path against PostGIS's set-based join.

Run from the repository root: ``.venv/bin/python -m bench.locate`` (``--quick`` for a 10x
smaller run). It loads a synthetic territory into its own cluster under ``var/bench-pg``,
draws random points over the territory, and measures

- ``PolygonIndex.lookup`` (what ``BulkLocator`` runs) over the feeder polygons, best of 3,
  and the whole ``locate_many`` (regions and feeders);
- the STRtree + per-polygon loop that ``PolygonIndex.lookup`` used before, as the in-process
  baseline of the same run;
- PostGIS: the points COPYed into a temporary table with a GiST index, then one
  ``INSERT ... SELECT ... JOIN feeder`` with the product's ``ST_Relate`` covers pattern, and
  the same join with ``ST_Covers``;

and checks that the in-memory answer equals PostGIS's for every point sent to PostGIS.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import numpy.typing as npt
import psycopg
import shapely
from sqlalchemy.orm import Session

from bench.common import (
    add_common_options,
    bench_cluster,
    best_of,
    conninfo,
    loaded_territory,
    record,
    resolve_sizes,
)
from geo.database import make_engine
from geo.locator import COVERS, NOT_FOUND, BulkLocator, PolygonIndex

JOINS = {
    "ST_Relate": f"ST_Relate(f.geom, p.geom, '{COVERS}')",
    "ST_Covers": "ST_Covers(f.geom, p.geom)",
}


def strtree_lookup(
    index: PolygonIndex, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """The previous ``PolygonIndex.lookup``: STRtree bbox query, then one test per polygon.

    Kept here only as the baseline the new lookup is measured against in the same run.
    """
    n = len(lon)
    best = np.full(n, len(index.ids), dtype=np.int64)
    point_idx, poly_idx = index.tree.query(shapely.points(lon, lat))
    order = np.argsort(poly_idx, kind="stable")
    point_idx, poly_idx = point_idx[order], poly_idx[order]
    starts = np.flatnonzero(np.r_[True, poly_idx[1:] != poly_idx[:-1]])
    ends = np.r_[starts[1:], len(poly_idx)]
    for start, end in zip(starts, ends, strict=True):
        j = poly_idx[start]
        pts = point_idx[start:end]
        inside = pts[shapely.intersects_xy(index.polygons[j], lon[pts], lat[pts])]
        np.minimum.at(best, inside, j)
    found = best < len(index.ids)
    out = np.full(n, NOT_FOUND, dtype=np.int64)
    out[found] = index.ids[best[found]]
    return out


def postgis_join(
    conn: psycopg.Connection[tuple[object, ...]],
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
) -> tuple[dict[str, float], dict[str, npt.NDArray[np.int64]], str]:
    """Load the points by COPY, index them, and run each join; timings, answers, plan."""
    timings: dict[str, float] = {}
    answers: dict[str, npt.NDArray[np.int64]] = {}
    n = len(lon)
    started = time.perf_counter()
    conn.execute("DROP TABLE IF EXISTS bench_point, bench_answer")
    conn.execute("CREATE TEMP TABLE bench_point (id integer, geom geometry(Point, 4326))")
    conn.execute("CREATE TEMP TABLE bench_answer (id integer, feeder_id integer)")
    hexes = shapely.to_wkb(
        shapely.set_srid(shapely.points(lon, lat), 4326), hex=True, include_srid=True
    )
    with conn.cursor().copy("COPY bench_point (id, geom) FROM STDIN") as copy:
        block = 200_000
        for lo in range(0, n, block):
            chunk = hexes[lo : lo + block]
            copy.write("".join(f"{lo + i}\t{h}\n" for i, h in enumerate(chunk.tolist())))
    timings["copy"] = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute("CREATE INDEX ON bench_point USING gist (geom)")
    conn.execute("ANALYZE bench_point")
    conn.commit()
    timings["index"] = time.perf_counter() - started
    plan = ""
    for name, predicate in JOINS.items():
        conn.execute("TRUNCATE bench_answer")
        join = (
            "INSERT INTO bench_answer SELECT p.id, min(f.id) FROM bench_point p "
            f"JOIN feeder f ON f.geom && p.geom AND {predicate} GROUP BY p.id"
        )
        if not plan:
            plan = "\n".join(str(r[0]) for r in conn.execute(f"EXPLAIN {join}").fetchall())
        started = time.perf_counter()
        conn.execute(join)
        conn.commit()
        timings[name] = time.perf_counter() - started
        answer = np.full(n, NOT_FOUND, dtype=np.int64)
        rows = np.array(conn.execute("SELECT id, feeder_id FROM bench_answer").fetchall())
        if len(rows):
            answer[rows[:, 0]] = rows[:, 1]
        answers[name] = answer
    return timings, answers, plan


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_options(parser, feeders=5_000, premises=1_000_000, points=1_000_000)
    parser.add_argument(
        "--pg-points", type=int, default=None, help="points sent to PostGIS (default: all)"
    )
    args = parser.parse_args(argv)
    resolve_sizes(args)
    pg_points = min(args.pg_points or args.points, args.points)

    cluster = bench_cluster(fresh=args.fresh)
    loaded = loaded_territory(
        cluster, seed=args.seed, n_feeders=args.feeders, n_premises=args.premises
    )
    t = loaded.territory
    rng = np.random.default_rng(args.seed + 1)
    lon = rng.uniform(t.bbox[0], t.bbox[2], args.points)
    lat = rng.uniform(t.bbox[1], t.bbox[3], args.points)

    engine = make_engine(loaded.url)
    started = time.perf_counter()
    with Session(engine) as session:
        locator = BulkLocator.from_session(session)
    build_s = time.perf_counter() - started
    engine.dispose()
    mem_s, mem_answer = best_of(3, lambda: locator.feeders.lookup(lon, lat))
    both_s, _ = best_of(3, lambda: locator.locate_many(lon, lat))
    old_s, old_answer = best_of(3, lambda: strtree_lookup(locator.feeders, lon, lat))
    assert isinstance(mem_answer, np.ndarray) and isinstance(old_answer, np.ndarray)

    with psycopg.connect(conninfo(cluster, loaded.dbname)) as conn:
        pg_times, pg_answers, plan = postgis_join(conn, lon[:pg_points], lat[:pg_points])
    mismatches = {
        name: int((answer != mem_answer[:pg_points]).sum()) for name, answer in pg_answers.items()
    }
    old_mismatches = int((old_answer != mem_answer).sum())
    not_found = int((mem_answer == NOT_FOUND).sum())

    def rate(points: int, seconds: float) -> str:
        return f"{points / seconds:>12,.0f}"

    load_note = (
        f"loaded in {loaded.load_s:.1f} s"
        if loaded.load_s is not None
        else "reused from an earlier run"
    )
    relate = pg_times["ST_Relate"]
    rows = [
        ("in-memory PolygonIndex.lookup (feeders), best of 3", args.points, mem_s),
        ("in-memory BulkLocator.locate_many (regions + feeders)", args.points, both_s),
        ("baseline: previous lookup (STRtree + per-polygon loop)", args.points, old_s),
        ("PostGIS join, ST_Relate covers pattern (product)", pg_points, relate),
        ("PostGIS join, ST_Covers", pg_points, pg_times["ST_Covers"]),
        (
            "PostGIS ST_Relate incl. COPY + GiST index of the points",
            pg_points,
            pg_times["copy"] + pg_times["index"] + relate,
        ),
    ]
    table = ["| path | points | seconds | points/s |", "|---|---:|---:|---:|"]
    table += [f"| {name} | {n:,} | {s:.3f} | {rate(n, s).strip()} |" for name, n, s in rows]
    ratio = (args.points / mem_s) / (pg_points / relate)
    lines = [
        f"Territory: seed {args.seed}, {args.feeders:,} feeders, {args.premises:,} premises "
        f"(generated in {loaded.generate_s:.1f} s, {load_note}); {args.points:,} uniform "
        f"random points over the box ({not_found:,} outside every feeder).",
        f"Index build from PostGIS (BulkLocator.from_session, regions + feeders): {build_s:.2f} s.",
        "",
        *table,
        "",
        f"Ratio in-memory / PostGIS (ST_Relate join): **{ratio:.1f}x**; "
        f"new lookup / previous lookup: **{old_s / mem_s:.2f}x**.",
        f"PostGIS COPY of {pg_points:,} points {pg_times['copy']:.2f} s, GiST index + ANALYZE "
        f"{pg_times['index']:.2f} s.",
        f"Correctness: in-memory vs PostGIS ST_Relate mismatches {mismatches['ST_Relate']} "
        f"of {pg_points:,}; vs ST_Covers {mismatches['ST_Covers']}; new vs previous lookup "
        f"{old_mismatches} of {args.points:,}.",
        "",
        "Plan of the ST_Relate join:",
        "",
        "```",
        plan,
        "```",
    ]
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        record(
            "Locate",
            "bench.locate",
            f"{report}\n\n"
            "The product's single-point `locate` and this join use the `ST_Relate` covers "
            "pattern: it decides with GEOS, like the in-memory path, whereas `ST_Covers` "
            "takes PostGIS's own point-in-polygon short-cut, which can disagree with GEOS "
            "for points on an edge (see geo/locator.py).\n",
        )


if __name__ == "__main__":
    main()
