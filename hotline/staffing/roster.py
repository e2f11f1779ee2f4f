"""A week's roster with OR-Tools CP-SAT: who works which shift, and when each takes a break.

The labour rules: full-time shifts of 8 hours with a 1-hour break 3 or 4 hours in;
part-time shifts of 4 hours without one; at least 11 hours' rest between shifts; no night
shift (starting 20:00-03:59) followed by a morning one (04:00-09:59); at most 5 working
days and weekly hours within the contract's band (32-40 full time, up to 20 part time);
English-speaking agents on the phones when the English line is open.

The model is tour scheduling, after OR-Tools' ``shift_scheduling_sat.py`` but with counts
instead of one boolean per agent and shift: an agent's week is a *pattern* (a start time
kept all week, and a run of 4 or 5 consecutive working days), so rest (16 hours between
8-hour shifts) and night-to-morning hold by construction, and the model counts agents per
pattern and per day's break choice. Per-agent booleans made the same week a
symmetric puzzle CP-SAT could not close in a minute (1.5x the required agent-hours, no
bound); counts solve it to proven optimality in seconds. The week is cyclic: Sunday night
runs into the Monday of the next, identical week. ``check_roster`` verifies every rule on
the agents' shifts, whatever produced them.

Two ways to say what must be covered sit on the same model: ``Cover`` (at least so many
agents in every half hour: the usual pipeline's minimum-cover roster) and ``Service``
(each day's calls answered within the target and abandoned, summed from Erlang A figures
per half hour and staffing level).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

SLOTS_PER_DAY = 48
DAYS = 7
WEEK_SLOTS = DAYS * SLOTS_PER_DAY
SLOT_H = 0.5


@dataclass(frozen=True)
class ShiftRules:
    """The labour rules, in half-hour slots where not said otherwise."""

    full_time_slots: int = 16
    break_slots: int = 2
    break_offsets: tuple[int, ...] = (6, 8)
    part_time_slots: int = 8
    part_time_first_start: int = 12  # 06:00
    part_time_last_start: int = 40  # 20:00
    start_step: int = 2
    full_time_runs: tuple[int, ...] = (4, 5)
    part_time_runs: tuple[int, ...] = (3, 4, 5)
    min_rest_h: float = 11.0
    max_days: int = 5
    full_time_hours: tuple[float, float] = (32.0, 40.0)
    part_time_hours: tuple[float, float] = (0.0, 20.0)


@dataclass(frozen=True)
class AgentPool:
    """How many agents of each kind may be rostered at most (``None``: as many as needed)."""

    full_time: int | None = None
    part_time: int | None = None
    en_speakers: int | None = None


@dataclass(frozen=True)
class Cover:
    """At least ``agents[t]`` on the phones in slot t, ``en[t]`` of them English-speaking."""

    agents: Sequence[int]
    en: Sequence[int] = ()


@dataclass(frozen=True)
class Service:
    """Each day: answered within target >= ``service_level``, abandoned <= ``max_abandon``.

    ``answered[t][k]`` and ``abandoned[t][k]`` are the calls of slot t answered in time and
    abandoned with ``floor[t] + k`` agents on the phones; more agents than the table's last
    level count as that level.
    """

    calls: Sequence[float]
    answered: Sequence[Sequence[float]]
    abandoned: Sequence[Sequence[float]]
    floor: Sequence[int]
    service_level: float = 0.8
    max_abandon: float = 0.05
    en: Sequence[int] = ()


@dataclass
class Roster:
    """A solved roster: the agents' shifts, agents on the phones per slot, paid hours.

    ``solution`` keeps the model's values (agents per pattern, per break choice) so the
    roster can seed another solve.
    """

    shifts: pd.DataFrame
    on_phone: np.ndarray
    en_on_phone: np.ndarray
    agent_hours: float
    status: str
    wall_s: float
    extra: dict[str, float] = field(default_factory=dict)
    solution: dict[tuple[object, ...], int] = field(default_factory=dict)


@dataclass(frozen=True)
class Pattern:
    """A week: the same start every working day, ``run`` days from ``first_day`` on."""

    part_time: bool
    start: int
    first_day: int
    run: int

    def days(self) -> list[int]:
        return [(self.first_day + i) % DAYS for i in range(self.run)]


def patterns(rules: ShiftRules) -> list[Pattern]:
    """Every week an agent may work under ``rules``."""
    full = [
        Pattern(False, s, f, r)
        for s in range(0, SLOTS_PER_DAY, rules.start_step)
        for f in range(DAYS)
        for r in rules.full_time_runs
    ]
    starts = range(rules.part_time_first_start, rules.part_time_last_start + 1, rules.start_step)
    part = [
        Pattern(True, s, f, r) for s in starts for f in range(DAYS) for r in rules.part_time_runs
    ]
    return full + part


def phone_slots(start: int, length: int, break_at: int | None, rules: ShiftRules) -> list[int]:
    """Slots from the day's midnight (48 and on: the next day) spent on the phones."""
    pause = range(break_at, break_at + rules.break_slots) if break_at is not None else range(0)
    return [s for s in range(start, start + length) if s not in pause]


