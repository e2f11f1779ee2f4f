"""The edge under test: the rendered nginx site and what reached the application behind it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from geo.settings import REPO_ROOT

NGINX_TEMPLATE = REPO_ROOT / "deploy" / "nginx" / "stormdesk.conf.template"
PLACEHOLDER = re.compile(r"\$\{(STORMDESK_[A-Z_]+)\}")


def render_nginx_site(values: dict[str, str]) -> str:
    """What `envsubst '${STORMDESK_...}'` makes of the template: only our variables."""
    text = NGINX_TEMPLATE.read_text()
    names = set(PLACEHOLDER.findall(text))
    assert names == set(values), f"the template's placeholders are {sorted(names)}"
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


@dataclass(frozen=True)
class Edge:
    """nginx on ``url`` in front of the app on ``app_url``; their logs."""

    url: str
    app_url: str
    app_log: Path
    nginx_dir: Path

    def app_requests(self, path: str) -> int:
        """How many requests to ``path`` reached the application (uvicorn's access log)."""
        return sum(f'"POST {path} HTTP' in line for line in self.app_log.read_text().splitlines())
