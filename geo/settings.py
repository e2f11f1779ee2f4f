"""Settings of the base layer, read from the environment (prefix ``STORMDESK_``).

Each domain package owns a settings class for its own knobs, and each extends the one of
the layer below it (``geo`` -> ``outages`` -> ``dispatch`` -> ``hotline`` -> ``web``), so a
service in ``dispatch/`` is typed with ``DispatchSettings`` and still reads the time zone.
``web.settings.Settings`` composes them all; the CLI, the web app and the tests build it in
one place and nothing reads ``os.environ`` elsewhere. One prefix for all of them: one
installation is configured by one operator, and the variables keep the names they had.
"""

from __future__ import annotations

from pathlib import Path

import phonenumbers
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
# The demo city is Helsinki: national numbers are dialled as in Finland (geo.phones).
DEFAULT_PHONE_REGION = "FI"


class GeoSettings(BaseSettings):
    """The installation itself: database, local state, logins, geocoder, local time and
    phone numbering."""

    model_config = SettingsConfigDict(env_prefix="STORMDESK_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="An existing PostGIS to use; unset means the embedded cluster under var/pg.",
    )
    var_dir: Path = Field(default=REPO_ROOT / "var", description="Where local state lives.")
    pg_bin_dir: Path = Path("/usr/lib/postgresql/15/bin")
    db_name: str = "stormdesk"
    secret_key: str | None = Field(
        default=None, description="JWT signing key; unset means one kept in var/secret_key."
    )
    token_ttl_s: int = 12 * 3600
    geocode_max_query_chars: int = 200
    geocode_min_fuzzy_score: float = 0.35
    sql_echo: bool = False
    timezone: str = Field(default="Europe/Helsinki", description="Local time for messages.")
    phone_region: str = Field(
        default=DEFAULT_PHONE_REGION,
        description="ISO 3166 region national phone numbers are dialled in (geo.phones): "
        "'040 1234567' is +358401234567 in FI.",
    )

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            msg = f"phone_region {value!r} is not a region phonenumbers knows (FI, SE, CN, ...)"
            raise ValueError(msg)
        return region

    @field_validator("var_dir", "pg_bin_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.resolve()

    @property
    def pg_data_dir(self) -> Path:
        """Data directory of the embedded cluster."""
        return self.var_dir / "pg" / "data"

    @property
    def pg_socket_dir(self) -> Path:
        """Unix socket directory of the embedded cluster (TCP is off)."""
        return self.var_dir / "pg" / "run"

    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: ``DATABASE_URL`` or the embedded cluster's socket."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"postgresql+psycopg://stormdesk@/{self.db_name}?host={self.pg_socket_dir}"

    def jwt_secret(self) -> str:
        """The signing key, created once per installation when none is configured."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
