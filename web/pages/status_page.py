"""The customer status page: search an address, see power status and ETR, report, track.

The page is static HTML plus ``static/status.js``, which calls the public JSON API
(``/api/v1/geocode``, ``/api/v1/status``, ``/api/v1/reports``) and renders every text itself
in English or Chinese from the structured fields. Assets come from ``/static`` only and the
map has no tile layer (our roads layer is the base map), so the page works offline.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from web.deps import SettingsDep

router = APIRouter(tags=["pages"])

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
# The utility's name in the header; the demo runs on a synthetic grid, so no real company.
UTILITY = "stormdesk"
OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"


def render_status_page(*, root_path: str, timezone: str) -> str:
    """The page as one HTML document; ``root_path`` prefixes every local URL."""
    config = {
        "apiUrl": f"{root_path}/api/v1",
        "timeZone": timezone,
    }
    return TEMPLATES.get_template("status.html").render(
        static_url=f"{root_path}/static",
        utility=UTILITY,
        osm_url=OSM_COPYRIGHT_URL,
        config=config,
    )


@router.get("/status", response_class=HTMLResponse)
def status_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The customer page: power status and ETR by address, report a fault, track a report."""
    return HTMLResponse(
        render_status_page(root_path=request.scope.get("root_path", ""), timezone=settings.timezone)
    )
