"""The dispatcher's map console: a folium page whose layers ``static/console.js`` fetches.

folium builds the page and the Leaflet map; the data comes from ``/api/v1/layers/*`` at run
time so the layers can be refreshed in place: the live ones (outages, affected premises,
reports, planned work, the unlocated queue) every ``REFRESH_S`` seconds. Every script and
stylesheet is served from ``/static`` (folium's defaults point at CDNs, and a control room
may have no internet), and there is no tile layer: our own roads layer is the base map.
"""

from __future__ import annotations

import re
from pathlib import Path

import folium
from branca.element import Element, Figure, MacroElement
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from folium.template import Template
from jinja2 import Environment, FileSystemLoader, select_autoescape

from geo.layers import BBox, territory_bounds
from web.deps import SessionDep, SettingsDep

router = APIRouter(tags=["pages"])

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
BRAND = "stormdesk"
PAGE = "dispatch console"
OSM_COPYRIGHT_URL = "https://www.openstreetmap.org/copyright"
# Shown when the database holds no territory yet: central Helsinki, the demo city.
FALLBACK_CENTER = (60.1699, 24.9384)
# The live layers are reloaded this often (seconds); the map view is kept.
REFRESH_S = 10.0
# The solver's wall time when the dispatcher presses "Plan" (the answer comes that much later).
PLAN_TIME_LIMIT_S = 3.0


class ConsoleMap(folium.Map):
    """A folium map that links Leaflet and markercluster from our ``/static``, not a CDN.

    folium's jQuery, Bootstrap and awesome-markers are left out: the console uses none.
    """

    def __init__(self, *, static_url: str, **kwargs: object) -> None:
        super().__init__(tiles=None, **kwargs)  # type: ignore[arg-type]
        vendor = f"{static_url}/vendor"
        self.default_js = [
            ("leaflet", f"{vendor}/leaflet/leaflet.js"),
            ("markercluster", f"{vendor}/markercluster/leaflet.markercluster.js"),
            ("console_format", f"{static_url}/console_format.js"),
            ("console_side", f"{static_url}/console_side.js"),
            ("console_dispatch", f"{static_url}/console_dispatch.js"),
            ("console", f"{static_url}/console.js"),
        ]
        self.default_css = [
            ("leaflet_css", f"{vendor}/leaflet/leaflet.css"),
            ("markercluster_css", f"{vendor}/markercluster/MarkerCluster.css"),
            ("markercluster_default_css", f"{vendor}/markercluster/MarkerCluster.Default.css"),
            ("console_css", f"{static_url}/console.css"),
        ]


class RawHtml(Element):
    """Markup already rendered (and escaped) by our own Jinja environment, passed through."""

    _template = Template("{{ this.markup }}")

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.markup = markup


class ConsoleBoot(MacroElement):
    """Hands the map object and the layer URLs to ``console.js`` once the map exists."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            stormdesk.startConsole({{ this._parent.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, config: dict[str, object]) -> None:
        super().__init__()
        self._name = "ConsoleBoot"
        self.config = config


def render_console(
    *, root_path: str, bounds: BBox | None, timezone: str = "UTC", refresh_s: float = REFRESH_S
) -> str:
    """The console page as one HTML document; ``root_path`` prefixes every local URL.

    ``timezone`` is how the console shows times (ETRs, report times); ``refresh_s`` how
    often it reloads the live layers (outages, reports, planned work, the unlocated queue).
    """
    static_url = f"{root_path}/static"
    fmap = ConsoleMap(
        static_url=static_url,
        location=FALLBACK_CENTER,
        zoom_start=14,
        control_scale=True,
        font_size="13px",
        zoom_snap=0.25,
    )
    if bounds is not None:
        fmap.fit_bounds([[bounds.minlat, bounds.minlon], [bounds.maxlat, bounds.maxlon]])
    figure = fmap.get_root()
    assert isinstance(figure, Figure)  # folium.Map always makes its own Figure
    figure.title = f"{BRAND} — {PAGE}"
    figure.header.add_child(RawHtml(f'<link rel="icon" href="{static_url}/favicon.svg">'))
    chrome = TEMPLATES.get_template("console_chrome.html").render(
        brand=BRAND, page=PAGE, osm_url=OSM_COPYRIGHT_URL, timezone=timezone
    )
    figure.html.add_child(RawHtml(chrome))
    fmap.add_child(
        ConsoleBoot(
            {
                "layersUrl": f"{root_path}/api/v1/layers",
                "apiUrl": f"{root_path}/api/v1",
                "planTimeLimitS": PLAN_TIME_LIMIT_S,
                "timeZone": timezone,
                "refreshMs": int(refresh_s * 1000),
                "attribution": (
                    f'synthetic grid on &copy; <a href="{OSM_COPYRIGHT_URL}">'
                    "OpenStreetMap</a> contributors, ODbL"
                ),
            }
        )
    )
    return accessible(str(figure.render()))


# folium's page has no language and a viewport that forbids zooming (axe: html-has-lang,
# meta-viewport); both are fixed in the rendered text, and a folium whose template no longer
# matches fails here rather than serving the page unfixed.
_HTML_TAG = "<html>"
_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>')
ZOOMABLE_VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def accessible(page: str) -> str:
    """The console page with ``lang="en"`` and a viewport that lets the user zoom."""
    if _HTML_TAG not in page or not _VIEWPORT.search(page):
        msg = "folium's page template changed: update web.pages.console.accessible"
        raise RuntimeError(msg)
    page = page.replace(_HTML_TAG, '<html lang="en">', 1)
    return _VIEWPORT.sub(ZOOMABLE_VIEWPORT, page, count=1)


@router.get("/console", response_class=HTMLResponse)
def console(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The dispatcher's map: the grid, and live outages, reports and planned work."""
    bounds = territory_bounds(session=session)
    return HTMLResponse(
        render_console(
            root_path=request.scope.get("root_path", ""),
            bounds=bounds,
            timezone=settings.timezone,
        )
    )
