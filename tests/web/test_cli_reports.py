"""``stormdesk report`` and ``stormdesk history`` as a user runs them: bad input is a message
and exit code 2; a report of an empty database is still a readable file."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from tests.web.test_cli import cli_env, run_cli

__all__ = ["cli_env"]


def test_report_refuses_bad_dates_and_formats(cli_env: dict[str, str]) -> None:
    bad_date = run_cli(cli_env, "report", "daily", "--date", "2026-13-01")
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    bad_format = run_cli(cli_env, "report", "daily", "--format", "pdf")
    assert bad_format.returncode == 2 and "csv, xlsx" in bad_format.stderr
    far = run_cli(cli_env, "report", "daily", "--date", "9999-12-31")
    assert far.returncode == 2 and "between" in far.stderr


def test_history_refuses_bad_input_and_an_empty_territory(cli_env: dict[str, str]) -> None:
    years = run_cli(cli_env, "history", "generate", "--years", "0")
    assert years.returncode == 2 and "--years" in years.stderr
    territory = run_cli(cli_env, "history", "generate", "--territory", "moon")
    assert territory.returncode == 2 and "demo or province" in territory.stderr
    empty = run_cli(cli_env, "history", "generate", "--years", "1")
    assert empty.returncode == 2 and "load a territory" in empty.stderr


def test_report_of_an_empty_day_is_a_readable_workbook(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert run_cli(cli_env, "db", "migrate").returncode == 0
    out = tmp_path / "daily.xlsx"
    done = run_cli(
        cli_env, "report", "daily", "--date", "2026-03-02", "--format", "xlsx", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(out, read_only=True)
    headline = {r[0]: r[1] for r in book["headline"].iter_rows(min_row=2, values_only=True)}
    assert headline["contacts"] == 0 and headline["orders"] == 0
    assert headline["answer_rate"] is None  # no calls offered: missing, not 0%
