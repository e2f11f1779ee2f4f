"""Ticket clocks, recomputed from the ticket's audit trail each time they are read.

Nothing about a clock is stored: no counter of used time, no deadline column. The events of
the ticket (filed, contacted, paused, resumed, answered, reopened ...) are replayed against the
working calendar, so a fixed holiday table, a corrected site calendar or a late-written event
changes every answer consistently, and two readers can never see drifting counters.

Two clocks run per round (a reopen starts a new round):

- **contact**: natural time, ``contact_h`` hours from filing (or reopening) to the first
  contact with the customer; an answer counts as contact. Pauses do not stop it.
- **answer**: working time, ``answer_working_days`` from filing to the answer to the customer;
  it stops while the ticket waits for the customer (paused) and ends with the answer. A
  reopened ticket gets a fresh allowance from the reopening.

Urge levels of the answer clock: 1 when ``warn_fraction`` of the allowance is left or less,
2 when the allowance is spent; the contact clock has one level, 1 when its deadline passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.workdays import DAY_S, WorkCalendar

CLOCK_ACTIONS = ("filed", "contacted", "paused", "resumed", "answered", "closed", "reopened")
LEVEL_DUE_SOON = 1
LEVEL_OVERDUE = 2
LEVEL_CONTACT_OVERDUE = 1


@dataclass(frozen=True)
class ClockEvent:
    """One step of the audit trail, as far as clocks care: when and what."""

    at: dt.datetime
    action: str


@dataclass(frozen=True)
class ClockRules:
    """The commitments of one ticket type."""

    contact_h: float
    answer_working_days: float
    warn_fraction: float

    def __post_init__(self) -> None:
        if self.contact_h <= 0 or self.answer_working_days <= 0:
            msg = (
                f"clock allowances must be positive, got contact_h={self.contact_h} and "
                f"answer_working_days={self.answer_working_days}"
            )
            raise ValueError(msg)


@dataclass(frozen=True)
class TicketClock:
    """The state of both clocks at ``now`` (seconds of the answer clock are working time)."""

    now: dt.datetime
    round: int
    round_started_at: dt.datetime | None
    contact_due_at: dt.datetime | None
    contacted_at: dt.datetime | None
    contact_overdue: bool
    answer_allowance_s: float
    answer_used_s: float
    answer_remaining_s: float
    running: bool
    paused_since: dt.datetime | None
    answer_due_at: dt.datetime | None
    answered_at: dt.datetime | None
    answered_late: bool
    overdue: bool
    answer_level: int
    contact_level: int
    uncovered_years: tuple[int, ...]

    @property
    def answer_remaining_working_days(self) -> float:
        return self.answer_remaining_s / DAY_S


@dataclass
class _Replay:
    """Mutable state while the events are replayed."""

    round: int = 0
    started_at: dt.datetime | None = None
    run_since: dt.datetime | None = None
    used_s: float = 0.0
    paused_since: dt.datetime | None = None
    contacted_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    closed: bool = False

    def stop(self, at: dt.datetime, calendar: WorkCalendar) -> None:
        if self.run_since is not None:
            self.used_s += calendar.working_seconds(self.run_since, at)
            self.run_since = None

    def apply(self, event: ClockEvent, calendar: WorkCalendar) -> None:
        action, at = event.action, event.at
        if action in ("filed", "reopened"):
            if action == "filed" and self.round:
                return  # a second "filed" is a data error; the first one counts
            self.round += 1
            self.started_at = at
            self.run_since = at
            self.used_s = 0.0
            self.paused_since = self.contacted_at = self.answered_at = None
            self.closed = False
        elif not self.round:
            return  # steps before filing cannot run a clock
        elif action == "contacted":
            self.contacted_at = self.contacted_at or at
        elif action == "paused" and self.run_since is not None:
            self.stop(at, calendar)
            self.paused_since = at
        elif action == "resumed" and self.paused_since is not None:
            self.paused_since = None
            self.run_since = at
        elif action == "answered" and self.answered_at is None:
            self.stop(at, calendar)
            self.paused_since = None
            self.answered_at = at
            self.contacted_at = self.contacted_at or at
        elif action == "closed":
            self.stop(at, calendar)
            self.paused_since = None
            self.closed = True


def _answer_level(remaining_s: float, allowance_s: float, warn_fraction: float) -> int:
    if remaining_s < 0:
        return LEVEL_OVERDUE
    if remaining_s <= warn_fraction * allowance_s:
        return LEVEL_DUE_SOON
    return 0


def ticket_clock(
    events: Iterable[ClockEvent], *, now: dt.datetime, rules: ClockRules, calendar: WorkCalendar
) -> TicketClock:
    """Replay ``events`` (any order; sorted by time, ties kept in the given order) to ``now``.

    Events after ``now`` are ignored, so the clock of any past moment can be asked for.
    """
    state = _Replay()
    for event in sorted((e for e in events if e.at <= now), key=lambda e: e.at):
        if event.action in CLOCK_ACTIONS:
            state.apply(event, calendar)
    allowance = rules.answer_working_days * DAY_S
    used = state.used_s
    if state.run_since is not None:
        used += calendar.working_seconds(state.run_since, now)
    remaining = allowance - used
    due_at = None
    if state.run_since is not None:
        # From the start of the current run: the same instant whatever ``now`` is.
        due_at = calendar.add_working_seconds(state.run_since, allowance - state.used_s)
    contact_due = (
        state.started_at + dt.timedelta(hours=rules.contact_h) if state.started_at else None
    )
    open_ = state.round > 0 and state.answered_at is None and not state.closed
    contact_overdue = bool(
        open_ and state.contacted_at is None and contact_due is not None and now > contact_due
    )
    # The deadline's year counts too: a due date in an uncovered year is a guess.
    end = max(t for t in (state.answered_at or now, due_at) if t is not None)
    return TicketClock(
        now=now,
        round=state.round,
        round_started_at=state.started_at,
        contact_due_at=contact_due,
        contacted_at=state.contacted_at,
        contact_overdue=contact_overdue,
        answer_allowance_s=allowance,
        answer_used_s=used,
        answer_remaining_s=remaining,
        running=state.run_since is not None,
        paused_since=state.paused_since,
        answer_due_at=due_at,
        answered_at=state.answered_at,
        answered_late=state.answered_at is not None and used > allowance,
        overdue=open_ and remaining < 0,
        answer_level=_answer_level(remaining, allowance, rules.warn_fraction) if open_ else 0,
        contact_level=LEVEL_CONTACT_OVERDUE if contact_overdue else 0,
        uncovered_years=(
            calendar.uncovered_years(state.started_at, end) if state.started_at else ()
        ),
    )
