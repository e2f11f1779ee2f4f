"""Test fixtures: one throwaway PostGIS cluster per test session, a rolled-back transaction
per test, and the demo city loaded once so every test sees real territory data."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from geo import migrate
from geo.cluster import FAST_UNSAFE_OPTIONS, Cluster
from geo.database import make_engine
from scenarios.demo_city import build_demo_city
from scenarios.demo_city.loader import load_demo_city
from web.deps import get_read_session, get_session
from web.main import create_app
from web.settings import Settings

TEST_DB = "stormdesk_test"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    # Not under pytest's tmp_path: pytest resets its base directory to mode 0700, which
    # locks out the postgres user that runs the server when we are root.
    root = Path(tempfile.mkdtemp(prefix="stormdesk-test-pg-"))
    cluster = Cluster(
        data_dir=root / "data", socket_dir=root / "run", server_options=FAST_UNSAFE_OPTIONS
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def db_url(pg_cluster: Cluster) -> str:
    """A migrated database with the demo city loaded and committed."""
    pg_cluster.create_database(TEST_DB)
    url = pg_cluster.url(TEST_DB)
    migrate.upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        load_demo_city(session=session, city=build_demo_city())
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    """A session whose every commit lands in a savepoint rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        DATABASE_URL=db_url,
        var_dir=tmp_path_factory.mktemp("var"),
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        # Tests drive the dispatch cycle themselves; a timer would race their assertions.
        cycle_interval_s=0,
        # Each test's data is its own (rolled back): an answer kept from another test would
        # be wrong. tests/web/test_public_map_api.py turns the cache on to test it.
        public_map_cache_s=0,
        # The in-process client serves requests inside the test's rolled-back transaction,
        # which a group-commit writer (its own connection) cannot join; its tests enable it.
        intake_group_commit=False,
        # Likewise the status memory reads committed data on connections of its own; its
        # tests (tests/dispatch/test_status_memory.py, tests/web/test_status_memory_live.py)
        # turn it on, every other status test exercises the SQL path.
        status_memory=False,
        # gc.freeze() is process-wide: in the test process it would freeze pytest's heap at
        # every app start (tests/web/test_heap.py freezes a worker of its own).
        freeze_startup_heap=False,
    )


@pytest.fixture
def client(settings: Settings, db_session: Session) -> Iterator[TestClient]:
    """The real app, its requests served inside the test's rolled-back transaction."""
    app = create_app(settings)

    def session_override() -> Iterator[Session]:
        yield db_session
        db_session.flush()

    app.dependency_overrides[get_session] = session_override
    app.dependency_overrides[get_read_session] = session_override
    with TestClient(app) as test_client:
        yield test_client
