"""Outage numbers in a batch: provisional while the rules run, drawn in one statement at write.

Dispatchers and customers quote outage numbers, so a batch must not leave gaps in them
(drawing blocks of ids did: outages 1, 33, 65, ... after every group commit). It drew one
number per outage opened instead, a round trip each: 1,023 of them in a storm batch of
10,000 reports, 0.1-0.15 s in process and about a tenth of an HTTP batch's time while four
batches shared the database (bench/RESULTS.md).

Now an outage a batch opens takes a provisional number, ``PROVISIONAL_BASE`` plus the order
it was opened in: above every stored outage (ids are ``integer``), so it sorts after them
and in opening order. Before anything is written, ``number_outages`` draws exactly as many
numbers as were opened, in one statement, and puts them everywhere the provisional ones
went: the outages, the reports and their answers, ETR history and events. Drawn numbers
are ascending and larger than every stored one, so the renumbering keeps order: every
decision the rules took by comparing ids (a roll-up's survivor is the lowest id among
equals; sorted lists of merged outages) is the one the final numbers give.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from outages.intake.batch_state import PROVISIONAL_BASE, MemReport
from outages.intake.batch_store import BatchStore
from outages.schemas import BatchItemError, ReportAnswer


def number_outages(
    store: BatchStore,
    reports: Sequence[MemReport],
    answers: Sequence[ReportAnswer | BatchItemError | None],
) -> None:
    """Give the batch's new outages their numbers, in the store, reports and answers."""
    new = sorted(oid for oid in store.outages_by_id if oid >= PROVISIONAL_BASE)
    if not new:
        return
    store.cur.execute("SELECT nextval('outage_id_seq') FROM generate_series(1, %s)", [len(new)])
    drawn = sorted(int(row[0]) for row in store.cur.fetchall())
    final = dict(zip(new, drawn, strict=True))

    def num(outage_id: int | None) -> int | None:
        return final.get(outage_id, outage_id) if outage_id is not None else None

    store.outages_by_id = {final.get(k, k): o for k, o in store.outages_by_id.items()}
    for outage in store.outages_by_id.values():
        outage.id = final.get(outage.id, outage.id)
        outage.merged_into_id = num(outage.merged_into_id)
        _renumber_detail(outage.explanation, num)
    store.merged_now = {final.get(k, k): final.get(v, v) for k, v in store.merged_now.items()}
    store.etr_rows = [(final.get(row[0], row[0]), *row[1:]) for row in store.etr_rows]
    for event in store.events:
        if event.object_type == "outage":
            event.object_id = final.get(event.object_id, event.object_id)
        _renumber_detail(event.detail, num)
    for report in reports:
        report.outage_id = num(report.outage_id)
        if "outage_id" in report.answer:
            report.answer["outage_id"] = num(report.answer["outage_id"])
    for answer in answers:
        if isinstance(answer, ReportAnswer):
            answer.outage_id = num(answer.outage_id)


def _renumber_detail(detail: dict[str, Any], num: Callable[[int | None], int | None]) -> None:
    """The outage numbers an event's detail or an explanation names (idempotent: a final
    number maps to itself, and a roll-up's event shares its explanation's dict)."""
    if "outage_id" in detail:
        detail["outage_id"] = num(detail["outage_id"])
    if "merged_outages" in detail:
        detail["merged_outages"] = [num(o) for o in detail["merged_outages"]]
