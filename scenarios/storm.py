"""A small storm for the demo and the tests: a recloser trips, a few hundred calls come in.

Every call goes through ``outages.intake.single.file_report``, in time order, so what the demo
shows is what the real intake does: location by account, phone, GPS point and typed
address (typos included), classification, the roll-up of transformer outages to the
device that operated, and the answers callers get. A planned outage elsewhere is
announced first so its customers' calls come back ``planned``, and at the end a
dispatcher moves the ETR of the rolled-up outage.

The storm is deterministic for a seed and a database state: the recloser and the planned
area are drawn from devices in id order, skipping feeders that already have an active
outage or planned work, so a second storm in the same database trips another recloser.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from hotline.settings import HotlineSettings
from outages.intake.single import file_report
from outages.models import CLASSIFICATIONS, Outage
from outages.operations import device_operation
from outages.schemas import Category, Channel, ReportCreate
from outages.service import change_etr, read_outage
from outages.settings import OutageSettings
from scenarios.storm_calls import StormCalls, file_storm_calls
from scenarios.storm_scene import Caller, set_scene

DISPATCHER = "dispatcher (storm simulator)"
SCADA = "scada (storm simulator)"
STORM_MINUTES = 60
# What callers below the tripped recloser say (weights): mostly no power at all.
CATEGORY_WEIGHTS: dict[str, float] = {
    "no_power": 0.8,
    "partial_power": 0.08,
    "flicker": 0.05,
    "wire_down": 0.045,
    "pole_damage": 0.025,
}
# How they reach us (weights): web form with the account number, SMS from the registered
# phone, the app with its GPS fix, the hotline where an agent types the address.
HOW_WEIGHTS: dict[str, float] = {"account": 0.57, "phone": 0.2, "point": 0.13, "address": 0.1}
TYPO_SHARE = 0.25  # of typed addresses
GPS_JITTER_M = 8.0
UNLOCATABLE = (
    "the yellow house behind the old tram depot",
    "near the big church, by the harbour",
    "my summer cottage, Kuusisaari side",
)

How = Literal["account", "phone", "point", "address", "unlocated"]


@dataclass(frozen=True)
class _Call:
    at: dt.datetime
    caller: Caller | None
    category: str
    how: How
    address: str | None = None
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True)
class StormOutage:
    """An active outage the storm's reports ended up on."""

    id: int
    status: str
    device_id: int
    device: str
    device_kind: str
    feeder: str
    customers_affected: int
    report_count: int
    hazard: bool
    started_at: dt.datetime
    etr: dt.datetime | None
    rule: str | None


@dataclass(frozen=True)
class StormSummary:
    """What a storm filed and where the intake placed it."""

    seed: int
    tripped_device_id: int
    tripped_device: str
    tripped_kind: str
    feeder: str
    customers_below: int
    planned_outage_id: int
    planned_device: str
    planned_customers: int
    first_report_at: dt.datetime
    last_report_at: dt.datetime
    reports: int
    report_ids: list[int]
    by_classification: dict[str, int]
    hazards: int
    outages: list[StormOutage] = field(default_factory=list)
    etr_before: dt.datetime | None = None
    etr_after: dt.datetime | None = None
    scada_at: dt.datetime | None = None
    """When SCADA said the device opened (half the storms), or None: calls alone."""
    calls: StormCalls | None = None
    """The contacts as call records (queue waits, abandons) and whether storm mode went on."""


def _typo(address: str, rng: random.Random) -> str:
    """One slip in the street name, as a hurried hotline agent types it."""
    street, _, rest = address.partition(" ")
    letters = [i for i, c in enumerate(street) if c.isalpha() and i > 0]
    if len(letters) < 4:
        return address
    i = rng.choice(letters[:-1])
    if rng.random() < 0.5:  # two letters swapped
        street = street[:i] + street[i + 1] + street[i] + street[i + 2 :]
    else:  # one letter dropped
        street = street[:i] + street[i + 1 :]
    return f"{street} {rest}".lower()


