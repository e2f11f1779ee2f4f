"""The intake decisions, once, for the single path and the batch path.

What a report is (planned -> known -> duplicate -> new), which reports open outages, when
the roll-up runs, how a roll-up picks its survivor and what the caller is told all live
here. Where the facts come from and where the changes go is a ``Store``: the per-query
``outages.intake.session_store.SessionStore`` for one report at a time, the in-memory
``outages.intake.batch_store.BatchStore`` (loaded once per batch, written set-based) for
many. The two stores only read and write; they decide nothing, so the paths cannot drift
apart. Who may file what, replays and locks are decided before, in ``outages.intake.admit``.

Nothing here touches the database (an import-linter contract keeps sqlalchemy, geoalchemy2
and psycopg out), so the rules read as what they are and run the same over either store.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from outages.etr import default_etr
from outages.feeder_tree import FeederTree, RollUp, RollUpRule
from outages.schemas import ReportAnswer, ReportCreate
from outages.settings import OutageSettings
from outages.wording import local_time

# 12 random bytes: a 16-character tracking token no one can guess or walk.
TOKEN_BYTES = 12

# Categories that put the public in danger: never absorbed as duplicates, flag their outage.
HAZARD_CATEGORIES = ("wire_down", "pole_damage", "fire_smoke")
# Categories that mean the customer has no (or partial) supply, or a hazard on the lines.
OUTAGE_CATEGORIES = ("no_power", "partial_power", *HAZARD_CATEGORIES)
# What a duplicate may point at: an earlier open report that was itself classified.
DUPLICATE_OF_CLASSIFICATIONS = ("new", "known", "duplicate")
HAZARD_NOTE = " Keep away from fallen wires and damaged poles: a crew is alerted to the hazard."


class ReportLike(Protocol):
    """The fields of a report the rules read and set (an ORM ``Report`` is one)."""

    id: int
    token: str
    received_at: dt.datetime
    category: str
    hazard: bool
    caller_phone: str | None
    premise_id: int | None
    region_id: int | None
    feeder_id: int | None
    classification: str
    outage_id: int | None
    planned_outage_id: int | None
    duplicate_of_id: int | None
    answer: dict[str, Any]


class OutageLike(Protocol):
    id: int
    status: str
    device_id: int
    feeder_id: int
    hazard: bool
    customers_affected: int
    started_at: dt.datetime
    etr_at: dt.datetime | None
    merged_into_id: int | None
    explanation: dict[str, Any]


class PlannedLike(Protocol):
    id: int
    ends_at: dt.datetime
    reason: str


class PremiseLike(Protocol):
    transformer_id: int | None
    feeder_id: int | None
    region_id: int | None


class Store(Protocol):
    """Reads and writes of intake; see the module docstring."""

    def planned_covering(self, premise_id: int, now: dt.datetime) -> PlannedLike | None:
        """The scheduled planned outage covering the premise now (latest end, then id)."""

    def active_outage_of(self, premise_id: int) -> OutageLike | None:
        """The lowest-id active outage with the premise still without power."""

    def recent_open_report(self, report: ReportLike, since: dt.datetime) -> ReportLike | None:
        """The earliest (received_at, id) open classified report since ``since`` from the
        same premise or the same phone, other than ``report``."""

    def premise(self, premise_id: int) -> PremiseLike | None: ...

    def device_code(self, device_id: int) -> str: ...

    def region_class(self, region_id: int | None) -> str | None: ...

    def region_code(self, region_id: int | None) -> str | None: ...

    def feeder_code(self, feeder_id: int | None) -> str | None: ...

    def planned(self, planned_id: int) -> PlannedLike: ...

    def outage(self, outage_id: int) -> OutageLike: ...

    def outages(self, outage_ids: Sequence[int]) -> Sequence[OutageLike]: ...

    def attach(self, report: ReportLike, outage_id: int | None) -> None:
        """Point the report at an outage (it is then evidence for that outage's roll-up)."""

    def create_outage(
        self,
        *,
        device_id: int,
        feeder_id: int,
        region_id: int | None,
        status: str,
        cause: str | None,
        now: dt.datetime,
        explanation: dict[str, Any],
    ) -> OutageLike: ...

    def feeder_of_device(self, device_id: int) -> int: ...

    def set_etr(
        self,
        outage: OutageLike,
        *,
        etr_at: dt.datetime,
        source: str,
        reason: str,
        actor: str,
        now: dt.datetime,
    ) -> None:
        """Change the ETR and keep the change (``outages.etr.set_etr``'s checks apply)."""

    def mark_affected(self, outage: OutageLike) -> None:
        """Every premise on or below the outage's device is affected; counts refreshed."""

    def plan_rollups(
        self, feeder_id: int, since: dt.datetime, rule: RollUpRule
    ) -> tuple[FeederTree, list[RollUp]] | None:
        """``topology.plan_rollups`` over the feeder's suspected outages and the distinct
        premises of their outage-category reports received since ``since``; None when
        fewer than two such outages exist."""

    def report_counts(self, outage_ids: Sequence[int]) -> dict[int, int]: ...

    def report_ids_of(self, outage_id: int) -> list[int]: ...

    def merge(self, survivor: OutageLike, others: Sequence[OutageLike]) -> None:
        """Move the others' reports to the survivor and drop the others' affected premises."""

    def record(
        self,
        *,
        actor: str,
        action: str,
        object_type: str,
        object_id: int,
        detail: dict[str, Any],
        at: dt.datetime,
    ) -> None: ...


@dataclass(frozen=True)
class Where:
    """Where a located report sits for classification (see ``outages.intake.locate.Located``)."""

    proxy_premise_id: int | None
    address: str | None


def tracking_tokens(n: int) -> list[str]:
    """``n`` tracking tokens from one read of the system's random source: a storm batch
    read it once per report, 50 us a call on a virtual machine and 10% of an HTTP batch's
    time. The same bytes ``secrets.token_urlsafe`` draws, cut in ``TOKEN_BYTES``."""
    pool = secrets.token_bytes(TOKEN_BYTES * n)
    return [
        base64.urlsafe_b64encode(pool[i : i + TOKEN_BYTES]).rstrip(b"=").decode()
        for i in range(0, TOKEN_BYTES * n, TOKEN_BYTES)
    ]


def report_fields(
    *,
    data: ReportCreate,
    located_by: str,
    premise_id: int | None,
    region_id: int | None,
    feeder_id: int | None,
    now: dt.datetime,
    actor: str,
    idempotency_key: str | None,
    token: str | None = None,
) -> dict[str, Any]:
    """The columns of a report as filed, before classification (geometry aside).

    The tracking token is drawn here, so both paths (single and batch) answer it; a batch
    passes the ``tracking_tokens`` it drew at once.
    """
    return {
        "token": token or secrets.token_urlsafe(TOKEN_BYTES),
        "received_at": now,
        "channel": data.channel,
        "category": data.category,
        "description": data.description,
        "hazard": data.category in HAZARD_CATEGORIES,
        "address_text": data.address,
        "caller_phone": data.phone,
        "caller_account": data.account,
        "located_by": located_by,
        "premise_id": premise_id,
        "region_id": region_id,
        "feeder_id": feeder_id,
        "classification": "unlocated",
        "idempotency_key": idempotency_key,
        "filed_by": actor,
    }


def file_located(
    store: Store,
    report: ReportLike,
    where: Where,
    *,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
    action: str = "report.filed",
) -> ReportAnswer:
    """Classify a stored, located report, answer it, keep the answer and log the filing."""
    classify(store, report, where.proxy_premise_id, settings=settings, now=now, actor=actor)
    answer = build_answer(store, report, settings)
    report.answer = answer.model_dump(mode="json")
    detail: dict[str, Any] = {"classification": report.classification}
    if action == "report.filed":
        detail["outage_id"] = report.outage_id
    store.record(
        actor=actor,
        action=action,
        object_type="report",
        object_id=report.id,
        detail=detail,
        at=now,
    )
    return answer


def classify(
    store: Store,
    report: ReportLike,
    premise_id: int | None,
    *,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """Planned -> known -> duplicate -> new, against the premise (or a point's proxy).

    Hazards are never absorbed as duplicates and always flag their outage. A new report
    in an outage category opens a suspected outage on its transformer; it, and a known
    report adding evidence to a suspected outage, then run the feeder's roll-up.
    """
    if premise_id is None:
        return  # unlocated: stays in the queue for a dispatcher
    planned = store.planned_covering(premise_id, now)
    if planned is not None:
        report.classification = "planned"
        report.planned_outage_id = planned.id
        return
    outage = store.active_outage_of(premise_id)
    if outage is not None:
        report.classification = "known"
        store.attach(report, outage.id)
        outage.hazard = outage.hazard or report.hazard
        if outage.status == "suspected" and report.category in OUTAGE_CATEGORIES:
            # A known report is more evidence: two transformer outages opened on one report
            # each (too few to roll up then) must still merge once their reports add up.
            _roll_up_for(store, report, outage.feeder_id, settings, now, actor)
        return
    if not report.hazard:
        since = now - dt.timedelta(hours=settings.duplicate_window_h)
        earlier = store.recent_open_report(report, since)
        # A caller who reported a flicker and now has no power reports something new: a
        # duplicate of a report without an outage must not swallow a loss of supply.
        escalates = (
            earlier is not None
            and earlier.outage_id is None
            and report.category in OUTAGE_CATEGORIES
        )
        if earlier is not None and not escalates:
            report.classification = "duplicate"
            report.duplicate_of_id = earlier.id
            if earlier.outage_id is None:
                report.outage_id = None
            else:
                store.attach(report, earlier.outage_id)
            return
    report.classification = "new"
    if report.category not in OUTAGE_CATEGORIES:
        return
    premise = store.premise(premise_id)
    if premise is None or premise.transformer_id is None:
        return
    outage = open_outage(
        store,
        device_id=premise.transformer_id,
        feeder_id=premise.feeder_id,
        region_id=premise.region_id,
        now=now,
        settings=settings,
        actor=actor,
        explanation={
            "rule": "new report",
            "device": store.device_code(premise.transformer_id),
            "reports": [report.id],
        },
    )
    outage.hazard = report.hazard
    store.attach(report, outage.id)
    if premise.feeder_id is not None:
        _roll_up_for(store, report, premise.feeder_id, settings, now, actor)


def _roll_up_for(
    store: Store,
    report: ReportLike,
    feeder_id: int,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """Run the roll-up and follow the report to the outage it now belongs to."""
    roll_up(store, feeder_id=feeder_id, settings=settings, now=now, actor=actor)
    outage_id = report.outage_id
    while outage_id is not None:
        merged_into = store.outage(outage_id).merged_into_id
        if merged_into is None:
            break
        outage_id = merged_into
    if outage_id != report.outage_id:
        report.outage_id = outage_id


def open_outage(
    store: Store,
    *,
    device_id: int,
    feeder_id: int | None,
    region_id: int | None,
    now: dt.datetime,
    settings: OutageSettings,
    actor: str,
    explanation: dict[str, Any],
    status: str = "suspected",
    cause: str | None = None,
) -> OutageLike:
    """An outage on a device, every premise below it affected, its default ETR kept."""
    if feeder_id is None:
        feeder_id = store.feeder_of_device(device_id)
    etr = default_etr(
        started_at=now,
        region_class=store.region_class(region_id),
        cause=cause,
        settings=settings,
    )
    outage = store.create_outage(
        device_id=device_id,
        feeder_id=feeder_id,
        region_id=region_id,
        status=status,
        cause=cause,
        now=now,
        explanation=explanation,
    )
    store.set_etr(
        outage,
        etr_at=etr,
        source="default",
        reason="95598 commitment for the region class and cause",
        actor=actor,
        now=now,
    )
    store.mark_affected(outage)
    store.record(
        actor=actor,
        action="outage.opened",
        object_type="outage",
        object_id=outage.id,
        detail={"device_id": device_id, "status": status},
        at=now,
    )
    return outage


def rollup_rule(settings: OutageSettings) -> RollUpRule:
    return RollUpRule(
        min_premises=settings.rollup_min_premises,
        min_share=settings.rollup_min_share,
        window_min=settings.rollup_window_min,
    )


def roll_up(
    store: Store, *, feeder_id: int, settings: OutageSettings, now: dt.datetime, actor: str
) -> list[int]:
    """Apply the roll-up rule on one feeder; returns the ids of outages that moved.

    The merged outages' survivor is the one with the most reports (then the lowest id);
    it keeps the earliest start, any hazard, and the latest ETR of the merged outages.
    """
    since = now - dt.timedelta(minutes=settings.rollup_window_min)
    rule = rollup_rule(settings)
    planned = store.plan_rollups(feeder_id, since, rule)
    if planned is None:
        return []
    tree, decisions = planned
    moved = []
    for decision in decisions:
        outages = store.outages(decision.outage_ids)
        report_counts = store.report_counts(decision.outage_ids)
        survivor = max(outages, key=lambda o: (report_counts.get(o.id, 0), -o.id))
        others = [o for o in outages if o.id != survivor.id]
        store.merge(survivor, others)
        for other in others:
            other.status = "merged"
            other.merged_into_id = survivor.id
            other.customers_affected = 0
        report_ids = store.report_ids_of(survivor.id)
        survivor.device_id = decision.device_id
        survivor.started_at = min(o.started_at for o in outages)
        survivor.hazard = any(o.hazard for o in outages)
        survivor.explanation = {
            "rule": "roll-up",
            "device": tree.codes[decision.device_id],
            "device_kind": tree.kinds[decision.device_id],
            "reports": sorted(report_ids),
            "reporting_premises": decision.reporting_premises,
            "customers_below": decision.customers_below,
            "share": decision.share,
            "thresholds": {
                "min_premises": rule.min_premises,
                "min_share": rule.min_share,
                "window_min": rule.window_min,
            },
            "merged_outages": sorted(o.id for o in others),
        }
        if decision.tied:
            tied = [f"{tree.codes[d]} ({tree.kinds[d]})" for d in decision.tied]
            survivor.explanation["tied_with"] = tied
            survivor.explanation["tie_rule"] = (
                f"{', '.join(tied)} {'has' if len(tied) == 1 else 'have'} the same customers "
                f"below: the calls cannot tell them apart, so the outage sits on the most "
                f"upstream protective device, {tree.codes[decision.device_id]}"
            )
        latest_etr = max((o.etr_at for o in outages if o.etr_at is not None), default=None)
        if latest_etr is not None and latest_etr != survivor.etr_at:
            store.set_etr(
                survivor,
                etr_at=latest_etr,
                source="rollup",
                reason="merged outages keep the latest estimate",
                actor=actor,
                now=now,
            )
        store.mark_affected(survivor)
        store.record(
            actor=actor,
            action="outage.rolled_up",
            object_type="outage",
            object_id=survivor.id,
            detail=survivor.explanation,
            at=now,
        )
        moved.append(survivor.id)
    return moved


def build_answer(store: Store, report: ReportLike, settings: OutageSettings) -> ReportAnswer:
    """What the caller is told: classification, outage or planned work, ETR, message.

    The message is stored and shown again to anyone tracking the report (Open311 lists it),
    so it never repeats what the caller typed.
    """
    etr = None
    if report.classification == "planned":
        assert report.planned_outage_id is not None
        planned = store.planned(report.planned_outage_id)
        etr = planned.ends_at
        message = (
            f"Planned work in your area: {planned.reason}. "
            f"Power is planned to be back by {local_time(planned.ends_at, settings)}."
        )
    elif report.classification in ("known", "new", "duplicate") and report.outage_id:
        outage = store.outage(report.outage_id)
        etr = outage.etr_at
        when = f" Expected back by {local_time(etr, settings)}." if etr else ""
        if report.classification == "known":
            message = (
                f"We know about the outage in your area ({outage.customers_affected} customers) "
                f"and are working on it.{when}"
            )
        elif report.classification == "duplicate":
            message = (
                f"We already have your report #{report.duplicate_of_id}; "
                f"no need to call again.{when}"
            )
        else:
            message = (
                f"Thank you: report #{report.id} is registered and we are investigating.{when}"
            )
    elif report.classification == "duplicate":
        message = f"We already have your report #{report.duplicate_of_id}; it is being handled."
    elif report.classification == "unlocated":
        message = (
            f"Report #{report.id} is stored; a dispatcher will locate the address given "
            "and follow up."
        )
    else:
        message = f"Thank you: report #{report.id} is registered and will be looked at."
    return ReportAnswer(
        id=report.id,
        token=report.token,
        classification=report.classification,
        outage_id=report.outage_id,
        planned_outage_id=report.planned_outage_id,
        duplicate_of=report.duplicate_of_id,
        region=store.region_code(report.region_id),
        feeder=store.feeder_code(report.feeder_id),
        etr=etr,
        hazard=report.hazard,
        received_at=report.received_at,
        message=message + (HAZARD_NOTE if report.hazard else ""),
    )
