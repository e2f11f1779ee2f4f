"""The stormdesk CLI as a user runs it: a real process against a scratch database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool, text

from geo import migrate
from geo.cluster import Cluster

SCRATCH_DB = "cli_test"


@pytest.fixture(scope="module")
def cli_env(
    pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    pg_cluster.create_database(SCRATCH_DB)
    env = {
        **os.environ,
        "DATABASE_URL": pg_cluster.url(SCRATCH_DB),
        "STORMDESK_VAR_DIR": str(tmp_path_factory.mktemp("cli-var")),
    }
    yield env
    pg_cluster.drop_database(SCRATCH_DB)


def run_cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from web.cli import main; main()", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parent,
        timeout=120,
        check=False,
    )


def test_migrate_then_status(cli_env: dict[str, str]) -> None:
    migrated = run_cli(cli_env, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr
    status = run_cli(cli_env, "db", "status")
    assert status.returncode == 0
    head = ScriptDirectory.from_config(migrate.alembic_config("postgresql://")).get_current_head()
    assert f"revision {head}" in status.stdout


def test_user_add_reads_password_from_stdin(cli_env: dict[str, str]) -> None:
    assert run_cli(cli_env, "db", "migrate").returncode == 0
    added = run_cli(
        cli_env,
        "user",
        "add",
        "night-dispatcher",
        "--role",
        "dispatcher",
        stdin="lantern-quartz-41\n",
    )
    assert added.returncode == 0, added.stderr
    assert "night-dispatcher" in added.stdout
    again = run_cli(
        cli_env,
        "user",
        "add",
        "night-dispatcher",
        "--role",
        "dispatcher",
        stdin="lantern-quartz-41\n",
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["user", "add", "x1", "--role", "pilot"], "lantern-quartz-41\n", "unknown role"),
        (["user", "add", "x2", "--role", "agent"], "short\n", "at least 12 characters"),
    ],
)
def test_user_add_refuses_bad_input(
    cli_env: dict[str, str], args: list[str], stdin: str, message: str
) -> None:
    assert run_cli(cli_env, "db", "migrate").returncode == 0
    result = run_cli(cli_env, *args, stdin=stdin)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cycle_sends_queued_messages(cli_env: dict[str, str]) -> None:
    assert run_cli(cli_env, "db", "migrate").returncode == 0
    engine = create_engine(cli_env["DATABASE_URL"], poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO notification (event_key, kind, recipient, priority, message) "
                "VALUES ('test:1', 'test', '+358 40 000 0001', 1, 'power is back')"
            )
        )
    result = run_cli(cli_env, "cycle")
    assert result.returncode == 0, result.stderr
    assert "notifications sent 1" in result.stdout
    with engine.begin() as conn:
        assert conn.execute(text("SELECT status FROM notification")).scalar_one() == "sent"
    engine.dispose()


def test_ring_needs_an_outage_or_a_number(cli_env: dict[str, str]) -> None:
    assert run_cli(cli_env, "db", "migrate").returncode == 0
    refused = run_cli(cli_env, "ring")
    assert refused.returncode == 2
    assert "run `stormdesk storm` first" in refused.stdout
    rung = run_cli(cli_env, "ring", "--phone", "+358 40 123 4567")
    assert rung.returncode == 0, rung.stderr
    assert "358401234567 is ringing" in rung.stdout and "/desk" in rung.stdout
