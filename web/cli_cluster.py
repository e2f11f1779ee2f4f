"""``stormdesk cluster up|status|down``: two sites that back each other up, on one machine.

Each site has a PostgreSQL node run by Patroni and an API process; one etcd elects the primary
and one HAProxy sends both APIs to whichever node is primary (Patroni's REST API tells it).
Commits wait for the other site's standby (synchronous replication), so an answered report is
on both sites. Nothing here decides who is primary: the failover is Patroni's. Everything runs on
loopback ports, with its state, configuration and logs under ``var/cluster/``; the same
configuration files serve production (``deploy/``, docs/deploy.md).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from string import Template
from typing import Annotated, Any
from urllib.parse import quote

import psycopg
import typer
from psycopg import sql
from rich.console import Console
from rich.table import Table

from geo.exceptions import ClusterError
from geo.settings import REPO_ROOT
from web.settings import Settings

DEPLOY_DIR = REPO_ROOT / "deploy"
SITES = ("site-a", "site-b")
SCOPE = "stormdesk"
SUPERUSER = "stormdesk"
DB_NAME = "stormdesk"
DEFAULT_BASE_PORT = 7400
# Ports of one installation, as offsets from its base port (a site adds 10 per site).
_ETCD, _ETCD_PEER, _PRIMARY, _REPLICA, _STATS = 0, 1, 2, 3, 4
_PG, _REST, _API = 10, 11, 12

app = typer.Typer(help="Two local sites: PostgreSQL under Patroni, etcd, HAProxy, two APIs.")
console = Console()

DirOption = Annotated[
    Path | None, typer.Option("--dir", help="State directory (default: var/cluster).")
]


@dataclass(frozen=True)
class Site:
    """One site: its PostgreSQL node (under Patroni) and its API process."""

    name: str
    pg_port: int
    rest_port: int
    api_port: int


@dataclass(frozen=True)
class Layout:
    """Where everything of one local two-site installation listens and lives."""

    root: Path
    host: str
    etcd_port: int
    etcd_peer_port: int
    primary_port: int
    replica_port: int
    stats_port: int
    sites: tuple[Site, ...]

    @classmethod
    def from_base_port(cls, root: Path, base_port: int, host: str = "127.0.0.1") -> Layout:
        sites = tuple(
            Site(
                name=name,
                pg_port=base_port + 10 * (i + 1) + _PG - 10,
                rest_port=base_port + 10 * (i + 1) + _REST - 10,
                api_port=base_port + 10 * (i + 1) + _API - 10,
            )
            for i, name in enumerate(SITES)
        )
        return cls(
            root=root.resolve(),
            host=host,
            etcd_port=base_port + _ETCD,
            etcd_peer_port=base_port + _ETCD_PEER,
            primary_port=base_port + _PRIMARY,
            replica_port=base_port + _REPLICA,
            stats_port=base_port + _STATS,
            sites=sites,
        )

    @property
    def state_file(self) -> Path:
        return self.root / "cluster.json"

    def save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        data["root"] = str(self.root)
        self.state_file.write_text(json.dumps(data, indent=2))

    @classmethod
    def load(cls, root: Path) -> Layout:
        path = root.resolve() / "cluster.json"
        if not path.exists():
            msg = f"no cluster under {root.resolve()}: start one with `stormdesk cluster up`"
            raise ClusterError(msg)
        data = json.loads(path.read_text())
        data["root"] = Path(data["root"])
        data["sites"] = tuple(Site(**site) for site in data["sites"])
        return cls(**data)

    def site(self, name: str) -> Site:
        return next(site for site in self.sites if site.name == name)

    def site_dir(self, site: Site) -> Path:
        return self.root / site.name

    def data_dir(self, site: Site) -> Path:
        return self.site_dir(site) / "data"

    def rest_url(self, site: Site) -> str:
        return f"http://{self.host}:{site.rest_port}"

    def api_url(self, site: Site) -> str:
        return f"http://{self.host}:{site.api_port}"

    def database_url(self, password: str, *, port: int | None = None, db: str = DB_NAME) -> str:
        """SQLAlchemy URL through the proxy (the primary), or straight to one node's port."""
        return (
            f"postgresql+psycopg://{SUPERUSER}:{quote(password, safe='')}@{self.host}:"
            f"{port or self.primary_port}/{db}"
        )

    def postmaster_pid(self, site: Site) -> int | None:
        """The running postmaster of a site's node, from its ``postmaster.pid``."""
        path = self.data_dir(site) / "postmaster.pid"
        try:
            pid = int(path.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None


@dataclass(frozen=True)
class Secrets:
    """Passwords of one installation, made once and kept in ``secrets.json`` (mode 0600)."""

    superuser_password: str
    replication_password: str
    rewind_password: str
    jwt_secret: str

    @classmethod
    def load_or_create(cls, root: Path) -> Secrets:
        path = root / "secrets.json"
        if path.exists():
            return cls(**json.loads(path.read_text()))
        made = cls(*(secrets.token_urlsafe(24) for _ in range(3)), secrets.token_urlsafe(48))
        root.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(asdict(made)))
        return made


