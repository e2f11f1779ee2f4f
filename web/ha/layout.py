"""Where a local two-site installation listens and lives, its passwords, and its rendered
configuration (the templates in ``deploy/`` serve production as well)."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from string import Template
from urllib.parse import quote

from geo.exceptions import ClusterError
from geo.settings import REPO_ROOT
from web.ha.processes import alive
from web.settings import Settings

DEPLOY_DIR = REPO_ROOT / "deploy"
SITES = ("site-a", "site-b")
SCOPE = "stormdesk"
SUPERUSER = "stormdesk"
DB_NAME = "stormdesk"
DEFAULT_BASE_PORT = 7400
# Ports as offsets from the base port: shared parts first, then 10 per site.
_ETCD, _ETCD_PEER, _PRIMARY, _REPLICA, _STATS = 0, 1, 2, 3, 4
_PG, _REST, _API = 10, 11, 12


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
        return pid if alive(pid) else None


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
        made = cls(
            superuser_password=secrets.token_urlsafe(24),
            replication_password=secrets.token_urlsafe(24),
            rewind_password=secrets.token_urlsafe(24),
            jwt_secret=secrets.token_urlsafe(48),
        )
        root.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(asdict(made)))
        return made


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