def _jitter(caller: Caller, rng: random.Random) -> tuple[float, float]:
    """A GPS fix a few metres off the premise (1e-5 degrees is about 1.1 m north, 0.55 m east)."""
    dy = rng.uniform(-GPS_JITTER_M, GPS_JITTER_M) / 111_320
    dx = rng.uniform(-GPS_JITTER_M, GPS_JITTER_M) / 55_800
    return round(caller.lon + dx, 7), round(caller.lat + dy, 7)


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _plan_calls(
    rng: random.Random,
    *,
    below: list[Caller],
    upstream: list[Caller],
    planned: list[Caller],
    total: int,
    start: dt.datetime,
) -> list[_Call]:
    """The calls of the storm, in time order."""
    minutes = float(STORM_MINUTES)
    n_planned = max(3, total // 20)
    n_flicker = min(len(upstream), max(4, total // 25))
    n_again = min(n_flicker, max(2, n_flicker // 3))
    n_unlocated = 2
    n_main = max(1, total - n_planned - n_flicker - n_again - n_unlocated)
    calls: list[_Call] = []

    def at(offset_min: float) -> dt.datetime:
        return start + dt.timedelta(minutes=min(offset_min, minutes))

    # Below the recloser: most customers call once, some again (same phone); the calls
    # peak in the first minutes after the trip and tail off.
    firstcallers = rng.sample(below, min(len(below), max(1, int(n_main * 0.7))))
    repeaters = [rng.choice(firstcallers) for _ in range(n_main - len(firstcallers))]
    for caller in firstcallers + repeaters:
        how: How = _weighted(rng, HOW_WEIGHTS)  # type: ignore[assignment]
        address = None
        lon = lat = None
        if how == "address":
            address = _typo(caller.address, rng) if rng.random() < TYPO_SHARE else caller.address
        elif how == "point":
            lon, lat = _jitter(caller, rng)
        elif how == "phone" and not caller.phone:
            how = "account"
        calls.append(
            _Call(
                at(minutes * rng.random() ** 1.8),
                caller,
                _weighted(rng, CATEGORY_WEIGHTS),
                how,
                address,
                lon,
                lat,
            )
        )
    # Upstream on the same feeder: the lights flickered while the recloser tried to
    # reclose; a few of them call twice.
    if upstream:
        flickered = rng.sample(upstream, n_flicker)
        again = flickered[:n_again]
        for caller in flickered:
            calls.append(_Call(at(rng.uniform(0, 5)), caller, "flicker", "account"))
        for caller in again:
            calls.append(_Call(at(rng.uniform(10, 20)), caller, "flicker", "phone"))
    # The planned work: customers who missed the notice.
    for caller in (rng.choice(planned) for _ in range(n_planned)):
        calls.append(_Call(at(rng.uniform(0, minutes)), caller, "no_power", "account"))
    # Addresses no premise matches: the agent files them to the unlocated queue.
    for i in range(n_unlocated):
        calls.append(
            _Call(
                at(rng.uniform(5, minutes)),
                None,
                "no_power",
                "unlocated",
                address=UNLOCATABLE[i % len(UNLOCATABLE)],
            )
        )
    calls.sort(key=lambda c: c.at)
    return calls


def _request(call: _Call) -> tuple[ReportCreate, bool]:
    """The report as the channel would send it, and whether a hotline agent files it."""
    category: Category = call.category  # type: ignore[assignment]
    caller = call.caller
    if call.how == "unlocated":
        data = ReportCreate(
            address=call.address, category=category, channel="phone", allow_unlocated=True
        )
        return data, True
    assert caller is not None
    phone = caller.phone
    channel: Channel
    if call.how == "address":
        channel = "phone"
        data = ReportCreate(
            address=call.address,
            phone=phone,
            category=category,
            channel=channel,
            allow_unlocated=True,
        )
        return data, True
    if call.how == "point":
        channel = "app"
        data = ReportCreate(
            lon=call.lon, lat=call.lat, phone=phone, category=category, channel=channel
        )
    elif call.how == "phone" and phone:
        channel = "sms"
        data = ReportCreate(phone=phone, category=category, channel=channel)
    else:
        channel = "web"
        data = ReportCreate(account=caller.account, phone=phone, category=category, channel=channel)
    return data, False


def play_storm(
    *,
    session: Session,
    settings: HotlineSettings,
    now: dt.datetime,
    seed: int = 7,
    reports: int = 300,
) -> StormSummary:
    """Trip a recloser and file ``reports`` calls over the last hour through the real intake.

    Parameters
    ----------
    session
        Session; everything is flushed, the caller commits or rolls back.
    settings
        Intake settings (roll-up thresholds, ETR commitments) and storm mode's trigger.
    now
        The end of the storm: calls arrive over the hour before, the ETR update at ``now``.
    seed
        Same seed and same database state, same storm.
    reports
        How many calls to file (at least 20).

    Returns
    -------
    StormSummary
        Counts by classification, the outages the reports sit on, the planned outage and
        the ETR before and after the dispatcher's update.
    """
    if reports < 20:
        msg = f"a storm needs at least 20 reports to roll anything up; got {reports}"
        raise InvalidInput(msg)
    rng = random.Random(seed)
    start = now - dt.timedelta(minutes=STORM_MINUTES)
    scene = set_scene(session, settings, rng, start=start, now=now)
    calls = _plan_calls(
        rng,
        below=scene.below,
        upstream=scene.upstream,
        planned=scene.in_planned,
        total=reports,
        start=start,
    )
    scada = _scada_plan(seed, calls)
    filed = _file_calls(session, settings, calls, scada=scada, device=scene.recloser)
    outages = _final_outages(session, filed.outage_ids)
    etr_before, etr_after = _move_main_etr(session, settings, outages, now)
    if etr_after is not None:
        outages = _final_outages(session, {o.id for o in outages})
    contacts = file_storm_calls(
        session=session,
        report_ids=filed.report_ids,
        seed=seed,
        start=start,
        now=now,
        settings=settings,
    )
    return StormSummary(
        seed=seed,
        tripped_device_id=scene.recloser_id,
        tripped_device=scene.recloser,
        tripped_kind=scene.kind,
        feeder=scene.feeder,
        customers_below=len(scene.below),
        planned_outage_id=scene.planned_outage_id,
        planned_device=scene.planned_device,
        planned_customers=scene.planned_customers,
        first_report_at=calls[0].at,
        last_report_at=calls[-1].at,
        reports=len(filed.report_ids),
        report_ids=filed.report_ids,
        by_classification={c: filed.counts.get(c, 0) for c in CLASSIFICATIONS},
        hazards=filed.hazards,
        outages=outages,
        etr_before=etr_before,
        etr_after=etr_after,
        scada_at=None if scada is None else calls[scada].at,
        calls=contacts,
    )


def _scada_plan(seed: int, calls: list[_Call]) -> int | None:
    """Half the storms (by seed) send SCADA's message that the recloser opened, before the
    call with this index (0: before the first call); the other half leave it to the calls.

    Drawn from a generator of its own so the calls themselves stay the same for a seed.
    """
    rng = random.Random(f"scada:{seed}")
    if rng.random() >= 0.5:
        return None
    return min(len(calls) - 1, rng.randint(0, 20))


@dataclass
class _Filed:
    """What the intake answered to the storm's calls."""

    counts: Counter[str] = field(default_factory=Counter)
    report_ids: list[int] = field(default_factory=list)
    outage_ids: set[int] = field(default_factory=set)
    hazards: int = 0


def _file_calls(
    session: Session,
    settings: OutageSettings,
    calls: list[_Call],
    *,
    scada: int | None,
    device: str,
) -> _Filed:
    """File every call through the intake, in time order, as its channel would send it;
    SCADA's message that ``device`` opened arrives before call ``scada`` (if any)."""
    filed = _Filed()
    for index, call in enumerate(calls):
        if index == scada:
            device_operation(
                session=session,
                device_code=device,
                operation="opened",
                at=call.at,
                source="scada",
                settings=settings,
                actor=SCADA,
            )
        data, by_agent = _request(call)
        answer = file_report(
            session=session,
            data=data,
            settings=settings,
            now=call.at,
            actor="agent (storm simulator)" if by_agent else "public",
            is_agent=by_agent,
        )
        filed.counts[answer.classification] += 1
        filed.report_ids.append(answer.id)
        filed.hazards += answer.hazard
        if answer.outage_id is not None:
            filed.outage_ids.add(answer.outage_id)
    return filed


def _move_main_etr(
    session: Session, settings: OutageSettings, outages: list[StormOutage], now: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The dispatcher moves the ETR of the outage with most reports; (before, after).

    Both are None when the storm left no active outage.
    """
    main = max(outages, key=lambda o: (o.report_count, -o.id), default=None)
    if main is None:
        return None, None
    outage = session.get(Outage, main.id)
    assert outage is not None
    etr_before = outage.etr_at
    # The crew on site has found the cause: a tree on the line, about two hours' work.
    etr_after = _round_up(now + dt.timedelta(hours=2, minutes=10), minutes=15)
    change_etr(
        session=session,
        outage=outage,
        etr_at=etr_after,
        reason="crew on site: tree on the line below the recloser, about two hours",
        source="dispatcher",
        settings=settings,
        now=now,
        actor=DISPATCHER,
    )
    return etr_before, etr_after


def _round_up(moment: dt.datetime, *, minutes: int) -> dt.datetime:
    step = dt.timedelta(minutes=minutes)
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor + step * -(-(moment - floor) // step)


def _final_outages(session: Session, outage_ids: set[int]) -> list[StormOutage]:
    """The active outages the given ones ended on (following merges), most reports first."""
    final: set[int] = set()
    for outage_id in outage_ids:
        outage = session.get(Outage, outage_id)
        while outage is not None and outage.merged_into_id is not None:
            outage = session.get(Outage, outage.merged_into_id)
        if outage is not None and outage.status in ("suspected", "confirmed"):
            final.add(outage.id)
    result = []
    for outage in session.scalars(select(Outage).where(Outage.id.in_(final))):
        read = read_outage(session=session, outage=outage)
        result.append(
            StormOutage(
                id=read.id,
                status=read.status,
                device_id=outage.device_id,
                device=read.device,
                device_kind=read.device_kind,
                feeder=read.feeder,
                customers_affected=read.customers_affected,
                report_count=read.report_count,
                hazard=read.hazard,
                started_at=read.started_at,
                etr=read.etr,
                rule=str(read.explanation.get("rule")) if read.explanation else None,
            )
        )
    return sorted(result, key=lambda o: (-o.report_count, o.id))
