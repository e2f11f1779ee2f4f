"""Settings, read from the environment (prefix ``STORMDESK_``) and ``DATABASE_URL``.

One object carries every knob so that the CLI, the web app and the tests build the same
system from the same place; nothing reads ``os.environ`` elsewhere.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class UrgencyWeights(BaseModel):
    """Points of each urgency term (``dispatch.urgency``); override as JSON in
    ``STORMDESK_URGENCY``. Hazard outweighs everything else by design: a live wire on the
    street comes before any number of dark houses."""

    hazard: float = 1000.0
    life_support: float = 400.0  # per premise, up to ``critical_cap``
    hospital: float = 300.0
    other_critical: float = 50.0  # water, emergency services, schools
    critical_cap: int = 3
    supply_lost: float = 100.0  # an outage, against a fault where the power is still on
    customers_log10: float = 40.0  # times log10(1 + customers affected)
    waiting_per_min: float = 0.2
    waiting_max: float = 60.0
    sla: float = 100.0  # at the on-site deadline; twice this when a horizon past it
    sla_horizon_min: float = 60.0


class Settings(BaseSettings):
    """Runtime configuration of one stormdesk installation."""

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
    max_inflight_requests: int = Field(
        default=24,
        description=(
            "Requests inside the app at once per worker: keep it below the database pool "
            "(10 + 20) and anyio's 40 threads (see web/admission.py)."
        ),
    )
    timezone: str = Field(default="Europe/Helsinki", description="Local time for messages.")

    # Intake (outages/): how reports are located, deduplicated and rolled up.
    locate_max_premise_distance_m: float = 60.0
    geocode_confident_score: float = 0.7
    duplicate_window_h: float = 4.0
    rollup_window_min: float = 90.0
    rollup_min_premises: int = 3
    rollup_min_share: float = 0.02
    restored_recently_h: float = 6.0
    planned_notice_days: int = 7
    # 95598 commitments: power back within 3 h in cities, 4 h in the countryside.
    etr_hours_by_region_class: dict[str, float] = Field(
        default_factory=lambda: {"urban": 3.0, "rural": 4.0, "remote": 6.0}
    )
    etr_extra_hours_by_cause: dict[str, float] = Field(
        default_factory=lambda: {
            "unknown": 0.0,
            "tree": 1.0,
            "weather": 1.0,
            "equipment": 0.5,
            "vehicle": 1.5,
            "animal": 0.0,
            "overload": 0.0,
        }
    )
    etr_notify_shift_min: float = 30.0

    # Dispatch (dispatch/): 95598 clocks, urgency, ETAs before road times, appointments.
    # Crew on site within 45 / 90 / 120 minutes of the first report; power back within the
    # ``etr_hours_by_region_class`` commitment above (one knob, so the default ETR and the
    # restore deadline cannot drift apart).
    onsite_minutes_by_region_class: dict[str, float] = Field(
        default_factory=lambda: {"urban": 45.0, "rural": 90.0, "remote": 120.0}
    )
    # Faults without supply loss or hazard (a flickering light, a meter) are not urgent.
    fault_onsite_h: float = 24.0
    fault_restore_h: float = 48.0
    urgency: UrgencyWeights = Field(default_factory=lambda: UrgencyWeights())
    big_outage_customers: int = Field(
        default=100, description="Customers out that make an outage priority 2."
    )
    cycle_interval_s: float = Field(
        default=15.0,
        description="Seconds between dispatch cycles in the web app (0 turns them off).",
    )
    straight_line_speed_kmh: float = Field(
        default=30.0, description="ETA speed over straight-line distance until road ETAs exist."
    )
    repair_min_by_device_kind: dict[str, float] = Field(
        default_factory=lambda: {
            "transformer": 90.0,
            "fuse": 45.0,
            "recloser": 60.0,
            "switch": 60.0,
            "breaker": 120.0,
        }
    )
    repair_min_by_category: dict[str, float] = Field(
        default_factory=lambda: {
            "wire_down": 60.0,
            "pole_damage": 180.0,
            "fire_smoke": 60.0,
            "flicker": 45.0,
            "other": 45.0,
            "no_power": 60.0,
            "partial_power": 60.0,
        }
    )
    skills_by_device_kind: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "transformer": ["transformer"],
            "fuse": ["line"],
            "recloser": ["line"],
            "switch": ["line"],
            "breaker": ["hv"],
        }
    )
    skills_by_category: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "wire_down": ["line"],
            "pole_damage": ["line"],
            "fire_smoke": ["line"],
            "flicker": ["line"],
            "other": ["line"],
        }
    )
    appointment_day_start: dt.time = dt.time(8, 0)
    appointment_day_end: dt.time = dt.time(18, 0)
    appointment_max_h: float = 4.0

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