# --- processes ---------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    # Reap it if it is our own child that exited (the CLI's children outlive it; a test's die
    # while it runs).
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not running.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a process, so a pid file never names a reused pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _pid_file(layout: Layout, name: str) -> Path:
    return layout.root / "run" / f"{name}.json"


def running_pid(layout: Layout, name: str) -> int | None:
    """The pid of a component we started, if it still runs."""
    path = _pid_file(layout, name)
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    pid = int(record["pid"])
    if _alive(pid) and _start_time(pid) == record["started"]:
        return pid
    return None


def log_file(layout: Layout, name: str) -> Path:
    return layout.root / "logs" / f"{name}.log"


def _spawn(layout: Layout, name: str, cmd: list[str], env: dict[str, str]) -> int:
    """Start a component in its own session (it outlives the CLI), logging to logs/NAME.log.

    posix_spawn rather than Popen: no Popen object is left to warn about a child that is meant
    to keep running.
    """
    log = log_file(layout, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    _pid_file(layout, name).parent.mkdir(parents=True, exist_ok=True)
    pid = os.posix_spawnp(
        cmd[0],
        cmd,
        env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )
    _pid_file(layout, name).write_text(
        json.dumps({"pid": pid, "started": _start_time(pid), "cmd": cmd[:3]})
    )
    return pid


def _terminate(pid: int, timeout_s: float) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``timeout_s``."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _stop(layout: Layout, name: str, timeout_s: float = 30.0) -> bool:
    pid = running_pid(layout, name)
    if pid is not None:
        _terminate(pid, timeout_s)
    _pid_file(layout, name).unlink(missing_ok=True)
    return pid is not None


def _wait(what: str, check: Callable[[], bool], timeout_s: float, log: Path | None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
    msg = f"timed out after {timeout_s:.0f} s waiting for {what} (log: {log}){tail}"
    raise ClusterError(msg)


def _http_json(url: str, timeout_s: float = 2.0) -> tuple[int, Any]:
    """GET a JSON document; (status, body) with status 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"null")
        except ValueError:
            return exc.code, None
    except (OSError, ValueError):
        return 0, None


def _binary(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
    if not found:
        msg = f"{name} not found: install the Debian package {package} (make sysdeps does)"
        raise ClusterError(msg)
    return found


# --- running as the postgres user ---------------------------------------------------------


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses root: run its supervisor as ``postgres`` (setpriv execs, no fork, so
    the pid we keep is Patroni's own)."""
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *cmd]


def _python_for_postgres() -> str:
    """An interpreter of our Python version the postgres user may execute.

    A virtualenv's interpreter may live in root's home (pyenv), out of the postgres user's
    reach; the system's interpreter of the same version loads the same site-packages.
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, os.path.realpath(sys.executable), f"/usr/bin/python{version}"]
    for candidate in dict.fromkeys(candidates):
        # Through env: setpriv's own exec still runs with root's rights, Patroni's re-exec of
        # sys.executable (multiprocessing spawn) does not.
        probe = _as_postgres(["env", candidate, "-c", "import sys"])
        if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
            return candidate
    msg = f"no Python {version} interpreter the postgres user may run (tried {candidates})"
    raise ClusterError(msg)


def _give_to_postgres(path: Path) -> None:
    """Make ``path`` the postgres user's and let it traverse our parent directories."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return
    pg = pwd.getpwnam("postgres")
    for item in (path, *path.rglob("*")):
        os.chown(item, pg.pw_uid, pg.pw_gid)
    for parent in path.parents:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o011)


