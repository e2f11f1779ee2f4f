"""Ticket clocks replayed from audit trails on a frozen clock: 95598 working-day rules.

Expected deadlines are worked out by hand from the 2026 calendar (State Council notice):
New Year 1-3 Jan (Sunday 4 Jan working), Spring Festival 15-23 Feb (Saturdays 14 and 28 Feb
working), Mid-autumn 25-27 Sep (Sunday 20 Sep working), National Day 1-7 Oct (Saturday
10 Oct working).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.clocks import ClockEvent, ClockRules, TicketClock, ticket_clock
from hotline.workdays import DAY_S, WorkCalendar, build_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
HELSINKI = ZoneInfo("Europe/Helsinki")
COMPLAINT = ClockRules(contact_h=24, answer_working_days=4, warn_fraction=0.25)
REPORT = ClockRules(contact_h=24, answer_working_days=9, warn_fraction=0.25)
CONSULTATION = ClockRules(contact_h=24, answer_working_days=1, warn_fraction=0.25)


def at(text: str, tz: ZoneInfo = SHANGHAI) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz)


def clock(
    steps: list[tuple[str, str]],
    now: str,
    rules: ClockRules = COMPLAINT,
    calendar: WorkCalendar | None = None,
) -> TicketClock:
    cal = calendar or WorkCalendar(tz=SHANGHAI)
    tz = cal.tz
    events = [ClockEvent(at=at(when, tz), action=action) for action, when in steps]
    return ticket_clock(events, now=at(now, tz), rules=rules, calendar=cal)


@pytest.mark.parametrize(
    ("filed", "due", "why"),
    [
        ("2026-03-02 10:00", "2026-03-06 10:00", "Monday: four weekdays later"),
        ("2026-03-06 15:00", "2026-03-12 15:00", "Friday: the weekend does not count"),
        ("2026-03-07 10:00", "2026-03-13 00:00", "Saturday: starts Monday, ends Thursday night"),
        ("2026-03-08 23:59", "2026-03-13 00:00", "late Sunday: same as Saturday"),
        ("2026-09-30 10:00", "2026-10-12 10:00", "before National Day: Golden Week skipped"),
        ("2026-10-09 12:00", "2026-10-14 12:00", "adjusted Saturday 10 Oct counts"),
        ("2026-02-14 09:00", "2026-02-27 09:00", "filed on an adjusted Saturday"),
        ("2026-02-18 10:00", "2026-02-28 00:00", "filed inside the Spring Festival"),
        ("2025-12-31 18:00", "2026-01-07 18:00", "New Year, Sunday 4 Jan working"),
        ("2026-04-03 12:00", "2026-04-10 12:00", "Friday before Tomb-sweeping (4-6 Apr)"),
        ("2026-06-18 08:00", "2026-06-25 08:00", "Dragon Boat (19-21 Jun)"),
    ],
)
def test_complaint_answer_deadline(filed: str, due: str, why: str) -> None:
    state = clock([("filed", filed)], now=filed)
    assert state.answer_due_at == at(due), why
    assert state.running and not state.overdue


def test_misconduct_report_has_nine_working_days_across_two_holidays() -> None:
    # Mon 21 Sep 09:00: 15 h that day, then 22-24 Sep, 28-30 Sep, 8-9 Oct (8 days), 9 h on
    # the adjusted Saturday 10 Oct.
    state = clock([("filed", "2026-09-21 09:00")], now="2026-09-21 09:00", rules=REPORT)
    assert state.answer_due_at == at("2026-10-10 09:00")


def test_consultation_over_a_weekend() -> None:
    state = clock([("filed", "2026-03-06 16:00")], now="2026-03-06 16:00", rules=CONSULTATION)
    assert state.answer_due_at == at("2026-03-09 16:00")


def test_weekend_time_is_not_used() -> None:
    state = clock([("filed", "2026-03-06 15:00")], now="2026-03-09 00:00")
    assert state.answer_used_s == 9 * 3600
    assert state.answer_remaining_s == 4 * DAY_S - 9 * 3600


def test_pause_and_resume_across_national_day() -> None:
    steps = [
        ("filed", "2026-09-28 10:00"),
        ("paused", "2026-09-29 10:00"),  # one working day used
        ("resumed", "2026-10-08 10:00"),
    ]
    paused = clock(steps[:2], now="2026-10-05 12:00")
    assert not paused.running and paused.answer_due_at is None
    assert paused.paused_since == at("2026-09-29 10:00")
    assert paused.answer_used_s == DAY_S
    resumed = clock(steps, now="2026-10-08 10:00")
    # 3 days left from Thu 8 Oct 10:00: 8 Oct, 9 Oct, Saturday 10 Oct, Mon 12 Oct 10:00.
    assert resumed.answer_due_at == at("2026-10-12 10:00")
    unpaused = clock(steps[:1], now="2026-09-28 10:00")
    assert unpaused.answer_due_at == at("2026-10-09 10:00")


def test_pause_inside_a_holiday_changes_nothing() -> None:
    steps = [
        ("filed", "2026-09-30 10:00"),
        ("paused", "2026-10-02 09:00"),
        ("resumed", "2026-10-05 17:00"),
    ]
    assert clock(steps, now="2026-10-06 00:00").answer_due_at == at("2026-10-12 10:00")


def test_a_paused_clock_stands_still() -> None:
    steps = [("filed", "2026-03-02 10:00"), ("paused", "2026-03-03 10:00")]
    early = clock(steps, now="2026-03-03 11:00")
    late = clock(steps, now="2026-03-20 11:00")
    assert early.answer_remaining_s == late.answer_remaining_s == 3 * DAY_S
    assert not late.overdue and late.answer_level == 0


def test_pause_on_a_weekend_resumed_on_monday() -> None:
    steps = [
        ("filed", "2026-03-05 12:00"),  # Thursday: 12 h that day, 24 h Friday
        ("paused", "2026-03-07 10:00"),
        ("resumed", "2026-03-09 08:00"),
    ]
    state = clock(steps, now="2026-03-09 08:00")
    assert state.answer_used_s == 36 * 3600  # Saturday and Sunday are days off anyway
    # 60 h left from Mon 08:00: Mon 16 h, Tue 24 h (40), Wed 20 h -> Wed 20:00.
    assert state.answer_due_at == at("2026-03-11 20:00")


def test_second_pause_and_stray_resume_are_ignored() -> None:
    steps = [
        ("filed", "2026-03-02 10:00"),
        ("resumed", "2026-03-02 11:00"),  # not paused: nothing to resume
        ("paused", "2026-03-03 10:00"),
        ("paused", "2026-03-04 10:00"),  # already paused
        ("resumed", "2026-03-05 10:00"),
    ]
    state = clock(steps, now="2026-03-05 10:00")
    assert state.answer_used_s == DAY_S
    assert state.answer_due_at == at("2026-03-10 10:00")


def test_exactly_at_the_deadline_is_not_overdue() -> None:
    state = clock([("filed", "2026-03-02 10:00")], now="2026-03-06 10:00")
    assert state.answer_remaining_s == 0
    assert not state.overdue and state.answer_level == 1


def test_a_minute_past_the_deadline_is_overdue() -> None:
    state = clock([("filed", "2026-03-02 10:00")], now="2026-03-06 10:01")
    assert state.overdue and state.answer_level == 2
    assert state.answer_remaining_s == -60


@pytest.mark.parametrize(("now", "level"), [("2026-03-05 09:59", 0), ("2026-03-05 10:00", 1)])
def test_due_soon_when_a_quarter_is_left(now: str, level: int) -> None:
    assert clock([("filed", "2026-03-02 10:00")], now=now).answer_level == level


def test_answered_in_time_stops_the_clock() -> None:
    steps = [("filed", "2026-03-02 10:00"), ("answered", "2026-03-04 10:00")]
    state = clock(steps, now="2026-03-30 10:00")
    assert state.answered_at == at("2026-03-04 10:00")
    assert state.answer_used_s == 2 * DAY_S
    assert not state.overdue and not state.answered_late and state.answer_level == 0
    assert state.contacted_at == state.answered_at  # an answer is a contact


def test_answered_late_is_marked_late_not_overdue() -> None:
    steps = [("filed", "2026-03-02 10:00"), ("answered", "2026-03-09 10:00")]
    state = clock(steps, now="2026-03-10 10:00")
    assert state.answered_late and not state.overdue and state.answer_level == 0


def test_contact_clock_runs_in_natural_time_over_a_weekend() -> None:
    state = clock([("filed", "2026-03-06 15:00")], now="2026-03-07 15:01")
    assert state.contact_due_at == at("2026-03-07 15:00")
    assert state.contact_overdue and state.contact_level == 1


def test_contact_in_time() -> None:
    steps = [("filed", "2026-03-06 15:00"), ("contacted", "2026-03-07 10:00")]
    state = clock(steps, now="2026-03-08 10:00")
    assert not state.contact_overdue and state.contacted_at == at("2026-03-07 10:00")


def test_pause_does_not_stop_the_contact_clock() -> None:
    steps = [("filed", "2026-03-02 10:00"), ("paused", "2026-03-02 11:00")]
    assert clock(steps, now="2026-03-03 10:01").contact_overdue


def test_later_contacts_keep_the_first() -> None:
    steps = [
        ("filed", "2026-03-02 10:00"),
        ("contacted", "2026-03-02 12:00"),
        ("contacted", "2026-03-03 12:00"),
    ]
    assert clock(steps, now="2026-03-04 00:00").contacted_at == at("2026-03-02 12:00")


def test_reopen_starts_a_fresh_round() -> None:
    steps = [
        ("filed", "2026-03-02 10:00"),
        ("answered", "2026-03-04 10:00"),
        ("closed", "2026-03-05 10:00"),
        ("reopened", "2026-03-16 09:00"),
    ]
    state = clock(steps, now="2026-03-16 09:00")
    assert state.round == 2 and state.running
    assert state.answer_used_s == 0 and state.answered_at is None and state.contacted_at is None
    assert state.answer_due_at == at("2026-03-20 09:00")
    assert state.contact_due_at == at("2026-03-17 09:00")


def test_reopen_inside_national_day_starts_after_it() -> None:
    steps = [
        ("filed", "2026-09-21 10:00"),
        ("answered", "2026-09-23 10:00"),
        ("closed", "2026-09-24 10:00"),
        ("reopened", "2026-10-03 10:00"),
    ]
    # 8, 9, Saturday 10 and Monday 12 Oct: due at the end of the 12th.
    assert clock(steps, now="2026-10-03 10:00").answer_due_at == at("2026-10-13 00:00")


def test_second_reopen_is_round_three() -> None:
    steps = [
        ("filed", "2026-03-02 10:00"),
        ("answered", "2026-03-03 10:00"),
        ("closed", "2026-03-03 11:00"),
        ("reopened", "2026-03-04 10:00"),
        ("answered", "2026-03-05 10:00"),
        ("closed", "2026-03-05 11:00"),
        ("reopened", "2026-03-09 10:00"),
    ]
    state = clock(steps, now="2026-03-09 10:00")
    assert state.round == 3 and state.answer_due_at == at("2026-03-13 10:00")


def test_closed_without_answer_is_not_overdue() -> None:
    steps = [("filed", "2026-03-02 10:00"), ("closed", "2026-03-03 10:00")]
    state = clock(steps, now="2026-03-20 10:00")
    assert not state.overdue and state.answer_level == 0 and not state.contact_overdue


def test_events_after_now_are_ignored() -> None:
    steps = [("filed", "2026-03-02 10:00"), ("answered", "2026-03-04 10:00")]
    state = clock(steps, now="2026-03-03 10:00")
    assert state.answered_at is None and state.answer_used_s == DAY_S


def test_order_of_the_trail_does_not_matter() -> None:
    steps = [
        ("resumed", "2026-03-05 10:00"),
        ("filed", "2026-03-02 10:00"),
        ("paused", "2026-03-03 10:00"),
    ]
    assert clock(steps, now="2026-03-05 10:00").answer_due_at == at("2026-03-10 10:00")


def test_steps_before_filing_and_a_second_filing_are_ignored() -> None:
    steps = [
        ("paused", "2026-03-01 10:00"),
        ("filed", "2026-03-02 10:00"),
        ("filed", "2026-03-03 10:00"),
        ("escalated", "2026-03-03 11:00"),
    ]
    state = clock(steps, now="2026-03-03 12:00")
    assert state.round == 1 and state.answer_due_at == at("2026-03-06 10:00")


def test_no_trail_no_clock() -> None:
    state = clock([], now="2026-03-03 12:00")
    assert state.round == 0 and state.answer_due_at is None and not state.overdue


def test_year_not_covered_is_said_and_weekdays_assumed() -> None:
    state = clock([("filed", "2027-03-01 10:00")], now="2027-03-01 10:00")
    assert state.uncovered_years == (2027,)
    assert state.answer_due_at == at("2027-03-05 10:00")


def test_deadline_in_an_uncovered_year_is_flagged() -> None:
    state = clock([("filed", "2026-12-30 10:00")], now="2026-12-30 10:00")
    assert state.uncovered_years == (2027,)
    covered = clock([("filed", "2026-12-01 10:00")], now="2026-12-01 10:00")
    assert covered.uncovered_years == ()


def _site(tmp_path: Path, **content: object) -> WorkCalendar:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return build_calendar(timezone="Asia/Shanghai", calendar_file=path)


def test_site_calendar_covers_2027(tmp_path: Path) -> None:
    calendar = _site(tmp_path, years=[2027], holidays=["2027-03-03"])
    state = clock([("filed", "2027-03-01 10:00")], now="2027-03-01 10:00", calendar=calendar)
    assert state.uncovered_years == ()
    assert state.answer_due_at == at("2027-03-08 10:00")  # Wednesday off, so next Monday


def test_site_holiday_overrides_the_package(tmp_path: Path) -> None:
    calendar = _site(tmp_path, holidays=["2026-03-04"])
    state = clock([("filed", "2026-03-02 10:00")], now="2026-03-02 10:00", calendar=calendar)
    assert state.answer_due_at == at("2026-03-09 10:00")


def test_site_working_sunday_overrides_the_package(tmp_path: Path) -> None:
    calendar = _site(tmp_path, workdays=["2026-03-08"])
    state = clock([("filed", "2026-03-06 15:00")], now="2026-03-06 15:00", calendar=calendar)
    assert state.answer_due_at == at("2026-03-11 15:00")


def test_daylight_saving_keeps_the_wall_clock_time() -> None:
    # Finland moves to summer time on Sunday 29 March 2026: the deadline stays at 15:00.
    calendar = WorkCalendar(tz=HELSINKI)
    state = clock([("filed", "2026-03-27 15:00")], now="2026-03-27 15:00", calendar=calendar)
    due = state.answer_due_at
    assert due is not None
    assert due.astimezone(HELSINKI).replace(tzinfo=None) == dt.datetime(2026, 4, 2, 15)
    assert due.utcoffset() == dt.timedelta(hours=3)


def test_rules_refuse_empty_allowances() -> None:
    with pytest.raises(ValueError, match="answer_working_days=0"):
        ClockRules(contact_h=24, answer_working_days=0, warn_fraction=0.25)
