"""Admission to intake: who may file what, which filings are replays, and the locks taken.

Both front doors, one report (``outages.intake.single``) and a batch
(``outages.intake.batch``), admit through here in the same order: the filer's rights
first, then the idempotency keys (locked, and those already stored replay their answer),
and, once the reports are located, their feeders. A single report is checked as a batch of
one; only the messages differ, as a batch names the refused items by index.

Locks are transaction-scoped advisory locks in the ``geo.locks`` namespaces, taken in
ascending order, so that batches and single reports cannot deadlock each other:

- ``LockSpace.IDEMPOTENCY``, one per key: a retry waits for the first attempt to commit
  and then replays its stored answer;
- ``LockSpace.FEEDER``, one per feeder a report is on or may meet an outage on: reports
  below one device cannot race each other into separate outages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geo.exceptions import Forbidden, InvalidInput
from geo.locks import LockSpace
from outages.models import Report
from outages.schemas import MAX_BATCH_REPORTS, BatchReport, ReportAnswer, ReportCreate, Where

# The roles that work the hotline: they may find premises by phone and file unlocated reports.
AGENT_ROLES = ("agent", "dispatcher", "admin")
# How many refused items a batch's message names before it counts the rest.
NAMED_ITEMS = 20


def is_agent(role: str | None) -> bool:
    """Whether a user of this role (None: no login) files as a hotline agent."""
    return role in AGENT_ROLES


def finds_by_phone(item: Where) -> bool:
    """Whether the phone number is the only way given to find the premise."""
    return bool(item.phone) and not (item.address or item.lon is not None or item.account)


def check_phone_lookup(items: Sequence[Where], *, is_agent: bool, numbered: bool) -> None:
    """Finding a premise by phone number is for hotline agents.

    A public caller who could would learn whose premise a number belongs to. The doors
    (the API routes) check it before filing; in-process callers such as the storm
    simulator's SMS gateway are trusted with the lookup and file directly.
    """
    if is_agent:
        return
    refused = [i for i, item in enumerate(items) if finds_by_phone(item)]
    if not refused:
        return
    msg = "finding a premise by phone number is for hotline agents: give an address or account"
    if numbered:
        shown = ", ".join(str(i) for i in refused[:NAMED_ITEMS])
        msg += f" (reports {shown}{' and more' if len(refused) > NAMED_ITEMS else ''})"
    raise Forbidden(msg)


def check_unlocated(items: Sequence[ReportCreate], *, is_agent: bool, numbered: bool) -> None:
    """Only hotline agents may file a report no premise is found for (the unlocated queue)."""
    if is_agent:
        return
    refused = [i for i, item in enumerate(items) if item.allow_unlocated]
    if not refused:
        return
    msg = "only hotline agents may file unlocated reports: log in as an agent"
    if numbered:
        msg += f" (reports {_indexes(refused)})"
    raise InvalidInput(msg)


def _indexes(indexes: Sequence[int]) -> str:
    shown = ", ".join(str(i) for i in indexes[:NAMED_ITEMS])
    rest = len(indexes) - NAMED_ITEMS
    return shown + (f" and {rest} more" if rest > 0 else "")


def check_batch_size(items: Sequence[ReportCreate]) -> None:
    """1 to ``MAX_BATCH_REPORTS`` reports: ``ReportBatch`` checks it for HTTP, this for the rest."""
    if not items:
        msg = "the batch is empty: send 1 to 10000 reports"
        raise InvalidInput(msg)
    if len(items) > MAX_BATCH_REPORTS:
        msg = f"the batch has {len(items)} reports: send at most {MAX_BATCH_REPORTS} per request"
        raise InvalidInput(msg)


def admit_report(
    *, session: Session, data: ReportCreate, is_agent: bool, idempotency_key: str | None
) -> ReportAnswer | None:
    """Check one report and lock its key; the stored answer when it is a replay (a key
    stored for a different report is refused)."""
    check_unlocated([data], is_agent=is_agent, numbered=False)
    if not idempotency_key:
        return None
    stored = _stored(session, [idempotency_key]).get(idempotency_key)
    if stored is None:
        return None
    if stored.request != request_of(data):
        msg = (
            f"Idempotency-Key {idempotency_key!r} was used for a different report "
            f"(#{stored.answer.id}): a retry must send the same report; a new report "
            "needs a new key"
        )
        raise InvalidInput(msg)
    return stored.answer


def admit_batch(
    *, session: Session, items: Sequence[BatchReport], keys: Iterable[str], is_agent: bool
) -> dict[str, ReportAnswer]:
    """Check a batch, refused whole for what no item may do; lock its keys and return the
    answers already stored under them (refused whole when one names a different report)."""
    check_batch_size(items)
    check_unlocated(items, is_agent=is_agent, numbered=True)
    stored = _stored(session, keys)
    reused = [
        i
        for i, item in enumerate(items)
        if item.idempotency_key in stored
        and stored[item.idempotency_key].request != request_of(item)
    ]
    if reused:
        msg = (
            "idempotency keys already used for different reports: a retry must send the "
            f"same report, a new report needs a new key (reports {_indexes(reused)})"
        )
        raise InvalidInput(msg)
    return {key: s.answer for key, s in stored.items()}


Request = tuple[object, ...]


def request_of(data: ReportCreate) -> Request:
    """What a retry must repeat: the report as stored (a point is kept as given)."""
    point = (data.lon, data.lat) if data.lon is not None and data.lat is not None else None
    return (
        data.channel,
        data.category,
        data.description,
        data.address,
        data.phone,
        data.account,
        point,
    )


@dataclass(frozen=True)
class _Stored:
    answer: ReportAnswer
    request: Request


def _stored(session: Session, keys: Iterable[str]) -> dict[str, _Stored]:
    """Lock the keys and read each stored report's answer and the request it came from."""
    wanted = _lock_keys(session, keys)
    if not wanted:
        return {}
    rows = session.execute(
        select(
            Report.idempotency_key,
            Report.answer,
            Report.channel,
            Report.category,
            Report.description,
            Report.address_text,
            Report.caller_phone,
            Report.caller_account,
            Report.located_by,
            func.ST_X(Report.geom),
            func.ST_Y(Report.geom),
        ).where(Report.idempotency_key.in_(wanted))
    )
    out = {}
    for key, answer, *fields, located_by, lon, lat in rows:
        point = (lon, lat) if located_by == "point" else None
        out[key] = _Stored(ReportAnswer.model_validate(answer), (*fields, point))
    return out


