"""PostGIS models of the territory: regions, the grid, premises, roads, users, audit.

Geometries are stored in EPSG:4326 (lon/lat) in columns named ``geom``; metric work happens
in a projected CRS in the code that needs it. Crews are dispatch's (``dispatch/models.py``);
``user_account.crew_id`` points at their table by name, so this layer does not import them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from geoalchemy2 import Geometry, WKBElement, WKTElement
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SRID = 4326
DEVICE_KINDS = ("breaker", "recloser", "fuse", "switch", "transformer")
REGION_CLASSES = ("urban", "rural", "remote")
CRITICAL_KINDS = ("hospital", "life_support", "water", "emergency", "school")
# cti: the telephony system's service account; it may only open and close calls.
ROLES = ("admin", "dispatcher", "agent", "crew", "supervisor", "cti")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base of every stormdesk table."""


class Region(Base):
    """A supply region (city or county unit); ``region_class`` sets the 95598 clocks."""

    __tablename__ = "region"
    __table_args__ = (CheckConstraint(_in("region_class", REGION_CLASSES), name="region_class"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    region_class: Mapped[str] = mapped_column(String(16), default="urban")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID))


class Substation(Base):
    __tablename__ = "substation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID))


class Feeder(Base):
    """A medium-voltage feeder; ``geom`` is its service area (feeders tile the territory)."""

    __tablename__ = "feeder"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    substation_id: Mapped[int | None] = mapped_column(ForeignKey("substation.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    voltage_kv: Mapped[float] = mapped_column(Float, default=10.0)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID))

    substation: Mapped[Substation | None] = relationship()
    region: Mapped[Region | None] = relationship()


class Device(Base):
    """A switching or transforming device; ``upstream_id`` links form each feeder's tree."""

    __tablename__ = "device"
    __table_args__ = (CheckConstraint(_in("kind", DEVICE_KINDS), name="device_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    feeder_id: Mapped[int] = mapped_column(ForeignKey("feeder.id"), index=True)
    upstream_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), index=True)
    normally_open: Mapped[bool] = mapped_column(Boolean, default=False)
    rated_kva: Mapped[float | None] = mapped_column(Float)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID))

    feeder: Mapped[Feeder] = relationship()


class Segment(Base):
    """A line section between two devices, drawn along the road it follows."""

    __tablename__ = "segment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feeder_id: Mapped[int] = mapped_column(ForeignKey("feeder.id"), index=True)
    from_device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"))
    to_device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"))
    length_m: Mapped[float] = mapped_column(Float)
    geom: Mapped[WKBElement] = mapped_column(Geometry("LINESTRING", srid=SRID))


def phone_digits_index(name: str, column: str) -> Index:
    """The index caller recognition finds phones by: digits only, so a number typed with
    spaces or dashes and the one the telephony system sends meet (migration 0013)."""
    return Index(name, text(f"regexp_replace({column}, '[^0-9]', '', 'g')"))


class Premise(Base):
    """A service point. ``customer_name`` and ``phone`` are PII: never in public answers."""

    __tablename__ = "premise"
    __table_args__ = (
        CheckConstraint(f"critical IS NULL OR {_in('critical', CRITICAL_KINDS)}", name="critical"),
        Index("ix_premise_street_house", "street_norm", "house_norm"),
        phone_digits_index("ix_premise_phone_digits", "phone"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(32), unique=True)
    address: Mapped[str] = mapped_column(Text)
    address_norm: Mapped[str] = mapped_column(Text, index=True)
    street_norm: Mapped[str] = mapped_column(Text)
    house_norm: Mapped[str] = mapped_column(String(32))
    postcode: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(Text)
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeder.id"), index=True)
    transformer_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    critical: Mapped[str | None] = mapped_column(String(16))
    customer_name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID))


class TopologyVersion(Base):
    """One row: a token that statement triggers on device, premise and feeder replace in the
    changing transaction (migration 0018). The intake's group writer keeps feeder trees
    while the token it loaded them under is still the one here."""

    __tablename__ = "topology_version"
    __table_args__ = (CheckConstraint("one", name="topology_version_one_check"),)

    one: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=text("true"))
    token: Mapped[uuid.UUID] = mapped_column(Uuid, server_default=text("gen_random_uuid()"))


class Street(Base):
    """Distinct normalized street names: the small table the fuzzy geocoder searches.

    Trigram search over whole address strings is slow at a million premises (house numbers
    and city names share trigrams); searching street names, then the house number, is not.
    The GiST index serves nearest-neighbour ordering (``<->``), so a badly typo'd name still
    gets its closest candidates without a similarity threshold.
    """

    __tablename__ = "street"
    __table_args__ = (
        Index(
            "ix_street_name_trgm",
            "name_norm",
            postgresql_using="gist",
            postgresql_ops={"name_norm": "gist_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_norm: Mapped[str] = mapped_column(Text, unique=True)
    premise_count: Mapped[int] = mapped_column(Integer, default=0)


class RoadNode(Base):
    __tablename__ = "road_node"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID))


class RoadEdge(Base):
    """A directed-or-not road edge for routing and the base map (from OpenStreetMap)."""

    __tablename__ = "road_edge"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    from_node_id: Mapped[int] = mapped_column(ForeignKey("road_node.id"), index=True)
    to_node_id: Mapped[int] = mapped_column(ForeignKey("road_node.id"), index=True)
    length_m: Mapped[float] = mapped_column(Float)
    oneway: Mapped[bool] = mapped_column(Boolean, default=False)
    speed_kmh: Mapped[float] = mapped_column(Float)
    highway: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(Text)
    osm_id: Mapped[int | None] = mapped_column(BigInteger)
    geom: Mapped[WKBElement] = mapped_column(Geometry("LINESTRING", srid=SRID))


class User(Base):
    """A person who logs in; passwords are argon2 hashes."""

    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="user_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(Text)
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crew.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Tokens carry the version they were issued under; logout and revocation bump it, so
    # every token issued before stops working at once.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class LoginThrottle(Base):
    """Failed logins per key (``user:<name>`` or ``addr:<client address>``) and until when
    the key is locked out; in the database, so every worker and site sees the same count."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Event(Base):
    """Append-only audit log (a trigger refuses UPDATE and DELETE)."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


def point(lon: float, lat: float) -> Any:
    """A point to assign to a ``geom`` column (typed loosely: columns read back as WKB)."""
    return WKTElement(f"POINT({lon!r} {lat!r})", srid=SRID)
