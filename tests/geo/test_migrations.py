"""Migrations apply to an empty database and downgrade cleanly."""

from __future__ import annotations

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
