"""The crew page: a phone-sized view of one crew's route, its jobs and one-tap status steps.

The page is static HTML plus ``static/crew.js``, which logs in (OAuth2 password flow, the
token kept in sessionStorage), reads the crew's orders and route from the JSON API, and
sends status steps through a queue kept in localStorage, so a step tapped without network
is sent when the connection returns. Assets come from ``/static`` only and the map has no
tile layer (our roads layer is the base map), so the page works without internet.
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
BRAND = "stormdesk"
OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"
# How often the page reloads its jobs, retries queued steps and posts the crew's position.
REFRESH_S = 20
RETRY_S = 15
POSITION_S = 30


def render_crew_page(*, root_path: str, timezone: str) -> str:
    """The page as one HTML document; ``root_path`` prefixes every local URL."""
    config = {
        "apiUrl": f"{root_path}/api/v1",
        "timeZone": timezone,
        "refreshMs": REFRESH_S * 1000,
        "retryMs": RETRY_S * 1000,
        "positionMs": POSITION_S * 1000,
    }
    return TEMPLATES.get_template("crew.html").render(
        static_url=f"{root_path}/static", brand=BRAND, osm_url=OSM_COPYRIGHT_URL, config=config
    )


@router.get("/crew", response_class=HTMLResponse)
def crew_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The crew's phone page: my route, my jobs, one tap for en route, on site, restored."""
    return HTMLResponse(
        render_crew_page(root_path=request.scope.get("root_path", ""), timezone=settings.timezone)
    )
