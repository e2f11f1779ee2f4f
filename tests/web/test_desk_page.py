"""The desk page as served: local assets only, the view it opens on, every shortcut shown on
screen and announced, and every static file it links present."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from web.pages.desk import render_desk

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"


def _config(html: str) -> dict[str, object]:
    match = re.search(r'<script id="desk-config" type="application/json">(.*?)</script>', html)
    assert match is not None
    loaded: dict[str, object] = json.loads(match.group(1))
    return loaded


def test_the_desk_links_only_local_assets_that_exist(client: TestClient) -> None:
    answer = client.get("/desk")
    assert answer.status_code == 200
    html = answer.text
    assert "http://" not in html and "https://" not in html
    linked = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert {"desk_core.js", "desk_calls.js", "desk_tickets.js", "desk.css"} <= set(linked)
    for name in linked:
        assert (STATIC / name).is_file(), name
    for name in ("desk_core.js", "desk_calls.js", "desk_tickets.js"):
        script = (STATIC / name).read_text(encoding="utf-8")
        assert "http://" not in script and "https://" not in script, name


def test_the_two_routes_open_on_their_view(client: TestClient) -> None:
    assert _config(client.get("/desk").text)["view"] == "calls"
    queue = _config(client.get("/desk/queue").text)
    assert queue["view"] == "queue" and queue["apiUrl"] == "/api/v1"


def test_a_proxy_prefix_reaches_every_url() -> None:
    html = render_desk(root_path="/sd", timezone="Europe/Helsinki", view="calls")
    config = _config(html)
    assert config["apiUrl"] == "/sd/api/v1" and config["consoleUrl"] == "/sd/console"
    assert '"/static/' not in html and 'src="/sd/static/desk_core.js"' in html


def test_every_shortcut_is_shown_and_announced() -> None:
    html = render_desk(root_path="", timezone="UTC", view="calls")
    keys = re.findall(r'data-key="(\w)"[^>]*aria-keyshortcuts="Alt\+(\w)"', html)
    assert keys and all(k.upper() == shown for k, shown in keys)
    for letter in {k for k, _ in keys}:
        assert f"<kbd>Alt+{letter.upper()}</kbd>" in html, letter
    # The answer button is drawn by desk_calls.js when a call rings; it has its key too.
    calls = (STATIC / "desk_calls.js").read_text(encoding="utf-8")
    assert '"data-key": "a", "aria-keyshortcuts": "Alt+A"' in calls
