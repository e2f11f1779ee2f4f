"""Fault reports: file one, track one, and the dispatcher's unlocated queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from pydantic import TypeAdapter

from geo.exceptions import Forbidden
from geo.models import User
from outages.batch import file_batch
from outages.models import Report
from outages.schemas import (
    BatchItemError,
    ReportAnswer,
    ReportBatch,
    ReportCreate,
    ReportRead,
    Where,
)
from outages.service import file_report, get_report, locate_unlocated, read_report
from web.deps import NowDep, SessionDep, SettingsDep, optional_user, require_role

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Retries with the same key return the first answer and store one report.",
    ),
]


@router.post("", response_model=ReportAnswer, status_code=201)
def post_report(
    data: ReportCreate,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: Annotated[User | None, Depends(optional_user)],
    idempotency_key: IdempotencyKey = None,
) -> ReportAnswer:
    """File a fault report; answers with its classification, outage and ETR."""
    is_agent = _is_agent(user)
    located_elsewhere = data.address or data.lon is not None or data.account
    if data.phone and not located_elsewhere and not is_agent:
        msg = "finding a premise by phone number is for hotline agents: give an address or account"
        raise Forbidden(msg)
    answer = file_report(
        session=session,
        data=data,
        settings=settings,
        now=now,
        actor=user.username if user else "public",
        is_agent=is_agent,
        idempotency_key=idempotency_key,
    )
    return answer


BatchAnswers = list[ReportAnswer | BatchItemError]
_batch_answers = TypeAdapter(BatchAnswers)


def _is_agent(user: User | None) -> bool:
    return user is not None and user.role in ("agent", "dispatcher", "admin")


@router.post("/batch", response_model=BatchAnswers)
def post_batch(
    batch: ReportBatch,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: Annotated[User | None, Depends(optional_user)],
) -> Response:
    """File up to 10,000 reports at once; answers in order, as if filed one by one."""
    is_agent = _is_agent(user)
    by_phone = [
        i
        for i, data in enumerate(batch.reports)
        if data.phone and not (data.address or data.lon is not None or data.account)
    ]
    if by_phone and not is_agent:
        shown = ", ".join(str(i) for i in by_phone[:20])
        msg = (
            "finding a premise by phone number is for hotline agents: give an address or "
            f"account (reports {shown}{' and more' if len(by_phone) > 20 else ''})"
        )
        raise Forbidden(msg)
    answers = file_batch(
        session=session,
        items=batch.reports,
        settings=settings,
        now=now,
        actor=user.username if user else "public",
        is_agent=is_agent,
    )
    # Serialized once by pydantic-core: 10,000 answers need no second validation.
    return Response(_batch_answers.dump_json(answers), media_type="application/json")


@router.get("/{report_id}", response_model=ReportRead)
def get_one(report_id: int, session: SessionDep, settings: SettingsDep) -> ReportRead:
    """Track a report by its number (no personal data)."""
    return read_report(
        session=session, report=get_report(session=session, report_id=report_id), settings=settings
    )


@router.get(
    "",
    response_model=list[ReportRead],
    dependencies=[Depends(require_role("dispatcher", "agent"))],
)
def list_reports(
    session: SessionDep,
    settings: SettingsDep,
    located_by: Annotated[str | None, Query(description="e.g. unlocated for the queue")] = None,
    classification: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ReportRead]:
    """Recent reports, newest first, filtered by classification or located_by."""
    from sqlalchemy import select

    query = select(Report).order_by(Report.received_at.desc()).limit(limit)
    if located_by:
        query = query.where(Report.located_by == located_by)
    if classification:
        query = query.where(Report.classification == classification)
    return [
        read_report(session=session, report=r, settings=settings) for r in session.scalars(query)
    ]


@router.post("/{report_id}/locate", response_model=ReportAnswer)
def locate_report_by_hand(
    report_id: int,
    where: Where,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: Annotated[User, Depends(require_role("dispatcher"))],
) -> ReportAnswer:
    """Place a report from the unlocated queue; it is then classified."""
    report = get_report(session=session, report_id=report_id)
    answer = locate_unlocated(
        session=session, report=report, where=where, settings=settings, now=now, actor=user.username
    )
    return answer
