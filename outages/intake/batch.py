"""Batch intake: many reports, the answers filing them one by one would give, written at once.

A batch is admitted, located, loaded, decided and written in five steps:

1. the batch is checked and its idempotency keys locked (``outages.intake.admit``, as a
   single report is); keys already stored replay their stored answers, and the rest are
   located in bulk (``outages.intake.locate_bulk``);
2. every feeder the batch touches is locked (sorted; the single path locks the same
   ``LockSpace.FEEDER`` keys, so the two paths serialize per feeder);
3. the state those reports can meet is loaded with a few set-based queries
   (``outages.intake.batch_store.BatchStore.load``);
4. the shared rules (``outages.intake.rules``) run over that state in memory, in order,
   through ``BatchStore``: the same classification, roll-ups, ETRs and messages;
5. everything changed is written set-based (``outages.intake.batch_write``): COPY for
   reports, outages, affected premises, ETR history and events; one UPDATE each for
   outages and moved reports.

Report ids are drawn from the sequence up front, so answers carry them; outages opened
take provisional numbers until all are drawn in one statement before the write
(``outages.intake.batch_ids``). Both are equal to the single path's up to renumbering.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from outages.exceptions import AddressNotFound
from outages.intake import rules
from outages.intake.admit import admit_batch
from outages.intake.batch_ids import number_outages
from outages.intake.batch_state import MemReport
from outages.intake.batch_store import BatchStore
from outages.intake.batch_write import write_batch
from outages.intake.gc_pause import collector_paused
from outages.intake.locate import Located
from outages.intake.locate_bulk import locate_many
from outages.intake.topology_cache import TopologyCache
from outages.schemas import BatchItemError, BatchReport, ReportAnswer
from outages.settings import OutageSettings

Answer = ReportAnswer | BatchItemError


@dataclass
class Sorting:
    """Which items are answered how: replayed, refused, filed, or a replay of a filed one."""

    out: list[Answer | None]
    filed: list[tuple[int, Located]] = field(default_factory=list)
    # (item, key) of items whose key an earlier filed item of the batch owns.
    replays: list[tuple[int, str]] = field(default_factory=list)
    owner: dict[str, int] = field(default_factory=dict)


def file_batch(
    *,
    session: Session,
    items: Sequence[BatchReport],
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
    is_agent: bool,
    topology: TopologyCache | None = None,
) -> list[ReportAnswer | BatchItemError]:
    """File reports in order with the answers ``file_report`` would give one by one.

    Parameters
    ----------
    session
        The caller's transaction; everything is written in it (or nothing, on error).
    items
        The reports, each with an optional idempotency key. A key already stored, or
        used by an earlier stored item of the batch, replays that answer.
    settings, now, actor, is_agent
        As for ``outages.intake.single.file_report``; every report is received at ``now``.
    topology
        Feeder trees kept from earlier batches (the group writer's), checked against the
        territory's token first; None loads them for this batch alone.

    Returns
    -------
    One entry per item, in order: its ``ReportAnswer``, or a ``BatchItemError`` for a
    report that could not be located (unknown account, unmatched address, point outside
    the territory), which is not stored.
    """
    with collector_paused():  # its objects die with it, by reference count
        keys = [item.idempotency_key for item in items if item.idempotency_key]
        stored = admit_batch(session=session, items=items, keys=keys, is_agent=is_agent)
        session.flush()  # the raw cursor below must see what the ORM holds
        sorting = _sort(session, items, stored, settings=settings, is_agent=is_agent)
        if sorting.filed:
            connection = session.connection().connection.driver_connection
            assert isinstance(connection, psycopg.Connection)
            cursor = connection.cursor()
            reports = _new_reports(cursor, items, sorting.filed, now=now, actor=actor)
            _decide(
                session,
                cursor,
                reports,
                sorting,
                settings=settings,
                now=now,
                actor=actor,
                topology=topology,
            )
    out = sorting.out
    for i, key in sorting.replays:
        out[i] = out[sorting.owner[key]]
    assert all(o is not None for o in out)
    return out  # type: ignore[return-value]


def _sort(
    session: Session,
    items: Sequence[BatchReport],
    stored: dict[str, ReportAnswer],
    *,
    settings: OutageSettings,
    is_agent: bool,
) -> Sorting:
    """Replay stored keys, locate the rest; the first located item with a key owns it."""
    sorting = Sorting(out=[None] * len(items))
    fresh = [
        i
        for i, item in enumerate(items)
        if not (item.idempotency_key and item.idempotency_key in stored)
    ]
    found = locate_many(
        session=session, items=[items[i] for i in fresh], settings=settings, is_agent=is_agent
    )
    where = dict(zip(fresh, found, strict=True))
    for i, item in enumerate(items):
        key = item.idempotency_key
        if key and key in stored:
            sorting.out[i] = stored[key]
        elif key and key in sorting.owner:
            sorting.replays.append((i, key))
        else:
            located = where[i]
            if isinstance(located, InvalidInput):
                sorting.out[i] = _item_error(i, located)
                continue
            if key:
                sorting.owner[key] = i
            sorting.filed.append((i, located))
    return sorting


def _item_error(index: int, error: InvalidInput) -> BatchItemError:
    return BatchItemError(
        index=index,
        status_code=422,
        error=type(error).__name__,
        detail=str(error),
        suggestions=error.suggestions if isinstance(error, AddressNotFound) else [],
    )


def _new_reports(
    cursor: psycopg.Cursor[Any],
    items: Sequence[BatchReport],
    filed: Sequence[tuple[int, Located]],
    *,
    now: dt.datetime,
    actor: str,
) -> list[MemReport]:
    """The filed items as reports in memory, with ids drawn from the sequence in order."""
    cursor.execute("SELECT nextval('report_id_seq') FROM generate_series(1, %s)", [len(filed)])
    ids = sorted(r[0] for r in cursor.fetchall())
    reports = []
    tokens = rules.tracking_tokens(len(filed))
    for report_id, token, (i, located) in zip(ids, tokens, filed, strict=True):
        item = items[i]
        columns = rules.report_fields(
            data=item,
            located_by=located.located_by,
            premise_id=located.premise_id,
            region_id=located.region_id,
            feeder_id=located.feeder_id,
            now=now,
            actor=actor,
            idempotency_key=item.idempotency_key,
            token=token,
        )
        reports.append(
            MemReport(
                id=report_id,
                received_at=now,
                category=columns["category"],
                hazard=columns["hazard"],
                caller_phone=columns["caller_phone"],
                premise_id=located.premise_id,
                region_id=located.region_id,
                feeder_id=located.feeder_id,
                token=columns["token"],
                columns=columns,
                lon=located.lon,
                lat=located.lat,
            )
        )
    return reports


def _decide(
    session: Session,
    cursor: psycopg.Cursor[Any],
    reports: Sequence[MemReport],
    sorting: Sorting,
    *,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
    topology: TopologyCache | None,
) -> None:
    """Load, run the rules report by report in order, write; answers into ``sorting.out``."""
    store = BatchStore(session, cursor, settings, now, topology)
    store.load([(r, loc) for r, (_, loc) in zip(reports, sorting.filed, strict=True)])
    for report, (i, located) in zip(reports, sorting.filed, strict=True):
        sorting.out[i] = rules.file_located(
            store,
            report,
            rules.Where(proxy_premise_id=located.proxy_premise_id, address=located.address),
            settings=settings,
            now=now,
            actor=actor,
        )
        store.register(report)
    number_outages(store, reports, [sorting.out[i] for i, _ in sorting.filed])
    write_batch(store, reports)
    # The ORM did not see these writes: objects it holds must be read again.
    session.expire_all()
