"""``stormdesk roster plan`` as a supervisor runs it: a plan stored and summed up from three
weeks of calls; a bad date, a Wednesday, an unknown region are a message and exit code 2."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, pool, text

from tests.web.test_cli import cli_env, run_cli

__all__ = ["cli_env"]

REGION = "CLI-R1"


@pytest.fixture(scope="module")
def with_calls(cli_env: dict[str, str]) -> dict[str, str]:
    """The scratch database migrated, one region, and three weeks of calls up to now: ten
    an hour all day and twenty more an hour from 06:00 to 18:00 UTC, every tenth by the IVR."""
    assert run_cli(cli_env, "db", "migrate").returncode == 0
    engine = create_engine(cli_env["DATABASE_URL"], poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO region (code, name, region_class, geom) VALUES (:code, 'CLI', "
                "'urban', ST_Multi(ST_MakeEnvelope(24.9, 60.1, 25.0, 60.2, 4326)))"
            ),
            {"code": REGION},
        )
        conn.execute(
            text(
                "INSERT INTO call (channel, status, region_id, started_at, answered_at, "
                "queue_wait_s, answered_by, created_by) "
                "SELECT 'phone', 'wrapped', r.id, t, t + interval '10 seconds', 10, "
                "CASE WHEN n % 10 = 0 THEN 'ivr' ELSE 'agent' END, 'test' "
                "FROM region r, (SELECT t, row_number() OVER (ORDER BY t) AS n FROM ("
                "  SELECT generate_series(now() - interval '21 days', now(), "
                "    interval '6 minutes') AS t"
                "  UNION ALL SELECT t FROM generate_series(now() - interval '21 days', now(), "
                "    interval '3 minutes') AS t WHERE extract(hour FROM t) BETWEEN 6 AND 17"
                ") s) c WHERE r.code = :code"
            ),
            {"code": REGION},
        )
    engine.dispose()
    return cli_env


def _next_monday() -> dt.date:
    today = dt.date.today()
    return today + dt.timedelta(days=7 - today.weekday())


def test_plan_refuses_bad_weeks_and_regions(with_calls: dict[str, str]) -> None:
    bad = run_cli(with_calls, "roster", "plan", "--week", "2026-13-01")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    wednesday = _next_monday() + dt.timedelta(days=2)
    off_day = run_cli(with_calls, "roster", "plan", "--week", wednesday.isoformat())
    assert off_day.returncode == 2 and "Monday" in off_day.stderr
    assert _next_monday().isoformat() in off_day.stderr.replace("\n", "")
    moon = run_cli(
        with_calls, "roster", "plan", "--week", _next_monday().isoformat(), "--region", "MOON"
    )
    assert moon.returncode == 2 and "unknown region" in moon.stderr and REGION in moon.stderr
    assert "Traceback" not in bad.stderr + off_day.stderr + moon.stderr


def test_plan_stores_the_week_and_prints_its_figures(with_calls: dict[str, str]) -> None:
    week = _next_monday()
    done = run_cli(
        with_calls,
        "roster",
        "plan",
        "--week",
        week.isoformat(),
        # A deterministic work limit: the same plan however busy the machine is.
        "--time-limit",
        "60",
        "--work-limit",
        "0.5",
        "--replications",
        "3",
    )
    assert done.returncode == 0, done.stderr
    engine = create_engine(with_calls["DATABASE_URL"], poolclass=pool.NullPool)
    with engine.connect() as conn:
        plan = (
            conn.execute(
                text(
                    "SELECT p.*, r.code FROM roster_plan p JOIN region r ON r.id = p.region_id "
                    "ORDER BY p.id DESC LIMIT 1"
                )
            )
            .mappings()
            .one()
        )
    engine.dispose()
    assert plan["code"] == REGION and plan["week_start"] == week
    assert plan["created_by"] == "cli" and plan["replications"] == 3
    assert plan["roster_method"] in ("service", "usual")
    assert len(plan["calls_forecast"]) == len(plan["rostered_agents"]) == 336
    # The forecast sees the daytime peak: 30 calls an hour (15 a half hour) against 10.
    day_slot, night_slot = 48 * 2 + 24, 48 * 2 + 4  # Wednesday 12:00 and 02:00 local
    assert plan["calls_forecast"][day_slot] > 2 * plan["calls_forecast"][night_slot]
    assert plan["ivr_share"] == pytest.approx(0.1, abs=0.01)
    assert plan["rostered_agents"][day_slot] >= 1
    assert sum(plan["required_agents_no_ivr"]) >= sum(plan["required_agents"])
    assert plan["service_level_low"] <= plan["service_level"] <= plan["service_level_high"]
    # The summary is the stored plan's.
    out = " ".join(done.stdout.split())
    assert REGION in out and plan["roster_method"] in out
    assert f"{plan['agent_hours']:,.1f}" in out
    assert f"{plan['service_level']:.1%}" in out and f"{plan['abandon_rate']:.1%}" in out
