"""Migrations apply to an empty database and downgrade cleanly."""

from __future__ import annotations

import time

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.exc import DBAPIError

from geo import migrate
from geo.cluster import Cluster

TERRITORY_TABLES = {"region", "feeder", "device", "segment", "premise", "street", "crew", "event"}


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(pg_cluster: Cluster) -> None:
    pg_cluster.create_database("migrations_test")
    url = pg_cluster.url("migrations_test")
    try:
        migrate.upgrade(url)
        assert _tables(url) >= TERRITORY_TABLES
        assert migrate.current(url) is not None
        migrate.downgrade(url, "base")
        assert not (TERRITORY_TABLES & _tables(url))
        assert migrate.current(url) is None
        migrate.upgrade(url)
        assert _tables(url) >= TERRITORY_TABLES
        # The models and the migrations describe the same schema: autogenerate finds nothing.
        command.check(migrate.alembic_config(url))
    finally:
        pg_cluster.drop_database("migrations_test")


def test_event_log_is_append_only(pg_cluster: Cluster) -> None:
    pg_cluster.create_database("append_only_test")
    url = pg_cluster.url("append_only_test")
    try:
        migrate.upgrade(url)
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO event (actor, action, object_type, detail) "
                    "VALUES ('t', 'a', 'x', '{}')"
                )
            )
        for stmt in ("UPDATE event SET actor = 'mallory'", "DELETE FROM event"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(stmt))
        engine.dispose()
    finally:
        pg_cluster.drop_database("append_only_test")


def test_the_tables_a_storm_grows_are_analyzed_while_it_grows_them(pg_cluster: Cluster) -> None:
    """Foreign-key checks keep plans made when the storm's tables were small (migration
    0020): 500 new reports must get the report table analyzed within a few autovacuum
    rounds, which come every 10 s, not every minute."""
    pg_cluster.create_database("storm_stats_test")
    url = pg_cluster.url("storm_stats_test")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        migrate.upgrade(url)
        with engine.begin() as conn:
            assert conn.execute(text("SHOW autovacuum_naptime")).scalar() == "10s"
            options = dict(
                conn.execute(
                    text("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(:t)"),
                    {"t": ["outage", "outage_premise", "report", "etr_change", "work_order"]},
                ).all()
            )
            assert len(options) == 5
            for table, opts in options.items():
                assert "autovacuum_analyze_threshold=200" in opts, table
            conn.execute(
                text(
                    "INSERT INTO report (received_at, channel, category, hazard, located_by, "
                    "classification, status, answer, token) SELECT now(), 'web', 'no_power', "
                    "false, 'unlocated', 'unlocated', 'open', '{}', 'tok' || g "
                    "FROM generate_series(1, 500) g"
                )
            )
        deadline = time.monotonic() + 45
        analyzed = None
        while analyzed is None and time.monotonic() < deadline:
            time.sleep(1)
            with engine.connect() as conn:
                analyzed = conn.execute(
                    text(
                        "SELECT last_autoanalyze FROM pg_stat_user_tables WHERE relname = 'report'"
                    )
                ).scalar()
        assert analyzed is not None, "autovacuum did not analyze the report table in 45 s"
    finally:
        engine.dispose()
        pg_cluster.drop_database("storm_stats_test")
