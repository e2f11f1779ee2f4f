"""Device operations from SCADA or an AMI head-end: a device seen open is an outage at once.

Calls only suggest which device operated; a breaker or recloser that reports itself open says
so. ``opened`` places a confirmed outage on the device (absorbing the suspected outages the
first calls opened below it), so every later caller below is answered ``known``; ``closed``
restores what the device feeds again (the whole outage, or the part below the device when the
outage sits higher up). An outage opened on a device by a dispatcher absorbs the outages below
it in the same way (``absorb_below``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.audit import record
from geo.locks import LockSpace, xact_lock
from geo.models import Device
from outages import service
from outages.exceptions import DeviceNotFound
from outages.feeder_tree import FeederTree
from outages.intake.session_store import SessionStore, mark_affected
from outages.models import ACTIVE_OUTAGE_STATUSES, Outage
from outages.settings import OutageSettings
from outages.topology import load_feeder_tree

Operation = Literal["opened", "closed"]


@dataclass(frozen=True)
class OperationResult:
    """What a device operation did: ``opened`` (a new outage), ``confirmed`` (the outage on
    the device was suspected), ``absorbed`` (outages below joined it), ``inside`` (an outage
    higher up already covers it), ``restored`` / ``partially_restored``, or ``recorded``."""

    device: str
    operation: Operation
    action: str
    outage_id: int | None
    absorbed: list[int]


def device_operation(
    *,
    session: Session,
    device_code: str,
    operation: Operation,
    at: dt.datetime,
    source: str,
    settings: OutageSettings,
    actor: str,
) -> OperationResult:
    """Apply one operation message; every message is kept in the audit log."""
    device = session.scalar(select(Device).where(Device.code == device_code))
    if device is None:
        msg = f"no device with code {device_code!r}: use a code from /api/v1/layers/devices"
        raise DeviceNotFound(msg)
    xact_lock(session, LockSpace.FEEDER, device.feeder_id)
    tree = load_feeder_tree(session=session, feeder_id=device.feeder_id)
    active = list(
        session.scalars(
            select(Outage)
            .where(Outage.feeder_id == device.feeder_id, Outage.status.in_(ACTIVE_OUTAGE_STATUSES))
            .order_by(Outage.id)
            # Locked and re-read after the feeder lock: decide on what is committed.
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if operation == "opened":
        result = _opened(session, device, tree, active, at, source, settings, actor)
    else:
        result = _closed(session, device, tree, active, at, settings, actor)
    record(
        session=session,
        actor=actor,
        action=f"device.{operation}",
        object_type="device",
        object_id=device.id,
        detail={
            "code": device.code,
            "source": source,
            "action": result.action,
            "outage_id": result.outage_id,
            "absorbed": result.absorbed,
        },
        at=at,
    )
    session.flush()
    return result


def _opened(
    session: Session,
    device: Device,
    tree: FeederTree,
    active: list[Outage],
    at: dt.datetime,
    source: str,
    settings: OutageSettings,
    actor: str,
) -> OperationResult:
    own = next((o for o in active if o.device_id == device.id), None)
    above = next(
        (
            o
            for o in active
            if o.device_id != device.id
            and o.device_id in tree.graph
            and tree.contains(o.device_id, device.id)
        ),
        None,
    )
    if own is None and above is not None:
        return OperationResult(device.code, "opened", "inside", above.id, [])
    if own is None:
        own = service.open_outage(
            session=session,
            device_code=device.code,
            cause=None,
            confirmed=True,
            settings=settings,
            now=at,
            actor=actor,
        )
        own.explanation = {
            "rule": "device operation",
            "device": device.code,
            "device_kind": device.kind,
            "source": source,
            "operated_at": at.isoformat(),
        }
        action = "opened"
        absorbed = absorb_below(session=session, outage=own, tree=tree, actor=actor, now=at)
        return OperationResult(device.code, "opened", action, own.id, absorbed)
    elif own.status == "suspected":
        service.confirm_outage(session=session, outage=own, settings=settings, now=at, actor=actor)
        own.explanation = {**own.explanation, "confirmed_by": f"{source} at {at.isoformat()}"}
        action = "confirmed"
    else:
        action = "recorded"
    absorbed = absorb_below(session=session, outage=own, tree=tree, actor=actor, now=at)
    if absorbed and action == "recorded":
        action = "absorbed"
    return OperationResult(device.code, "opened", action, own.id, absorbed)


def open_on_device(
    *,
    session: Session,
    device_code: str,
    cause: str | None,
    confirmed: bool,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
) -> Outage:
    """A dispatcher opens an outage on a device by hand: the outages below it join it."""
    outage = service.open_outage(
        session=session,
        device_code=device_code,
        cause=cause,
        confirmed=confirmed,
        settings=settings,
        now=now,
        actor=actor,
    )
    tree = load_feeder_tree(session=session, feeder_id=outage.feeder_id)
    absorb_below(session=session, outage=outage, tree=tree, actor=actor, now=now)
    return outage


def absorb_below(
    *, session: Session, outage: Outage, tree: FeederTree, actor: str, now: dt.datetime
) -> list[int]:
    """Merge the active outages below ``outage``'s device into it (ids of those merged).

    They were the first calls' guesses (transformer outages); the device that operated
    explains them. Their reports move over, the earliest start, any hazard and the latest
    ETR are kept, and their orders follow the merge in the next dispatch sync.
    """
    others = [
        o
        for o in session.scalars(
            select(Outage)
            .where(
                Outage.feeder_id == outage.feeder_id,
                Outage.status.in_(ACTIVE_OUTAGE_STATUSES),
                Outage.id != outage.id,
            )
            .order_by(Outage.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if o.device_id in tree.graph and tree.contains(outage.device_id, o.device_id)
    ]
    if not others:
        return []
    SessionStore(session).merge(outage, others)
    for other in others:
        other.status, other.merged_into_id, other.customers_affected = "merged", outage.id, 0
    outage.started_at = min([outage.started_at, *(o.started_at for o in others)])
    outage.hazard = outage.hazard or any(o.hazard for o in others)
    outage.explanation = {
        **outage.explanation,
        "merged_outages": sorted(o.id for o in others),
    }
    session.flush()
    mark_affected(session, outage)
    latest = max((o.etr_at for o in others if o.etr_at is not None), default=None)
    if latest is not None and (outage.etr_at is None or latest > outage.etr_at):
        SessionStore(session).set_etr(
            outage,
            etr_at=latest,
            source="rollup",
            reason="merged outages keep the latest estimate",
            actor=actor,
            now=now,
        )
    record(
        session=session,
        actor=actor,
        action="outage.absorbed",
        object_type="outage",
        object_id=outage.id,
        detail={"merged": sorted(o.id for o in others)},
        at=now,
    )
    return sorted(o.id for o in others)


def _closed(
    session: Session,
    device: Device,
    tree: FeederTree,
    active: list[Outage],
    at: dt.datetime,
    settings: OutageSettings,
    actor: str,
) -> OperationResult:
    own = next((o for o in active if o.device_id == device.id), None)
    if own is not None:
        service.restore_outage(
            session=session, outage=own, device_code=None, settings=settings, now=at, actor=actor
        )
        return OperationResult(device.code, "closed", "restored", own.id, [])
    above = next(
        (o for o in active if o.device_id in tree.graph and tree.contains(o.device_id, device.id)),
        None,
    )
    if above is None:
        return OperationResult(device.code, "closed", "recorded", None, [])
    service.restore_outage(
        session=session,
        outage=above,
        device_code=device.code,
        settings=settings,
        now=at,
        actor=actor,
    )
    action = "restored" if above.status == "restored" else "partially_restored"
    return OperationResult(device.code, "closed", action, above.id, [])
