"""The storm's contacts as call records: what the hotline's statistics and staffing read.

Each report the storm filed becomes a contact on its channel: phone reports (the ones an
agent typed) are calls that waited in the queue, were answered by an agent and wrapped up
as ``fault_report``; web, app and SMS reports are contact records of their channel with no
agent. Callers who gave up add abandoned calls. Queue waits grow as the storm goes on (the
queue fills faster than agents empty it). Everything is drawn from a generator seeded with
the storm's seed, apart from the reports' own, so the reports stay the same for a seed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.models import User
from geo.phones import normalize_phone
from hotline.models import Call
from hotline.settings import HotlineSettings
from hotline.storm_mode import check_auto_trigger
from outages.models import Report

ACTOR = "cti (storm simulator)"
ABANDON_SHARE = 0.35
"""Abandoned calls per answered phone call: callers who hung up in the queue."""
WAIT_START_S = 30.0
WAIT_PEAK_S = 300.0
TALK_S = (90, 360)
CHANNEL_OF_REPORT = {"phone": "phone", "web": "web", "app": "app", "sms": "sms", "open311": "web"}


@dataclass(frozen=True)
class StormCalls:
    calls: int
    phone_calls: int
    abandoned: int
    storm_mode_on: bool


def _wait_s(rng: random.Random, progress: float) -> int:
    """Queue wait: exponential, its mean rising from 30 s to 5 min over the storm."""
    mean = WAIT_START_S + (WAIT_PEAK_S - WAIT_START_S) * progress
    return round(rng.expovariate(1.0 / mean))


def file_storm_calls(
    *,
    session: Session,
    report_ids: list[int],
    seed: int,
    start: dt.datetime,
    now: dt.datetime,
    settings: HotlineSettings,
) -> StormCalls:
    """Add the storm's contacts (see the module docstring) and run storm mode's trigger."""
    rng = random.Random(f"calls:{seed}")
    agent_id = session.scalar(select(User.id).where(User.username == "agent"))
    span_s = max(1.0, (now - start).total_seconds())
    reports = session.scalars(
        select(Report).where(Report.id.in_(report_ids)).order_by(Report.received_at, Report.id)
    ).all()
    rows: list[Call] = []
    phone_calls = 0
    for report in reports:
        number = (
            normalize_phone(report.caller_phone, region=settings.phone_region)
            if report.caller_phone
            else None
        )
        channel = CHANNEL_OF_REPORT.get(report.channel, "web")
        call = Call(
            channel=channel,
            status="wrapped",
            caller_number=number,
            caller_account=report.caller_account,
            premise_id=report.premise_id,
            region_id=report.region_id,
            disposition="fault_report",
            report_id=report.id,
            created_by=ACTOR,
        )
        if channel == "phone":
            phone_calls += 1
            progress = (report.received_at - start).total_seconds() / span_s
            wait = _wait_s(rng, progress)
            # The report is typed while the agent talks: the call rang before it.
            call.started_at = report.received_at - dt.timedelta(seconds=wait + 30)
            call.answered_at = report.received_at - dt.timedelta(seconds=30)
            call.ended_at = call.answered_at + dt.timedelta(seconds=rng.randint(*TALK_S))
            call.queue_wait_s, call.answered_by, call.agent_id = wait, "agent", agent_id
        else:
            call.started_at = call.answered_at = call.ended_at = report.received_at
        call.wrapped_at = call.ended_at
        rows.append(call)
    callers = [r for r in reports if r.caller_phone]
    abandoned = round(ABANDON_SHARE * phone_calls) + (len(callers) // 20)
    for _ in range(abandoned if callers else 0):
        report = rng.choice(callers)
        at = start + dt.timedelta(seconds=rng.uniform(0, span_s))
        wait = max(5, _wait_s(rng, (at - start).total_seconds() / span_s))
        at = min(at, now - dt.timedelta(seconds=wait))  # hung up before the storm's end
        rows.append(
            Call(
                channel="phone",
                status="abandoned",
                caller_number=normalize_phone(
                    report.caller_phone or "", region=settings.phone_region
                ),
                premise_id=report.premise_id,
                region_id=report.region_id,
                started_at=at,
                ended_at=at + dt.timedelta(seconds=wait),
                queue_wait_s=wait,
                disposition="abandoned",
                created_by=ACTOR,
            )
        )
    session.add_all(rows)
    session.flush()
    switched = check_auto_trigger(session=session, now=now, settings=settings)
    return StormCalls(
        calls=len(rows),
        phone_calls=phone_calls,
        abandoned=abandoned if callers else 0,
        storm_mode_on=switched is not None,
    )
