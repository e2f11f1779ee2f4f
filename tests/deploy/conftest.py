"""The production edge started for real: `stormdesk serve --workers 2` on the test database,
and nginx (the Debian binary) in a temporary directory on free ports, with the repository's
deploy/nginx configuration rendered as production renders it (envsubst of three variables)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.deploy.edge import Edge, render_nginx_site


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_http(url: str, log: Path, timeout_s: float = 240) -> None:
    """Waits long: two workers importing the geo stack on a loaded 2-core machine take minutes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    text = log.read_text()[-3000:] if log.exists() else "(no log)"
    raise AssertionError(f"{url} did not answer; log:\n{text}")


@contextmanager
def serving(
    db_url: str, prefix: str, *, env: dict[str, str], args: list[str]
) -> Iterator[tuple[str, Path]]:
    """`stormdesk serve` with ``args`` on a free port, in a temporary directory of its own
    (its output in ``serve.log`` there), once /healthz answers: its base URL and its log.
    Stopped with SIGTERM, as a service manager stops it, and the directory removed."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    port = free_port()
    log = work / "serve.log"
    environment = {
        **os.environ,
        "DATABASE_URL": db_url,
        "STORMDESK_VAR_DIR": str(work),
        "STORMDESK_SECRET_KEY": "serve-test-secret-key-long-enough-for-hs256",
        **env,
    }
    cmd = [sys.executable, "-c", "from web.cli import main; main()"]
    cmd += ["serve", "--port", str(port), *args]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=environment, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/healthz", log)
        yield base, log
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def app_server(db_url: str) -> Iterator[tuple[str, Path]]:
    """The real app in two uvicorn workers, as `stormdesk serve --workers 2` runs it."""
    with serving(
        db_url,
        "stormdesk-edge-app-",
        env={"STORMDESK_CYCLE_INTERVAL_S": "0"},
        args=["--workers", "2"],
    ) as served:
        yield served


@pytest.fixture(scope="module")
def edge(app_server: tuple[str, Path]) -> Iterator[Edge]:
    app_url, app_log = app_server
    work = Path(tempfile.mkdtemp(prefix="stormdesk-edge-nginx-"))
    # nginx's workers run as www-data when we are root; they must reach their temp files.
    work.chmod(0o755)
    port = free_port()
    site = render_nginx_site(
        {
            "STORMDESK_LISTEN": f"127.0.0.1:{port}",
            "STORMDESK_UPSTREAM": app_url.removeprefix("http://"),
            "STORMDESK_CACHE_DIR": str(work / "cache"),
        }
    )
    (work / "stormdesk.conf").write_text(site)
    user = "user www-data;" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {work / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (work / "nginx.conf").write_text(
        f"""{user}
daemon off;
worker_processes 2;
pid {work / "nginx.pid"};
error_log {work / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log {work / "access.log"};
{temp_paths}
    include {work / "stormdesk.conf"};
}}
"""
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    test = subprocess.run(
        [nginx, "-t", "-p", str(work), "-c", str(work / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert test.returncode == 0, test.stderr
    proc = subprocess.Popen(
        [nginx, "-p", str(work), "-c", str(work / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz", work / "error.log")
        yield Edge(url=f"http://127.0.0.1:{port}", app_url=app_url, app_log=app_log, nginx_dir=work)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