# --- configuration ------------------------------------------------------------------------


def _render(template: str, values: dict[str, object]) -> str:
    text = (DEPLOY_DIR / template).read_text()
    try:
        return Template(text).substitute({k: str(v) for k, v in values.items()})
    except KeyError as exc:
        msg = f"deploy/{template} has a placeholder {exc} that cluster up does not fill"
        raise ClusterError(msg) from None


def patroni_config(layout: Layout, site: Site, keys: Secrets) -> str:
    site_dir = layout.site_dir(site)
    return _render(
        "patroni/patroni.yml.template",
        {
            "scope": SCOPE,
            "name": site.name,
            "listen_host": layout.host,
            "connect_host": layout.host,
            "rest_port": site.rest_port,
            "pg_port": site.pg_port,
            "etcd_hosts": f"{layout.host}:{layout.etcd_port}",
            "data_dir": layout.data_dir(site),
            "bin_dir": Settings().pg_bin_dir,
            "pgpass": site_dir / "pgpass",
            "socket_dir": site_dir / "run",
            "superuser": SUPERUSER,
            "superuser_password": keys.superuser_password,
            "replication_password": keys.replication_password,
            "rewind_password": keys.rewind_password,
            "client_network": f"{layout.host}/32",
            "max_connections": 200,
            "shared_buffers": "64MB",
        },
    )


def haproxy_config(layout: Layout) -> str:
    servers = "\n".join(
        f"    server {site.name} {layout.host}:{site.pg_port} check port {site.rest_port}"
        for site in layout.sites
    )
    return _render(
        "haproxy/haproxy.cfg.template",
        {
            "listen_host": layout.host,
            "primary_port": layout.primary_port,
            "replica_port": layout.replica_port,
            "stats_port": layout.stats_port,
            "primary_servers": servers,
            "replica_servers": servers,
        },
    )


# --- components ---------------------------------------------------------------------------


def _start_etcd(layout: Layout) -> None:
    if running_pid(layout, "etcd"):
        return
    client = f"http://{layout.host}:{layout.etcd_port}"
    peer = f"http://{layout.host}:{layout.etcd_peer_port}"
    cmd = [
        _binary("etcd", "etcd-server"),
        *("--name", "stormdesk", "--data-dir", str(layout.root / "etcd")),
        *("--listen-client-urls", client, "--advertise-client-urls", client),
        *("--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer),
        *("--initial-cluster", f"stormdesk={peer}", "--initial-cluster-state", "new"),
        *("--logger", "zap", "--log-level", "warn"),
    ]
    _spawn(layout, "etcd", cmd, dict(os.environ))
    _wait(
        "etcd",
        lambda: (_http_json(f"{client}/health")[1] or {}).get("health") == "true",
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
    _give_to_postgres(site_dir)
    purelib = sysconfig_paths()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(site_dir),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(purelib),
    }
    _spawn(layout, name, _as_postgres([python, "-m", "patroni", str(config)]), env)


def sysconfig_paths() -> list[str]:
    """Our site-packages (Patroni and psycopg), for an interpreter outside the virtualenv."""
    import sysconfig

    return list(dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]))


def _start_haproxy(layout: Layout) -> None:
    if running_pid(layout, "haproxy"):
        return
    config = layout.root / "haproxy.cfg"
    config.write_text(haproxy_config(layout))
    binary = _binary("haproxy", "haproxy")
    checked = subprocess.run(
        [binary, "-c", "-q", "-f", str(config)], capture_output=True, text=True, check=False
    )
    if checked.returncode != 0:
        msg = f"haproxy rejects {config}: {checked.stderr.strip() or checked.stdout.strip()}"
        raise ClusterError(msg)
    _spawn(layout, "haproxy", [binary, "-db", "-f", str(config)], dict(os.environ))


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
    _spawn(layout, name, [*cmd, "--workers", str(workers)], env)


