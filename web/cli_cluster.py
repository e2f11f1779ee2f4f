"""``stormdesk cluster up|status|down``: two sites that back each other up, on one machine.

Each site has a PostgreSQL node run by Patroni and an API process; one etcd elects the primary
and one HAProxy sends both APIs to whichever node is primary (Patroni's REST API tells it).
Commits wait for the other site's standby (synchronous replication), so an answered report is
on both sites. Nothing here decides who is primary: the failover is Patroni's. Everything runs on
loopback ports, with its state, configuration and logs under ``var/cluster/`` (``web/ha/``); the
same configuration templates serve production (``deploy/``, docs/deploy.md).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from web.ha.layout import DB_NAME, DEFAULT_BASE_PORT, SUPERUSER, Layout
from web.ha.stack import cluster_down, cluster_up
from web.ha.status import ClusterStatus, read_status
from web.settings import Settings

app = typer.Typer(help="Two local sites: PostgreSQL under Patroni, etcd, HAProxy, two APIs.")
console = Console()

DirOption = Annotated[
    Path | None, typer.Option("--dir", help="State directory (default: var/cluster).")
]


def _root(directory: Path | None) -> Path:
    return (directory or Settings().var_dir / "cluster").resolve()


def _print_status(layout: Layout, status: ClusterStatus) -> None:
    nodes = Table("site", "role", "state", "timeline", "lag", "PostgreSQL", "Patroni")
    seen = {member.site: member for member in status.members}
    for site in layout.sites:
        member = seen.get(site.name)
        if member is None:
            cells = ["-", "[red]down[/]", "-", "-"]
        else:
            lag = "-" if member.lag_bytes is None else f"{member.lag_bytes / 1024:.0f} kB"
            cells = [member.role, member.state, str(member.timeline or "-"), lag]
        nodes.add_row(site.name, *cells, f"{layout.host}:{site.pg_port}", layout.rest_url(site))
    console.print(nodes)
    parts = Table("component", "URL", "state")
    etcd_url = f"http://{layout.host}:{layout.etcd_port}"
    parts.add_row("etcd", etcd_url, "healthy" if status.etcd_healthy else "[red]down[/]")
    proxy = f"postgresql://{SUPERUSER}@{layout.host}:{layout.primary_port}/{DB_NAME}"
    parts.add_row("proxy (primary)", proxy, f"-> {status.proxy_primary or '[red]none[/]'}")
    parts.add_row("proxy (standbys)", f"{layout.host}:{layout.replica_port}", "")
    parts.add_row("proxy stats", f"http://{layout.host}:{layout.stats_port}/", "")
    for site in layout.sites:
        code = status.api_health.get(site.name, 0)
        state = "ok" if code == 200 else f"[red]{code or 'down'}[/]"
        parts.add_row(f"API {site.name}", layout.api_url(site), state)
    console.print(parts)


@app.command("up")
def up(
    directory: DirOption = None,
    base_port: Annotated[
        int,
        typer.Option(
            help="First of the 33 ports used (base..base+32); kept from the first up.",
            min=1024,
            max=65000,
        ),
    ] = DEFAULT_BASE_PORT,
    workers: Annotated[int, typer.Option(help="Uvicorn workers per API site.", min=1)] = 1,
) -> None:
    """Bring up two sites: PostgreSQL + Patroni each, etcd, HAProxy, an API on each."""
    started = time.monotonic()
    layout = cluster_up(_root(directory), base_port, workers)
    console.print(f"Two sites up in {time.monotonic() - started:.0f} s under {layout.root}.")
    _print_status(layout, read_status(layout))


@app.command("status")
def status(directory: DirOption = None) -> None:
    """Show the nodes (roles, lag, timeline), etcd, the proxy's primary and the APIs."""
    layout = Layout.load(_root(directory))
    current = read_status(layout)
    _print_status(layout, current)
    if not current.healthy():
        raise typer.Exit(3)


@app.command("down")
def down(
    directory: DirOption = None,
    purge: Annotated[bool, typer.Option(help="Delete the data as well.")] = False,
) -> None:
    """Stop the APIs, the proxy, both PostgreSQL nodes and etcd (data is kept)."""
    root = _root(directory)
    stopped = cluster_down(Layout.load(root))
    console.print(f"Stopped: {', '.join(stopped) or 'nothing was running'}.")
    if purge:
        shutil.rmtree(root)
        console.print(f"Deleted {root}.")
