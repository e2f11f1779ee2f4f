"""Fault reports: file one, track one, and the dispatcher's unlocated queue."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import TypeAdapter

from geo.models import User
from geo.types import IdempotencyKeyText, Text
from outages import reports
from outages.intake import admit
from outages.intake.batch import file_batch
from outages.intake.group_commit import Pending, grouped_answer
from outages.intake.single import file_report, locate_unlocated
from outages.schemas import (
    BatchItemError,
    Classification,
    ReportAnswer,
    ReportBatch,
    ReportCreate,
    ReportRead,
    Where,
)
from web.deps import (
    GroupWriterDep,
    NowDep,
    SessionDep,
    SettingsDep,
    ValidReport,
    background_session,
    optional_reader,
    optional_user,
    require_role,
)

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
# A report the group writer hands back came in on the intake lane, which holds up to 200
# per worker and no threads: filed alone, at most this many at once take a thread (and a
# pooled connection), so a failed group of 200 cannot take every thread the other routes
# need to close their sessions (web/admission.py).
FILED_ALONE = anyio.CapacityLimiter(4)
LocatedBy = Literal["address", "point", "account", "phone", "unlocated"]
IdempotencyKey = Annotated[
    IdempotencyKeyText | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Retries with the same key return the first answer and store one report.",
    ),
]


@router.post("", response_model=ReportAnswer, status_code=201)
async def post_report(
    request: Request,
    data: ReportCreate,
    settings: SettingsDep,
    now: NowDep,
    user: Annotated[User | None, Depends(optional_reader)],
    writer: GroupWriterDep,
    idempotency_key: IdempotencyKey = None,
) -> ReportAnswer:
    """File a fault report; answers with its classification, outage and ETR.

    async: in a storm, a request waits for its group's commit on the event loop rather
    than in a pool thread, and the route's dependencies cost no thread hops. A report the
    group hands back (or every report, without a writer) is filed alone in a unit of work
    of its own, committed before the answer is sent, as ``SessionDep`` does: in one of
    ``FILED_ALONE``'s threads when it came in on the intake lane.
    """
    is_agent = admit.is_agent(user.role if user else None)
    admit.check_phone_lookup([data], is_agent=is_agent, numbered=False)
    actor = user.username if user else "public"
    if writer is not None:
        pending = Pending(data, idempotency_key, actor, is_agent, now)
        answer = await grouped_answer(writer, pending)
        if answer is not None:
            return answer

    def alone() -> ReportAnswer:
        with background_session(request.app) as session:
            return file_report(
                session=session,
                data=data,
                settings=settings,
                now=now,
                actor=actor,
                is_agent=is_agent,
                idempotency_key=idempotency_key,
            )

    if writer is None:
        return await run_in_threadpool(alone)
    return await anyio.to_thread.run_sync(alone, limiter=FILED_ALONE)


BatchAnswers = list[ReportAnswer | BatchItemError]
_batch_answers = TypeAdapter(BatchAnswers)


@router.post("/batch", response_model=BatchAnswers)
def post_batch(
    batch: ReportBatch,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: Annotated[User | None, Depends(optional_user)],
    writer: GroupWriterDep,
) -> Response:
    """File up to 10,000 reports at once; answers in order, as if filed one by one.

    The feeder trees come from a copy of the group writer's topology (warm from its start)
    rather than from the database: in a storm, loading them was a third of a batch's time.
    """
    is_agent = admit.is_agent(user.role if user else None)
    admit.check_phone_lookup(batch.reports, is_agent=is_agent, numbered=True)
    answers = file_batch(
        session=session,
        items=batch.reports,
        settings=settings,
        now=now,
        actor=user.username if user else "public",
        is_agent=is_agent,
        topology=writer.topology.copy() if writer is not None else None,
    )
    # Serialized once by pydantic-core: 10,000 answers need no second validation.
    return Response(_batch_answers.dump_json(answers), media_type="application/json")


@router.get("/track/{token}", response_model=ReportRead)
def track(
    token: Annotated[Text, Path(min_length=1, max_length=64)],
    session: SessionDep,
    settings: SettingsDep,
) -> ReportRead:
    """Track a report by its tracking code (no personal data, no address)."""
    report = reports.get_report_by_token(session=session, token=token)
    return reports.public_view(
        reports.read_report(session=session, report=report, settings=settings)
    )


@router.get(
    "/{report_id}",
    response_model=ReportRead,
    dependencies=[Depends(require_role("dispatcher", "agent"))],
)
def get_one(report: ValidReport, session: SessionDep, settings: SettingsDep) -> ReportRead:
    """One report by its number, for staff (numbers are sequential: the public uses tokens)."""
    return reports.read_report(session=session, report=report, settings=settings)


@router.get(
    "",
    response_model=list[ReportRead],
    dependencies=[Depends(require_role("dispatcher", "agent"))],
)
def list_reports(
    session: SessionDep,
    settings: SettingsDep,
    located_by: Annotated[LocatedBy | None, Query(description="unlocated for the queue")] = None,
    classification: Annotated[Classification | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ReportRead]:
    """Recent reports, newest first, filtered by classification or located_by."""
    query = reports.ReportQuery(located_by=located_by, classification=classification, limit=limit)
    return reports.list_reports(session=session, query=query, settings=settings)


@router.post("/{report_id}/locate", response_model=ReportAnswer)
def locate_report_by_hand(
    user: Annotated[User, Depends(require_role("dispatcher"))],
    where: Where,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    report: ValidReport,
) -> ReportAnswer:
    """Place a report from the unlocated queue; it is then classified."""
    return locate_unlocated(
        session=session, report=report, where=where, settings=settings, now=now, actor=user.username
    )
