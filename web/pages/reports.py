"""The supervisor's pages: ``/reports`` (daily, indicators, reported form, reliability,
forecast and staffing, the stored week roster) and ``/wallboard``.

``/reports?week=YYYY-MM-DD`` opens on that week's roster plan (``&region=CODE``: one
region's).

Both are shells without data: ``static/reports.js`` logs in (the console's token is
reused), fetches the report fragments from ``/api/v1/stats/*`` with it, and downloads the
CSV and XLSX exports the same way; the wallboard reads the event stream. Everything is
served from ``/static``: no outside request.
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
TABS = ("daily", "indicators", "reported", "reliability", "staffing", "roster")


def _page(request: Request, template: str, settings: SettingsDep) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    config = {"apiUrl": f"{root}/api/v1", "timeZone": settings.timezone, "tabs": list(TABS)}
    html = TEMPLATES.get_template(template).render(static_url=f"{root}/static", config=config)
    return HTMLResponse(html)


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The supervisor's reports (the data comes from /api/v1/stats with a login)."""
    return _page(request, "reports.html", settings)


@router.get("/wallboard", response_class=HTMLResponse)
def wallboard_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The live wallboard (the data streams from /api/v1/wallboard/stream with a login)."""
    return _page(request, "wallboard.html", settings)
