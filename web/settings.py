"""The whole installation's settings, composed from the domains' (see ``geo.settings``)."""

from __future__ import annotations

from pydantic import Field

from hotline.settings import HotlineSettings


class Settings(HotlineSettings):
    """Runtime configuration of one stormdesk installation: every domain's knobs plus the
    web app's own."""

    max_inflight_requests: int = Field(
        default=24,
        description=(
            "Requests inside the app at once per worker: keep it below the database pool "
            "(10 + 20) and anyio's 40 threads (see web/admission.py)."
        ),
    )
    cycle_interval_s: float = Field(
        default=15.0,
        description="Seconds between dispatch cycles in the web app (0 turns them off).",
    )
