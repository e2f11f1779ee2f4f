"""What the local two-site stack is doing: Patroni's view of the members, etcd's health, the
server HAProxy sends writes to, and each site's API."""

from __future__ import annotations

import csv
import urllib.request
from dataclasses import dataclass, field

from web.ha.layout import Layout
from web.ha.processes import http_json, wait_for


@dataclass(frozen=True)
class Member:
    """One PostgreSQL node as Patroni sees it."""

    site: str
    role: str  # leader, sync_standby, replica (Patroni's names)
    state: str  # running, streaming, starting, stopped, ...
    timeline: int | None
    lag_bytes: int | None


@dataclass
class ClusterStatus:
    """What `cluster status` shows: the members, etcd, the proxy's choice and the APIs."""

    members: list[Member] = field(default_factory=list)
    etcd_healthy: bool = False
    proxy_primary: str | None = None
    api_health: dict[str, int] = field(default_factory=dict)

    @property
    def leader(self) -> str | None:
        return next((m.site for m in self.members if m.role == "leader"), None)

    def healthy(self) -> bool:
        """A running leader, a streaming synchronous standby, the proxy on the leader."""
        roles = {m.role for m in self.members if m.state in ("running", "streaming")}
        return (
            self.etcd_healthy
            and {"leader", "sync_standby"} <= roles
            and self.proxy_primary == self.leader
        )


def members(layout: Layout) -> list[Member]:
    for site in layout.sites:
        status, body = http_json(f"{layout.rest_url(site)}/cluster")
        if status == 200 and isinstance(body, dict):
            break
    else:
        return []
    members = []
    for item in body.get("members", []):
        lag = item.get("lag")
        members.append(
            Member(
                site=item["name"],
                role=item.get("role", "?"),
                state=item.get("state", "?"),
                timeline=item.get("timeline"),
                lag_bytes=lag if isinstance(lag, int) else None,
            )
        )
    return sorted(members, key=lambda m: m.site)


def _proxy_primary(layout: Layout) -> str | None:
    """The server HAProxy's read-write frontend sends connections to (from its stats CSV)."""
    try:
        url = f"http://{layout.host}:{layout.stats_port}/;csv"
        with urllib.request.urlopen(url, timeout=2) as response:
            rows = csv.DictReader(response.read().decode().lstrip("# ").splitlines())
            up = [
                r["svname"]
                for r in rows
                if r["pxname"] == "primary"
                and r["status"] == "UP"
                and r["svname"] not in ("FRONTEND", "BACKEND")
            ]
    except (OSError, KeyError):
        return None
    return up[0] if len(up) == 1 else None


def read_status(layout: Layout) -> ClusterStatus:
    etcd = http_json(f"http://{layout.host}:{layout.etcd_port}/health")[1]
    return ClusterStatus(
        members=members(layout),
        etcd_healthy=isinstance(etcd, dict) and etcd.get("health") == "true",
        proxy_primary=_proxy_primary(layout),
        api_health={
            site.name: http_json(f"{layout.api_url(site)}/healthz", 5)[0] for site in layout.sites
        },
    )


def wait_healthy(layout: Layout, timeout_s: float = 120) -> ClusterStatus:
    """Block until a leader runs with a streaming synchronous standby behind the proxy."""
    last = ClusterStatus()

    def check() -> bool:
        nonlocal last
        last = read_status(layout)
        return last.healthy()

    wait_for("a leader with a synchronous standby", check, timeout_s, None)
    return last