def solve_roster(
    demand: Cover | Service,
    pool: AgentPool | None = None,
    *,
    rules: ShiftRules | None = None,
    time_limit_s: float = 30.0,
    work_limit: float | None = None,
    workers: int = 2,
    seed: int = 0,
    hint: Roster | None = None,
) -> Roster:
    """The roster with the fewest agent-hours that meets ``demand`` under ``rules``.

    ``hint``: a roster under the same rules to start the search from (the usual roster is
    a good start for the service one: CP-SAT then only has to take agent-hours away).
    ``work_limit``: CP-SAT's deterministic time limit, which unlike ``time_limit_s`` does
    not depend on how busy the machine is (tests use it to get the same roster each run).
    With it, the workers' searches are interleaved: parallel workers racing on the wall
    clock would otherwise still give a busy machine another roster (a test failed so).
    """
    rules, pool = rules or ShiftRules(), pool or AgentPool()
    slots = len(demand.agents) if isinstance(demand, Cover) else len(demand.calls)
    if slots != WEEK_SLOTS:
        msg = f"demand covers {slots} half hours; a week has {WEEK_SLOTS}"
        raise ValueError(msg)
    model = cp_model.CpModel()
    # No pattern needs more agents than the busiest half hour does: a tight domain keeps
    # the first solutions CP-SAT finds sensible.
    if isinstance(demand, Cover):
        peak = max(int(a) for a in demand.agents)
    else:
        peak = max(
            int(f) + len(levels) for f, levels in zip(demand.floor, demand.answered, strict=True)
        )
    built = _Model(model, rules, pool, peak + 1)
    phone = [sum(terms) if terms else 0 for terms in built.phone]
    if isinstance(demand, Cover):
        for t in range(WEEK_SLOTS):
            model.add(phone[t] >= int(demand.agents[t]))
    else:
        _service_constraints(model, demand, phone)
    for t, need in enumerate(demand.en):
        model.add(sum(built.en_phone[t]) >= int(need))
    model.minimize(built.paid_slots)
    if hint is not None:
        built.hint(model, hint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    if work_limit is not None:
        solver.parameters.max_deterministic_time = work_limit
        solver.parameters.interleave_search = True
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        msg = f"no roster meets the demand within {pool} ({name}): allow more agents"
        raise ValueError(msg)
    roster = built.read(solver, name, rules)
    roster.extra["bound_agent_hours"] = solver.best_objective_bound * SLOT_H
    return roster


class _Model:
    """Agents per pattern (English-speaking or not) and per day's break choice."""

    def __init__(
        self, model: cp_model.CpModel, rules: ShiftRules, pool: AgentPool, most: int
    ) -> None:
        self.patterns = [p for p in patterns(rules) if _allowed(p, rules)]
        self.most = most
        self.count: dict[tuple[int, bool], cp_model.IntVar] = {
            (i, en): model.new_int_var(0, most, f"n_{i}_{int(en)}")
            for i in range(len(self.patterns))
            for en in (False, True)
        }
        self.breaks: dict[tuple[int, int, int, bool], cp_model.IntVar] = {}
        self.phone: list[list[cp_model.IntVar]] = [[] for _ in range(WEEK_SLOTS)]
        self.en_phone: list[list[cp_model.IntVar]] = [[] for _ in range(WEEK_SLOTS)]
        self._full_time(model, rules)
        for i, p in enumerate(self.patterns):
            if not p.part_time:
                continue
            for day in p.days():
                for slot in phone_slots(p.start, rules.part_time_slots, None, rules):
                    t = (day * SLOTS_PER_DAY + slot) % WEEK_SLOTS
                    self.phone[t] += [self.count[i, False], self.count[i, True]]
                    self.en_phone[t].append(self.count[i, True])
        for part_time, limit in ((False, pool.full_time), (True, pool.part_time)):
            if limit is not None:
                model.add(sum(self._of(part_time=part_time)) <= limit)
        if pool.en_speakers is not None:
            model.add(sum(v for (_, en), v in self.count.items() if en) <= pool.en_speakers)
        self.paid_slots = sum(
            v * self.patterns[i].run * _length(self.patterns[i], rules)
            for (i, _), v in self.count.items()
        )

    def _of(self, *, part_time: bool) -> list[cp_model.IntVar]:
        return [v for (i, _), v in self.count.items() if self.patterns[i].part_time == part_time]

    def _full_time(self, model: cp_model.CpModel, rules: ShiftRules) -> None:
        """Each day and start: the agents working it split over the break offsets."""
        for day in range(DAYS):
            for start in range(0, SLOTS_PER_DAY, rules.start_step):
                working = {
                    en: [
                        self.count[i, en]
                        for i, p in enumerate(self.patterns)
                        if not p.part_time and p.start == start and day in p.days()
                    ]
                    for en in (False, True)
                }
                if not working[False]:
                    continue
                split = {
                    en: [
                        model.new_int_var(0, self.most, f"b_{day}_{start}_{k}_{int(en)}")
                        for k in range(len(rules.break_offsets))
                    ]
                    for en in (False, True)
                }
                for en in (False, True):
                    model.add(sum(split[en]) == sum(working[en]))
                for k, offset in enumerate(rules.break_offsets):
                    self.breaks[day, start, k, False] = split[False][k]
                    self.breaks[day, start, k, True] = split[True][k]
                    slots = phone_slots(start, rules.full_time_slots, start + offset, rules)
                    for slot in slots:
                        t = (day * SLOTS_PER_DAY + slot) % WEEK_SLOTS
                        self.phone[t] += [split[False][k], split[True][k]]
                        self.en_phone[t].append(split[True][k])

    def hint(self, model: cp_model.CpModel, roster: Roster) -> None:
        for (i, en), var in self.count.items():
            model.add_hint(var, roster.solution.get((self.patterns[i], en), 0))
        for key, var in self.breaks.items():
            model.add_hint(var, roster.solution.get(("break", *key), 0))

    def read(self, solver: cp_model.CpSolver, status: str, rules: ShiftRules) -> Roster:
        """The counts dealt out to named agents, breaks included."""
        rows: list[dict[str, object]] = []
        numbers = {False: itertools.count(1), True: itertools.count(1)}
        working: dict[tuple[int, int, bool], list[str]] = {}
        for (i, en), var in self.count.items():
            p = self.patterns[i]
            for _ in range(solver.value(var)):
                agent = f"{'PT' if p.part_time else 'FT'}{next(numbers[p.part_time]):03d}"
                for day in p.days():
                    row = {"agent": agent, "part_time": p.part_time, "en": en, "day": day}
                    row |= {"start_slot": p.start, "length_slots": _length(p, rules)}
                    row["break_slot"] = None
                    rows.append(row)
                    if not p.part_time:
                        working.setdefault((day, p.start, en), []).append(agent)
        offsets: dict[tuple[object, object], int] = {}
        for (day, start, k, en), var in self.breaks.items():
            agents = working.get((day, start, en), [])
            taken = sum(solver.value(self.breaks[day, start, j, en]) for j in range(k))
            for agent in agents[taken : taken + solver.value(var)]:
                offsets[agent, day] = start + rules.break_offsets[k]
        for row in rows:
            row["break_slot"] = offsets.get((row["agent"], row["day"]))
        shifts = pd.DataFrame(rows).sort_values(["agent", "day"], ignore_index=True)
        on_phone, en_on_phone = coverage(shifts, rules)
        hours = float((shifts["length_slots"] * SLOT_H).sum()) if len(shifts) else 0.0
        solution: dict[tuple[object, ...], int] = {
            (self.patterns[i], en): solver.value(v) for (i, en), v in self.count.items()
        }
        solution |= {("break", *k): solver.value(v) for k, v in self.breaks.items()}
        return Roster(
            shifts, on_phone, en_on_phone, hours, status, solver.wall_time, solution=solution
        )


def _length(p: Pattern, rules: ShiftRules) -> int:
    return rules.part_time_slots if p.part_time else rules.full_time_slots


def _allowed(p: Pattern, rules: ShiftRules) -> bool:
    low, high = rules.part_time_hours if p.part_time else rules.full_time_hours
    hours = p.run * _length(p, rules) * SLOT_H
    return p.run <= rules.max_days and low <= hours <= high


def coverage(shifts: pd.DataFrame, rules: ShiftRules) -> tuple[np.ndarray, np.ndarray]:
    """Agents, and English-speaking agents, on the phones per slot of the (cyclic) week."""
    on_phone = np.zeros(WEEK_SLOTS, dtype=np.int64)
    en_on_phone = np.zeros(WEEK_SLOTS, dtype=np.int64)
    for row in shifts.itertuples(index=False):
        brk = None if pd.isna(row.break_slot) else int(row.break_slot)
        for slot in phone_slots(int(row.start_slot), int(row.length_slots), brk, rules):
            t = (int(row.day) * SLOTS_PER_DAY + slot) % WEEK_SLOTS
            on_phone[t] += 1
            en_on_phone[t] += int(row.en)
    return on_phone, en_on_phone


def check_roster(shifts: pd.DataFrame, rules: ShiftRules | None = None) -> list[str]:
    """Every broken rule in a roster's shifts, as sentences (empty when it keeps them all)."""
    rules = rules or ShiftRules()
    problems = []
    for agent, own in shifts.groupby("agent"):
        own = own.sort_values("day")
        part_time = bool(own["part_time"].iloc[0])
        length = rules.part_time_slots if part_time else rules.full_time_slots
        low, high = rules.part_time_hours if part_time else rules.full_time_hours
        hours = float(own["length_slots"].sum() * SLOT_H)
        if own["day"].duplicated().any():
            problems.append(f"{agent} works two shifts on one day")
        if len(own) > rules.max_days:
            problems.append(f"{agent} works {len(own)} days (at most {rules.max_days})")
        if not low <= hours <= high:
            problems.append(f"{agent} works {hours:g} h (contract {low:g}-{high:g} h)")
        if (own["length_slots"] != length).any():
            problems.append(f"{agent} has a shift that is not {length * SLOT_H:g} h long")
        for row in own.itertuples(index=False):
            offset = None if pd.isna(row.break_slot) else int(row.break_slot) - row.start_slot
            wanted = None if part_time else rules.break_offsets
            if (wanted is None) != (offset is None) or (wanted and offset not in wanted):
                problems.append(f"{agent} has a misplaced break on day {row.day}")
        problems += _rest_problems(str(agent), own, rules)
    return problems


def _rest_problems(agent: str, own: pd.DataFrame, rules: ShiftRules) -> list[str]:
    """Rest and night-to-morning between each shift and the agent's next (cyclic week)."""
    starts = [
        (int(r.day) * SLOTS_PER_DAY + int(r.start_slot), int(r.length_slots))
        for r in own.itertuples(index=False)
    ]
    problems = []
    for (start, length), (following, _) in zip(starts, starts[1:] + starts[:1], strict=True):
        gap = (following - (start + length)) % WEEK_SLOTS
        if len(starts) > 1 and gap * SLOT_H < rules.min_rest_h:
            problems.append(
                f"{agent} rests {gap * SLOT_H:g} h before the shift at slot {following}"
            )
        night = start % SLOTS_PER_DAY >= 40 or start % SLOTS_PER_DAY < 8
        morning = 8 <= following % SLOTS_PER_DAY < 20
        next_day = (following // SLOTS_PER_DAY - start // SLOTS_PER_DAY) % DAYS == 1
        if night and morning and next_day:
            problems.append(f"{agent} goes from a night shift to a morning one")
    return problems


def _service_constraints(
    model: cp_model.CpModel, demand: Service, phone: Sequence[cp_model.LinearExprT]
) -> None:
    """Each day's answered-in-time and abandoned calls as sums of per-slot increments.

    Slot t counts ``floor[t]`` agents plus one boolean per further level (no more than the
    agents on the phones); each level adds its gain in calls answered in time and takes off
    its fall in abandoned calls. The gains shrink level by level (Erlang A's service level
    is concave in agents), so the linear relaxation is tight and CP-SAT's LP bound strong.
    """
    answered_by_day: list[list[cp_model.LinearExprT]] = [[] for _ in range(DAYS)]
    abandoned_by_day: list[list[cp_model.LinearExprT]] = [[] for _ in range(DAYS)]
    for t in range(WEEK_SLOTS):
        floor = int(demand.floor[t])
        answered = [round(100 * v) for v in demand.answered[t]]
        abandoned = [round(100 * v) for v in demand.abandoned[t]]
        model.add(phone[t] >= floor)
        steps = [model.new_bool_var(f"level_{t}_{k}") for k in range(1, len(answered))]
        for first, second in itertools.pairwise(steps):
            model.add(first >= second)
        if steps:
            model.add(floor + sum(steps) <= phone[t])
        day = t // SLOTS_PER_DAY
        answered_by_day[day].append(
            answered[0] + sum((answered[k + 1] - answered[k]) * z for k, z in enumerate(steps))
        )
        abandoned_by_day[day].append(
            abandoned[0] + sum((abandoned[k + 1] - abandoned[k]) * z for k, z in enumerate(steps))
        )
    for d in range(DAYS):
        offered = 100 * sum(demand.calls[d * SLOTS_PER_DAY : (d + 1) * SLOTS_PER_DAY])
        model.add(sum(answered_by_day[d]) >= math.ceil(demand.service_level * offered))
        model.add(sum(abandoned_by_day[d]) <= math.floor(demand.max_abandon * offered))
