"""Processes of the local two-site stack: started in their own session (they outlive the CLI),
tracked by pid files that also hold the kernel's start time (a reused pid is never ours), and
run as the ``postgres`` user where PostgreSQL needs it."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.exceptions import ClusterError

if TYPE_CHECKING:  # layout.py imports this module
    from web.ha.layout import Layout


def alive(pid: int) -> bool:
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


def start_time(pid: int) -> str | None:
    """The kernel's start time of a process, so a pid file never names a reused pid."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def pid_file(layout: Layout, name: str) -> Path:
    return layout.root / "run" / f"{name}.json"


def running_pid(layout: Layout, name: str) -> int | None:
    """The pid of a component we started, if it still runs."""
    path = pid_file(layout, name)
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    pid = int(record["pid"])
    if alive(pid) and start_time(pid) == record["started"]:
        return pid
    return None


def log_file(layout: Layout, name: str) -> Path:
    return layout.root / "logs" / f"{name}.log"


def spawn(layout: Layout, name: str, cmd: list[str], env: dict[str, str]) -> int:
    """Start a component in its own session (it outlives the CLI), logging to logs/NAME.log.

    posix_spawn rather than Popen: no Popen object is left to warn about a child that is meant
    to keep running.
    """
    log = log_file(layout, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    pid_file(layout, name).parent.mkdir(parents=True, exist_ok=True)
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
    pid_file(layout, name).write_text(
        json.dumps({"pid": pid, "started": start_time(pid), "cmd": cmd[:3]})
    )
    return pid


def terminate(pid: int, timeout_s: float) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``timeout_s``."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def stop(layout: Layout, name: str, timeout_s: float = 30.0) -> bool:
    pid = running_pid(layout, name)
    if pid is not None:
        terminate(pid, timeout_s)
    pid_file(layout, name).unlink(missing_ok=True)
    return pid is not None


def wait_for(what: str, check: Callable[[], bool], timeout_s: float, log: Path | None) -> None:
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


def http_json(url: str, timeout_s: float = 2.0) -> tuple[int, Any]:
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
    except (OSError, ValueError, http.client.HTTPException):
        # HTTPException: a server still starting (or a port not yet ours) answering garbage.
        return 0, None


def find_binary(name: str, package: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")
    if not found:
        msg = f"{name} not found: install the Debian package {package} (make sysdeps does)"
        raise ClusterError(msg)
    return found


def as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses root: run its supervisor as ``postgres`` (setpriv execs, no fork, so
    the pid we keep is Patroni's own)."""
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *cmd]


def python_for_postgres() -> str:
    """An interpreter of our Python version the postgres user may execute.

    A virtualenv's interpreter may live in root's home (pyenv), out of the postgres user's
    reach; the system's interpreter of the same version loads the same site-packages.
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, os.path.realpath(sys.executable), f"/usr/bin/python{version}"]
    for candidate in dict.fromkeys(candidates):
        # Through env: setpriv's own exec still runs with root's rights, Patroni's re-exec of
        # sys.executable (multiprocessing spawn) does not.
        probe = as_postgres(["env", candidate, "-c", "import sys"])
        if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
            return candidate
    msg = f"no Python {version} interpreter the postgres user may run (tried {candidates})"
    raise ClusterError(msg)


def site_packages() -> list[str]:
    """Our site-packages (Patroni, psycopg), for an interpreter outside the virtualenv."""
    return list(dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]))


def give_to_postgres(path: Path) -> None:
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