def stored_answers(*, session: Session, keys: Iterable[str]) -> dict[str, ReportAnswer]:
    """Lock the keys (by ascending hash) and read the answers stored under them."""
    wanted = _lock_keys(session, keys)
    if not wanted:
        return {}
    rows = session.execute(
        select(Report.idempotency_key, Report.answer).where(Report.idempotency_key.in_(wanted))
    )
    return {key: ReportAnswer.model_validate(answer) for key, answer in rows if key}


def _lock_keys(session: Session, keys: Iterable[str]) -> list[str]:
    """Lock the keys by ascending hash (retries of one key wait for the first attempt)."""
    wanted = sorted(set(keys))
    if not wanted:
        return wanted
    session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(:ns, k)) FROM "
            "(SELECT DISTINCT hashtext(x) AS k FROM unnest(CAST(:keys AS text[])) x "
            "ORDER BY 1) s"
        ),
        {"ns": int(LockSpace.IDEMPOTENCY), "keys": wanted},
    )
    return wanted


def lock_feeders(*, session: Session, feeder_ids: Iterable[int]) -> None:
    """Lock the feeders in ascending order (``unnest`` keeps the array's order)."""
    wanted = sorted(set(feeder_ids))
    if not wanted:
        return
    session.execute(
        text("SELECT count(pg_advisory_xact_lock(:ns, f)) FROM unnest(CAST(:fs AS int[])) f"),
        {"ns": int(LockSpace.FEEDER), "fs": wanted},
    )
