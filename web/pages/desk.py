"""The hotline desk: the agent's call screen and the department's ticket queue.

One HTML page plus ``static/desk*.js``, which log in (OAuth2 password flow, the token kept in
sessionStorage) and do everything else through the JSON API: ringing calls from the CTI
endpoint, caller recognition, power status, the report intake, tickets and the knowledge
base. The page decides what to show from the login: agents and supervisors get the call
screen (supervisors also the complaints awaiting review), department members their queue.
Keyboard first: every action has an access key shown on screen. Assets come from
``/static`` only (no outside requests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

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
# How often the desk asks the CTI endpoint for ringing calls, and refreshes the queue.
RING_POLL_S = 2
QUEUE_REFRESH_S = 30
# The knowledge-base box waits this long after the last key before it searches.
KB_DEBOUNCE_MS = 200
View = Literal["calls", "queue"]


def render_desk(*, root_path: str, timezone: str, view: View) -> str:
    """The page as one HTML document; ``view`` is the tab it opens on."""
    config = {
        "apiUrl": f"{root_path}/api/v1",
        "timeZone": timezone,
        "view": view,
        "ringPollMs": RING_POLL_S * 1000,
        "queueRefreshMs": QUEUE_REFRESH_S * 1000,
        "kbDebounceMs": KB_DEBOUNCE_MS,
        "consoleUrl": f"{root_path}/console",
        "crewUrl": f"{root_path}/crew",
        "deskUrl": f"{root_path}/desk",
    }
    return TEMPLATES.get_template("desk.html").render(
        static_url=f"{root_path}/static", brand=BRAND, config=config
    )


@router.get("/desk", response_class=HTMLResponse)
def desk(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The agent desk: incoming call, caller card, outage script, report or ticket, wrap-up."""
    return HTMLResponse(
        render_desk(
            root_path=request.scope.get("root_path", ""), timezone=settings.timezone, view="calls"
        )
    )


@router.get("/desk/queue", response_class=HTMLResponse)
def desk_queue(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The department queue: tickets with working-day clocks, reply, review, answer, close."""
    return HTMLResponse(
        render_desk(
            root_path=request.scope.get("root_path", ""), timezone=settings.timezone, view="queue"
        )
    )
