"""The public outage map's data (``GET /api/v1/public/outage-map``) on a storm-sized province.

Run from the repository root: ``.venv/bin/python -m bench.public_map`` (``--quick`` for a 10x
smaller territory). A synthetic province is loaded (``bench.common``), ``--outages`` outages
are opened on distinct protective devices, and the whole public map answer (grid cells per
outage, region table, planned work, crew stages, ETR ranges) is timed, best of five.

Baseline in the same run: the console's ``outages`` layer (one PostGIS query building the
GeoJSON of the same outages, without generalization or the region table), so the ratio says
what the generalization and the summary cost on top of what staff already pay per refresh.
"""

from __future__ import annotations

import argparse
import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.common import (
    add_common_options,
    bench_cluster,
    best_of,
    loaded_territory,
    record,
    resolve_sizes,
)
from dispatch.public_view import public_outage_map
from geo.database import make_engine
from geo.layers import get_layer
from outages.layers import LAYERS as OUTAGE_LAYERS
from web.settings import Settings

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
RUNS = 5


# The synthetic province has feeders and premises but no devices: each outage gets a
# breaker at its feeder's centroid and cuts off the feeder's premises, in three statements.
_OPEN_SQL = """
    WITH chosen AS (
        SELECT f.id, f.region_id, ST_PointOnSurface(f.geom) AS geom FROM feeder f
        WHERE EXISTS (SELECT 1 FROM premise p WHERE p.feeder_id = f.id)
        ORDER BY f.id LIMIT :n
    ), breaker AS (
        INSERT INTO device (code, kind, feeder_id, normally_open, geom)
        SELECT 'BENCH-' || c.id, 'breaker', c.id, false, c.geom FROM chosen c
        RETURNING id, feeder_id
    )
    INSERT INTO outage (status, device_id, feeder_id, region_id, cause, hazard,
        customers_affected, critical_affected, started_at, etr_at, explanation)
    SELECT 'confirmed', b.id, b.feeder_id, c.region_id, 'weather', false,
        (SELECT count(*) FROM premise p WHERE p.feeder_id = b.feeder_id), 0,
        :now, :etr, '{}'::jsonb
    FROM breaker b JOIN chosen c ON c.id = b.feeder_id
"""


def _open_outages(session: Session, n: int) -> int:
    """Outages on ``n`` feeders; the customers they cut off."""
    session.execute(text(_OPEN_SQL), {"n": n, "now": NOW, "etr": NOW + dt.timedelta(hours=3)})
    session.execute(
        text(
            "INSERT INTO outage_premise (outage_id, premise_id) "
            "SELECT o.id, p.id FROM outage o JOIN premise p ON p.feeder_id = o.feeder_id"
        )
    )
    # Statistics as autovacuum would have them after a storm's first minutes.
    for table in ("device", "outage", "outage_premise"):
        session.execute(text(f"ANALYZE {table}"))
    out = session.execute(text("SELECT count(*) FROM outage_premise")).scalar()
    return int(out or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_options(parser, feeders=2_000, premises=400_000, outages=300)
    args = parser.parse_args()
    resolve_sizes(args)
    cluster = bench_cluster(fresh=args.fresh)
    loaded = loaded_territory(
        cluster, seed=args.seed, n_feeders=args.feeders, n_premises=args.premises
    )
    settings = Settings(database_url=loaded.url)
    engine = make_engine(loaded.url)
    with Session(engine) as session:
        # Opened inside one transaction that is rolled back: the territory stays reusable.
        out = _open_outages(session, args.outages)
        layer_s, _ = best_of(
            RUNS, lambda: get_layer(session=session, name="outages", layers=OUTAGE_LAYERS)
        )
        map_s, answer = best_of(
            RUNS, lambda: public_outage_map(session=session, settings=settings, now=NOW)
        )
        size = len(answer.model_dump_json()) if answer is not None else 0  # type: ignore[attr-defined]
        session.rollback()
    engine.dispose()
    body = (
        f"{args.premises:,} premises on {args.feeders:,} feeders, {args.outages} outages "
        f"({out:,} premises out), best of {RUNS}:\n\n"
        "| what | time | ratio |\n|---|---:|---:|\n"
        f"| console `outages` layer (baseline) | {layer_s * 1000:.0f} ms | 1.00x |\n"
        f"| public map answer (cells, regions, planned, stages, ranges) | "
        f"{map_s * 1000:.0f} ms | {map_s / layer_s:.2f}x |\n\n"
        f"The public answer is {size / 1024:.0f} KB of JSON. A worker serves it again for "
        "`public_map_cache_s` (20 s), so an open map's refresh each minute costs this once "
        "per worker and 20 s, not once per viewer.\n"
    )
    print(body)
    if not args.no_record:
        record("Public outage map (issue 10)", "bench.public_map", body)


if __name__ == "__main__":
    main()
