"""Helpers for intake tests: a frozen clock, filing by account, premises of the demo grid."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.models import Device, Premise
from outages.intake.single import file_report
from outages.schemas import ReportAnswer, ReportCreate
from outages.topology import load_feeder_tree
from web.settings import Settings

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)


def file(
    session: Session,
    settings: Settings,
    *,
    account: str,
    category: str = "no_power",
    at: dt.datetime = NOW,
    key: str | None = None,
    phone: str | None = None,
) -> ReportAnswer:
    """File a report for a premise's account, as the public web channel would."""
    return file_report(
        session=session,
        data=ReportCreate(account=account, category=category, phone=phone),  # type: ignore[arg-type]
        settings=settings,
        now=at,
        actor="public",
        is_agent=False,
        idempotency_key=key,
    )


def premises_of(session: Session, transformer_id: int) -> list[Premise]:
    return list(
        session.scalars(
            select(Premise).where(Premise.transformer_id == transformer_id).order_by(Premise.id)
        )
    )


def fuse_with_transformers(session: Session, minimum: int = 2) -> tuple[Device, list[int]]:
    """A fuse or recloser with at least ``minimum`` transformers (with premises) below it."""
    for device in session.scalars(
        select(Device).where(Device.kind.in_(("fuse", "recloser"))).order_by(Device.id)
    ):
        tree = load_feeder_tree(session=session, feeder_id=device.feeder_id)
        below = sorted(
            d
            for d in tree.below(device.id)
            if tree.kinds[d] == "transformer" and tree.direct_customers.get(d, 0) >= 3
        )
        if len(below) >= minimum:
            return device, below
    pytest.fail("the demo grid has no fuse with enough transformers below it")
