"""Writing what a batch changed, set-based, in an order the foreign keys accept.

Outages first (COPY for new ones, one UPDATE per set of changed columns for loaded ones),
then the reports of merged outages moved to their survivors, affected premises, ETR
history, the batch's reports and its events (COPY each), and last the outage areas.
The ORM sees none of this: ``outages.intake.batch.file_batch`` expires what it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from outages.intake.batch_state import (
    OUTAGE_COLUMNS,
    UPDATABLE,
    MemOutage,
    MemReport,
    outage_values,
)
from outages.intake.batch_store import BatchStore
from outages.intake.pg_text import int_array, json_text
from outages.intake.premise_points import hull_wkbs
from outages.intake.session_store import HULL_BUFFER_SQL

_REPORT_COPY = (
    "COPY report (id, received_at, channel, category, description, hazard, address_text, "
    "caller_phone, caller_account, located_by, premise_id, region_id, feeder_id, "
    "classification, outage_id, planned_outage_id, duplicate_of_id, status, "
    "idempotency_key, filed_by, answer, geom, token) FROM STDIN"
)


def write_batch(store: BatchStore, reports: Sequence[MemReport]) -> None:
    """Everything the batch changed, in the order of the module docstring."""
    changed = [o for o in store.outages_by_id.values() if o.rows is not None or o.is_new]
    _write_outages(store, [o for o in changed if o.is_new])
    old = [o for o in store.outages_by_id.values() if not o.is_new]
    _update_outages(store, old)
    _move_merged(store, old)
    _write_rows(store, changed, reports)
    _write_hulls(store, [o for o in changed if o.refreshed and o.rows])


def _write_outages(store: BatchStore, new: Sequence[MemOutage]) -> None:
    if new:
        with store.cur.copy(f"COPY outage ({OUTAGE_COLUMNS}) FROM STDIN") as copy:
            for o in new:
                copy.write_row(_outage_row(o))


def _update_outages(store: BatchStore, old: Sequence[MemOutage]) -> None:
    # Only the columns that changed: a dispatcher may confirm an outage meanwhile.
    updates: dict[tuple[str, ...], list[list[Any]]] = {}
    for o in old:
        now_values = outage_values(o)
        loaded = store.loaded_values[o.id]
        columns = tuple(c for c in UPDATABLE if now_values[c] != loaded[c])
        if columns:
            updates.setdefault(columns, []).append([*(now_values[c] for c in columns), o.id])
    for columns, params in updates.items():
        assignments = ", ".join(
            f"{c} = %s::jsonb" if c == "explanation" else f"{c} = %s" for c in columns
        )
        store.cur.executemany(f"UPDATE outage SET {assignments} WHERE id = %s", params)


def _move_merged(store: BatchStore, old: Sequence[MemOutage]) -> None:
    """Loaded outages merged by this batch: no affected premises, reports to the survivor."""
    gone = sorted(o.id for o in old if o.id in store.merged_now)
    if not gone:
        return
    cur = store.cur
    cur.execute("DELETE FROM outage_premise WHERE outage_id = ANY(%s)", [int_array(gone)])
    moves = [(oid, store.resolve(oid)) for oid in gone]
    cur.execute(
        "UPDATE report r SET outage_id = m.survivor "
        "FROM unnest(%s::int[], %s::int[]) AS m(merged, survivor) "
        "WHERE r.outage_id = m.merged",
        [[m for m, _ in moves], [s for _, s in moves]],
    )


def _write_rows(
    store: BatchStore, changed: Sequence[MemOutage], reports: Sequence[MemReport]
) -> None:
    """Affected premises, ETR history, the reports and the events, one COPY each."""
    cur = store.cur
    with cur.copy("COPY outage_premise (outage_id, premise_id) FROM STDIN") as copy:
        for o in changed:
            if o.id not in store.merged_now:
                for pid in sorted(o.added):
                    copy.write_row((o.id, pid))
    if store.etr_rows:
        with cur.copy(
            "COPY etr_change (outage_id, changed_at, previous_etr_at, etr_at, source, "
            "reason, actor) FROM STDIN"
        ) as copy:
            for row in store.etr_rows:
                copy.write_row(row)
    with cur.copy(_REPORT_COPY) as copy:
        for r in reports:
            copy.write_row(_report_row(r, store.resolve(r.outage_id)))
    with cur.copy(
        "COPY event (occurred_at, actor, action, object_type, object_id, detail) FROM STDIN"
    ) as copy:
        for e in store.events:
            copy.write_row(
                (e.at, e.actor, e.action, e.object_type, str(e.object_id), json_text(e.detail))
            )


def _write_hulls(store: BatchStore, hulls: Sequence[MemOutage]) -> None:
    """The area of each outage whose premises changed, from its premises still dark: their
    convex hull drawn in memory (``outages.intake.premise_points``), buffered by PostGIS
    as ``HULL_SQL`` buffers it. An outage with none dark keeps its area, as in SQL."""
    drawn = [
        (o.id, [pid for pid, (restored, _) in (o.rows or {}).items() if not restored])
        for o in hulls
    ]
    drawn = [(oid, pids) for oid, pids in drawn if pids]
    if not drawn:
        return
    wkbs = hull_wkbs([pids for _, pids in drawn], store.points, store.cur)
    store.cur.execute(
        f"UPDATE outage o SET geom = {HULL_BUFFER_SQL.format(hull='ST_GeomFromWKB(h.wkb, 4326)')} "
        "FROM unnest(%s::int[], %s::bytea[]) AS h(o, wkb) WHERE o.id = h.o",
        [[oid for oid, _ in drawn], wkbs],
    )


def _report_row(r: MemReport, outage_id: int | None) -> tuple[Any, ...]:
    c = r.columns
    return (
        r.id,
        r.received_at,
        c["channel"],
        r.category,
        c["description"],
        r.hazard,
        c["address_text"],
        r.caller_phone,
        c["caller_account"],
        c["located_by"],
        r.premise_id,
        r.region_id,
        r.feeder_id,
        r.classification,
        outage_id,
        r.planned_outage_id,
        r.duplicate_of_id,
        "open",
        c["idempotency_key"],
        c["filed_by"],
        json_text(r.answer),
        None if r.lon is None else f"SRID=4326;POINT({r.lon!r} {r.lat!r})",
        r.token,
    )


def _outage_row(o: MemOutage) -> tuple[Any, ...]:
    return (
        o.id,
        o.status,
        o.device_id,
        o.feeder_id,
        o.region_id,
        o.cause,
        o.hazard,
        o.customers_affected,
        o.critical_affected,
        o.started_at,
        o.etr_at,
        o.confirmed_at,
        o.merged_into_id,
        json_text(o.explanation),
    )