# --- status -------------------------------------------------------------------------------


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


def _members(layout: Layout) -> list[Member]:
    for site in layout.sites:
        status, body = _http_json(f"{layout.rest_url(site)}/cluster")
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
    etcd = _http_json(f"http://{layout.host}:{layout.etcd_port}/health")[1]
    return ClusterStatus(
        members=_members(layout),
        etcd_healthy=isinstance(etcd, dict) and etcd.get("health") == "true",
        proxy_primary=_proxy_primary(layout),
        api_health={
            site.name: _http_json(f"{layout.api_url(site)}/healthz", 5)[0]
            for site in layout.sites
        },
    )


def wait_healthy(layout: Layout, timeout_s: float = 120) -> ClusterStatus:
    """Block until a leader runs with a streaming synchronous standby behind the proxy."""
    last = ClusterStatus()

    def check() -> bool:
        nonlocal last
        last = read_status(layout)
        return last.healthy()

    _wait("a leader with a synchronous standby", check, timeout_s, None)
    return last


# --- the database -------------------------------------------------------------------------


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
            from scenarios.demo_city.loader import load_demo_city

            counts = load_demo_city(session=session, city=build_demo_city())
    finally:
        engine.dispose()
    return counts


# --- up and down --------------------------------------------------------------------------


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
    python = _python_for_postgres()
    with console.status("Starting etcd"):
        _start_etcd(layout)
    first, *others = layout.sites
    with console.status(f"Starting PostgreSQL under Patroni on {first.name}"):
        _start_patroni(layout, first, keys, python)
        _wait(
            "a Patroni leader",
            lambda: any(m.role == "leader" and m.state == "running" for m in _members(layout)),
            120,
            log_file(layout, f"patroni-{first.name}"),
        )
    with console.status("Starting the standby sites and the proxy"):
        for site in others:
            _start_patroni(layout, site, keys, python)
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
            _wait(
                f"the API of {site.name}",
                lambda site=site: _http_json(f"{layout.api_url(site)}/healthz", 5)[0] == 200,
                90,
                log_file(layout, f"api-{site.name}"),
            )
    return layout


def _stop_node(layout: Layout, site: Site) -> None:
    _stop(layout, f"patroni-{site.name}", timeout_s=60)
    # A Patroni that had to be killed leaves its PostgreSQL running: stop it (fast shutdown).
    pid = layout.postmaster_pid(site)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        _wait(f"PostgreSQL of {site.name} to stop", lambda: not _alive(pid), 60, None)


def cluster_down(layout: Layout) -> list[str]:
    """Stop everything: APIs, proxy, standbys before the leader (no needless failover), etcd."""
    stopped = [name for site in layout.sites if _stop(layout, name := f"api-{site.name}")]
    if _stop(layout, "haproxy"):
        stopped.append("haproxy")
    leader = next((m.site for m in _members(layout) if m.role == "leader"), None)
    for site in sorted(layout.sites, key=lambda s: s.name == leader):
        had = running_pid(layout, f"patroni-{site.name}") is not None
        _stop_node(layout, site)
        if had:
            stopped.append(f"patroni-{site.name}")
    if _stop(layout, "etcd"):
        stopped.append("etcd")
    return stopped


# --- commands -----------------------------------------------------------------------------


def _root(directory: Path | None) -> Path:
    return (directory or Settings().var_dir / "cluster").resolve()


def _print_status(layout: Layout, status: ClusterStatus) -> None:
    nodes = Table("site", "role", "state", "timeline", "lag", "PostgreSQL", "Patroni")
    for member in status.members:
        site = layout.site(member.site)
        lag = "-" if member.lag_bytes is None else f"{member.lag_bytes / 1024:.0f} kB"
        nodes.add_row(
            member.site,
            member.role,
            member.state,
            str(member.timeline or "-"),
            lag,
            f"{layout.host}:{site.pg_port}",
            layout.rest_url(site),
        )
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
        int, typer.Option(help="First of the ports used (base to base+32).", min=1024, max=65000)
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
