"""Engine and session factories; built by the caller (app lifespan, CLI, tests), never at import."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from geo.exceptions import DatabaseUnavailable
from geo.settings import GeoSettings


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """An engine with a pool sized for a few API workers on one machine."""
    return create_engine(url, echo=echo, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


def engine_from_settings(settings: GeoSettings) -> Engine:
    return make_engine(settings.resolved_database_url(), echo=settings.sql_echo)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def ping(engine: Engine) -> str:
    """The PostGIS version, proving the database answers and has the extension.

    Raises ``DatabaseUnavailable`` (naming the driver's error class) when it does not, so
    callers above ``geo`` need not know SQLAlchemy's exceptions.
    """
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT postgis_lib_version()")).scalar_one())
    except SQLAlchemyError as exc:
        msg = f"the database does not answer ({exc.__class__.__name__}): retry shortly"
        raise DatabaseUnavailable(msg) from exc
