"""The report computations on hand-made records: call figures, the 95598 clocks met,
indicators against targets, periods, and the exports read back."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from hotline.stats.calls import call_figures, calls_by_hour
from hotline.stats.daily import Frames, build_report, contacts_by_hour, order_clocks, orders_by
from hotline.stats.export import to_csv, to_xlsx
from hotline.stats.indicators import indicator_table
from hotline.stats.period import InvalidPeriod, Period

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _calls() -> pd.DataFrame:
    # 5 offered: 3 answered (waits 10, 20, 45 s), 1 abandoned after 60 s, 1 still ringing.
    return pd.DataFrame(
        {
            "region": ["A", "A", "A", "B", "B"],
            "channel": ["phone"] * 5,
            "started_at": pd.to_datetime(
                [
                    "2026-03-02 08:05",
                    "2026-03-02 08:30",
                    "2026-03-02 09:10",
                    "2026-03-02 09:15",
                    "2026-03-02 23:59",
                ],
                utc=True,
            ),
            "answered": [True, True, True, False, False],
            "abandoned": [False, False, False, True, False],
            "wait_s": [10.0, 20.0, 45.0, 60.0, float("nan")],
        }
    )


def test_call_figures_by_hand() -> None:
    figures = call_figures(_calls())
    assert figures == {
        "calls_offered": 5,
        "answer_rate": 0.6,
        "service_level": 0.4,  # 10 s and 20 s are within 20 s; 45 s is not
        "average_wait_s": 25.0,  # answered calls only: (10 + 20 + 45) / 3
        "abandon_rate": 0.2,
    }
    empty = call_figures(_calls().iloc[0:0])
    assert empty["calls_offered"] == 0 and empty["answer_rate"] is None


def test_calls_and_contacts_by_local_hour() -> None:
    hours = calls_by_hour(_calls(), "Asia/Shanghai")
    assert len(hours) == 24 and hours["calls_offered"].sum() == 5
    assert hours.loc[16, "calls_offered"] == 2  # 08:05 and 08:30 UTC are 16:xx in Shanghai
    assert hours.loc[7, "calls_offered"] == 1  # 23:59 UTC is 07:59 the next morning
    reports = pd.DataFrame({"received_at": pd.to_datetime(["2026-03-02 22:30"], utc=True)})
    assert contacts_by_hour(reports, "Europe/Helsinki").loc[0, "contacts"] == 1


def _orders() -> pd.DataFrame:
    t = lambda h, m=0: dt.datetime(2026, 3, 2, h, m, tzinfo=UTC)  # noqa: E731
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "region": ["A", "A", "B", "B"],
            "feeder": ["F1", "F1", "F2", "F3"],
            "cause": ["tree", "tree", "equipment", "tree"],
            "first_report_at": [t(8)] * 4,
            "onsite_due_at": [t(8, 45)] * 4,
            "restore_due_at": [t(11)] * 4,
            # on time, late, not yet there (past due), not yet there (due later)
            "on_site_at": [t(8, 30), t(9), None, None],
            "restored_at": [t(10), None, None, None],
        }
    )


def test_order_clocks_met_missed_and_undecided() -> None:
    orders = _orders()
    orders.loc[3, "onsite_due_at"] = dt.datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    orders.loc[3, "restore_due_at"] = dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    flagged = order_clocks(orders, NOW)
    assert flagged["onsite_met"].tolist() == [True, False, False, False]
    assert flagged["onsite_missed"].tolist() == [False, True, True, False]
    assert flagged["restore_met"].tolist() == [True, False, False, False]
    assert flagged["restore_missed"].tolist() == [False, True, True, False]
    by_region = orders_by(flagged, "region").set_index("region")
    assert by_region.loc["A", "orders"] == 2 and by_region.loc["A", "onsite_rate"] == 0.5
    assert by_region.loc["B", "onsite_rate"] == 0.0  # one missed, one not decided yet


def test_indicators_against_targets_with_the_trend() -> None:
    table = indicator_table(
        [
            ("2026-01", {"answer_rate": 0.95, "abandon_rate": 0.08}),
            ("2026-02", {"answer_rate": 0.85, "abandon_rate": 0.03}),
            ("2026-03", {"answer_rate": None, "abandon_rate": 0.04}),
        ]
    ).set_index(["indicator", "month"])
    assert table.loc[("answer_rate", "2026-01"), "met"]
    assert not table.loc[("answer_rate", "2026-02"), "met"]
    assert table.loc[("answer_rate", "2026-02"), "change"] == pytest.approx(-0.10)
    assert table.loc[("answer_rate", "2026-03"), "met"] is None
    # Lower is better for abandonment.
    assert not table.loc[("abandon_rate", "2026-01"), "met"]
    assert table.loc[("abandon_rate", "2026-02"), "met"]


def test_periods_are_local_days_and_bad_ones_are_refused() -> None:
    day = Period.day(dt.date(2026, 3, 2), "Asia/Shanghai")
    assert day.start.astimezone(UTC) == dt.datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert (day.end - day.start) == dt.timedelta(days=1)
    assert Period.month(2026, 12, "UTC").last == dt.date(2026, 12, 31)
    with pytest.raises(InvalidPeriod, match="before it starts"):
        Period(dt.date(2026, 3, 2), dt.date(2026, 3, 1), "UTC")
    with pytest.raises(InvalidPeriod, match="between"):
        Period.day(dt.date(9999, 12, 31), "UTC")


def test_exports_read_back_equal_the_computed_tables() -> None:
    frames = Frames(
        reports=pd.DataFrame(
            {
                "received_at": pd.to_datetime(["2026-03-02 08:00", "2026-03-02 09:00"], utc=True),
                "channel": ["phone", "web"],
                "category": ["no_power", "no_power"],
                "region": ["A", "B"],
            }
        ),
        orders=_orders(),
        tickets=pd.DataFrame(
            columns=[
                "id",
                "ticket_type",
                "ticket_class",
                "answered",
                "answered_on_time",
                "contacted_on_time",
                "overdue",
            ]
        ),
        return_calls=pd.DataFrame(
            {"customer_reached": [True, True, False], "satisfied": [True, False, None]}
        ),
        ticket_satisfaction=pd.DataFrame({"satisfaction": ["satisfied", "unreachable"]}),
        calls=_calls(),
    )
    report = build_report("daily", Period.day(dt.date(2026, 3, 2), "UTC"), frames, NOW)
    # Repairs: 2 reached, 1 satisfied; tickets: 1 reached (not "unreachable"), satisfied.
    assert report.headline["satisfaction_rate"] == round(2 / 3, 4)
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(report)), read_only=True)
    for name, table in report.sections.items():
        rows = list(book[name[:31]].iter_rows(values_only=True))
        assert list(rows[0]) == list(table.columns)
        assert len(rows) - 1 == len(table)
    sheet = {r[0]: r[1] for r in book["headline"].iter_rows(min_row=2, values_only=True)}
    assert sheet["calls_offered"] == 5 and sheet["answer_rate"] == 0.6
    text = to_csv(report).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    start = lines.index(["[orders_by_region]"])
    assert lines[start + 1][:2] == ["region", "orders"]
    assert lines[start + 2][:2] == ["A", "2"]
