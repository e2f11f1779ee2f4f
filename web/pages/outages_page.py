"""The public outage map: current outages as generalized areas, the region table, ETR ranges
and the coming week's planned work, refreshed every minute.

Static HTML plus ``static/outages.js``, which reads ``/api/v1/public/outage-map`` (no
personal data) and the public roads layer for the base map, and renders every text in
English or Chinese. Assets come from ``/static`` only: no tiles, no outside requests.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.deps import SettingsDep
from web.pages.status_page import OSM_COPYRIGHT_URL, TEMPLATES, UTILITY

router = APIRouter(tags=["pages"])


def render_outages_page(*, root_path: str, timezone: str) -> str:
    """The page as one HTML document; ``root_path`` prefixes every local URL."""
    config = {
        "apiUrl": f"{root_path}/api/v1",
        "timeZone": timezone,
    }
    return TEMPLATES.get_template("outages.html").render(
        static_url=f"{root_path}/static",
        status_url=f"{root_path}/status",
        utility=UTILITY,
        osm_url=OSM_COPYRIGHT_URL,
        config=config,
    )


@router.get("/outages", response_class=HTMLResponse)
def outages_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The public outage map: where the power is out, how many, and when it should be back."""
    return HTMLResponse(
        render_outages_page(
            root_path=request.scope.get("root_path", ""), timezone=settings.timezone
        )
    )
