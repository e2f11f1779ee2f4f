"""Bring the two sites up and down: etcd, Patroni per site, HAProxy, the database (created,
migrated and loaded once through the primary) and an API per site."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from rich.console import Console

from geo.exceptions import ClusterError
from web.ha.layout import (
    DB_NAME,
    DEFAULT_BASE_PORT,
    SUPERUSER,
    Layout,
    Secrets,
    Site,
    haproxy_config,
    patroni_config,
)
from web.ha.processes import (
    alive,
    as_postgres,
    find_binary,
    give_to_postgres,
    http_json,
    log_file,
    python_for_postgres,
    running_pid,
    site_packages,
    spawn,
    stop,
    wait_for,
)
from web.ha.status import members, wait_healthy
from web.settings import Settings

console = Console()


def _start_etcd(layout: Layout) -> None:
    if running_pid(layout, "etcd"):
        return
    client = f"http://{layout.host}:{layout.etcd_port}"
    peer = f"http://{layout.host}:{layout.etcd_peer_port}"
    cmd = [
        find_binary("etcd", "etcd-server"),
        *("--name", "stormdesk", "--data-dir", str(layout.root / "etcd")),
        *("--listen-client-urls", client, "--advertise-client-urls", client),
        *("--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer),
        *("--initial-cluster", f"stormdesk={peer}", "--initial-cluster-state", "new"),
        *("--logger", "zap", "--log-level", "warn"),
    ]
    spawn(layout, "etcd", cmd, dict(os.environ))
    wait_for(
        "etcd",
        lambda: (http_json(f"{client}/health")[1] or {}).get("health") == "true",
        30,
        log_file(layout, "etcd"),
    )


def _start_patroni(layout: Layout, site: Site, keys: Secrets, python: str) -> None:
    name = f"patroni-{site.name}"
    if running_pid(layout, name):
        return
    site_dir = layout.site_dir(site)
    (site_dir / "run").mkdir(parents=True, exist_ok=True)
    config = site_dir / "patroni.yml"
    config.touch(mode=0o600)
    config.write_text(patroni_config(layout, site, keys))
    give_to_postgres(site_dir)
    purelib = site_packages()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(site_dir),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(purelib),
    }
    spawn(layout, name, as_postgres([python, "-m", "patroni", str(config)]), env)


def _start_haproxy(layout: Layout) -> None:
    if running_pid(layout, "haproxy"):
        return
    config = layout.root / "haproxy.cfg"
    config.write_text(haproxy_config(layout))
    haproxy = find_binary("haproxy", "haproxy")
    checked = subprocess.run(
        [haproxy, "-c", "-q", "-f", str(config)], capture_output=True, text=True, check=False
    )
    if checked.returncode != 0:
        msg = f"haproxy rejects {config}: {checked.stderr.strip() or checked.stdout.strip()}"
        raise ClusterError(msg)
    spawn(layout, "haproxy", [haproxy, "-db", "-f", str(config)], dict(os.environ))


def _start_api(layout: Layout, site: Site, keys: Secrets, workers: int) -> None:
    name = f"api-{site.name}"
    if running_pid(layout, name):
        return
    env = {
        **os.environ,
        "DATABASE_URL": layout.database_url(keys.superuser_password),
        "STORMDESK_VAR_DIR": str(layout.site_dir(site) / "var"),
        "STORMDESK_SECRET_KEY": keys.jwt_secret,
    }
    serve = ["serve", "--host", layout.host, "--port", str(site.api_port)]
    cmd = [sys.executable, "-c", "from web.cli import main; main()", *serve]
    spawn(layout, name, [*cmd, "--workers", str(workers)], env)


def _prepare_database(layout: Layout, keys: Secrets) -> dict[str, int] | None:
    """Create, migrate and (once) load the demo city, all through the proxy to the primary."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from geo import migrate
    from geo.database import make_engine
    from geo.models import Premise

    admin = psycopg.connect(
        host=layout.host,
        port=layout.primary_port,
        user=SUPERUSER,
        password=keys.superuser_password,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    url = layout.database_url(keys.superuser_password)
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            if session.scalar(select(func.count()).select_from(Premise)):
                return None
            from scenarios.demo_city import build_demo_city
            from scenarios.demo_city.loader import load_demo_city, turn_demo_roster

            counts = load_demo_city(session=session, city=build_demo_city())
            # As `stormdesk load demo` does: day crews on shift from this hour, so the
            # console can dispatch at any time of day.
            local = dt.datetime.now(ZoneInfo(Settings().timezone))
            turn_demo_roster(session=session, start=dt.time(local.hour))
    finally:
        engine.dispose()
    return counts


def cluster_up(root: Path, base_port: int = DEFAULT_BASE_PORT, workers: int = 1) -> Layout:
    """Start (or resume) every component and wait until the sites serve; idempotent."""
    root = root.resolve()
    layout = (
        Layout.load(root)
        if (root / "cluster.json").exists()
        else Layout.from_base_port(root, base_port)
    )
    layout.save()
    keys = Secrets.load_or_create(layout.root)
    python = python_for_postgres()
    with console.status("Starting etcd"):
        _start_etcd(layout)
    # A new installation bootstraps on the first site and clones it on the others; an existing
    # one starts every node at once and lets Patroni elect whichever may lead.
    fresh = not any(layout.data_dir(site).exists() for site in layout.sites)
    with console.status("Starting PostgreSQL under Patroni on each site"):
        for number, site in enumerate(layout.sites):
            _start_patroni(layout, site, keys, python)
            if fresh and number == 0:
                wait_for(
                    "a Patroni leader",
                    partial(_has_leader, layout),
                    120,
                    log_file(layout, f"patroni-{site.name}"),
                )
    with console.status("Starting the proxy; waiting for the synchronous standby"):
        _start_haproxy(layout)
        wait_healthy(layout, 180)
    with console.status("Migrating and loading the demo city through the primary"):
        counts = _prepare_database(layout, keys)
    if counts:
        console.print(f"Demo city loaded: {counts.get('premise', 0)} premises.")
    with console.status("Starting an API on each site"):
        for site in layout.sites:
            _start_api(layout, site, keys, workers)
        for site in layout.sites:
            wait_for(
                f"the API of {site.name}",
                partial(_answers, f"{layout.api_url(site)}/healthz"),
                240,
                log_file(layout, f"api-{site.name}"),
            )
    return layout


def _has_leader(layout: Layout) -> bool:
    return any(m.role == "leader" and m.state == "running" for m in members(layout))


def _answers(url: str) -> bool:
    return http_json(url, 5)[0] == 200


def _stop_node(layout: Layout, site: Site) -> None:
    stop(layout, f"patroni-{site.name}", timeout_s=60)
    # A Patroni that had to be killed leaves its PostgreSQL running: stop it (fast shutdown).
    pid = layout.postmaster_pid(site)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        wait_for(f"PostgreSQL of {site.name} to stop", lambda: not alive(pid), 60, None)


def cluster_down(layout: Layout) -> list[str]:
    """Stop everything: APIs, proxy, standbys before the leader (no needless failover), etcd."""
    stopped = [name for site in layout.sites if stop(layout, name := f"api-{site.name}")]
    if stop(layout, "haproxy"):
        stopped.append("haproxy")
    leader = next((m.site for m in members(layout) if m.role == "leader"), None)
    for site in sorted(layout.sites, key=lambda s: s.name == leader):
        had = running_pid(layout, f"patroni-{site.name}") is not None
        _stop_node(layout, site)
        if had:
            stopped.append(f"patroni-{site.name}")
    if stop(layout, "etcd"):
        stopped.append("etcd")
    return stopped
