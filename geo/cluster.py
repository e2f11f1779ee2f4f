"""The embedded PostgreSQL cluster: initdb + pg_ctl on a private unix socket.

Used when ``DATABASE_URL`` is unset (the demo) and by the test suite, so both run on the same
code path against a real PostGIS. PostgreSQL refuses to run as root; when we are root the
server runs as the ``postgres`` system user on directories it owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from geo.exceptions import ClusterError
from geo.settings import GeoSettings

SUPERUSER = "stormdesk"
EXTENSIONS = ("postgis", "pg_trgm")
# Durability is traded for speed only where losing the cluster costs nothing (tests, benches).
FAST_UNSAFE_OPTIONS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
# Every cluster: autovacuum looks every 10 s, not every minute, so the tables a storm grows
# are analyzed while it grows them (migration 0020 explains; docs/deploy.md for production).
ALWAYS_OPTIONS = ("autovacuum_naptime=10s",)


@dataclass(frozen=True)
class Cluster:
    """A private PostgreSQL cluster with its data directory and socket directory."""

    data_dir: Path
    socket_dir: Path
    bin_dir: Path = Path("/usr/lib/postgresql/15/bin")
    server_options: tuple[str, ...] = field(default_factory=tuple)

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def _run(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a server binary, as ``postgres`` when we are root (initdb refuses root)."""
        binary = self.bin_dir / args[0]
        if not binary.exists():
            msg = (
                f"PostgreSQL binary {binary} not found: install postgresql-15 and "
                "postgresql-15-postgis-3, or set STORMDESK_PG_BIN_DIR"
            )
            raise ClusterError(msg)
        cmd = [str(binary), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            msg = (
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout}"
            )
            raise ClusterError(msg)
        return result

    def _prepare_dirs(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            for path in (self.data_dir.parent, self.socket_dir):
                os.chown(path, pg.pw_uid, pg.pw_gid)
            # The server user must be able to reach its directories through our parents.
            for parent in self.data_dir.parent.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o011)

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster (trust auth on the private socket only)."""
        self._prepare_dirs()
        if self.initialized():
            return
        self._run(
            [
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )

    def running(self) -> bool:
        if not self.initialized():
            return False
        return (
            self._run(["pg_ctl", "status", "-D", str(self.data_dir)], check=False).returncode == 0
        )

    def start(self) -> None:
        """Start the server if it is not running; TCP is off, only the unix socket listens."""
        self.init()
        if self.running():
            return
        options = [f"-k {self.socket_dir}", "-c listen_addresses=''"]
        options += [f"-c {opt}" for opt in (*ALWAYS_OPTIONS, *self.server_options)]
        self._run(
            [
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                " ".join(options),
            ]
        )

    def stop(self) -> None:
        if self.running():
            self._run(["pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])

    def destroy(self) -> None:
        """Stop the server and delete its files."""
        self.stop()
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={self.socket_dir}"

    def _connect(self, dbname: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            dbname=dbname, user=SUPERUSER, host=str(self.socket_dir), autocommit=True
        )

    def create_database(self, dbname: str, *, template: str | None = None) -> bool:
        """Create ``dbname`` with PostGIS and pg_trgm; return False if it already existed."""
        with self._connect("postgres") as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
            ).fetchone()
            if exists:
                return False
            stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname))
            if template:
                stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(dbname), sql.Identifier(template)
                )
            conn.execute(stmt)
        with self._connect(dbname) as conn:
            for ext in EXTENSIONS:
                conn.execute(
                    sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext))
                )
        return True

    def drop_database(self, dbname: str) -> None:
        with self._connect("postgres") as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
            )


def local_cluster(var_dir: Path, bin_dir: Path) -> Cluster:
    """The cluster of an installation whose state lives in ``var_dir``."""
    return Cluster(
        data_dir=var_dir / "pg" / "data", socket_dir=var_dir / "pg" / "run", bin_dir=bin_dir
    )


def ensure_database(settings: GeoSettings) -> str:
    """The database URL to use, starting the embedded cluster first when none is configured."""
    if settings.database_url:
        return settings.resolved_database_url()
    cluster = local_cluster(settings.var_dir, settings.pg_bin_dir)
    cluster.start()
    cluster.create_database(settings.db_name)
    return settings.resolved_database_url()
