"""Concurrent intake through the real server: one report per key, one outage per fault."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from outages.models import Report
from tests.outages.helpers import fuse_with_transformers, premises_of


def _post(base: str, body: dict[str, object], headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=60) as http:
        return http.post("/api/v1/reports", json=body, headers=headers)


def test_50_identical_requests_with_one_key_store_one_report(
    live_server: str, committed_intake: Engine
) -> None:
    with Session(committed_intake) as session:
        account = session.execute(
            text("SELECT account FROM premise ORDER BY id LIMIT 1")
        ).scalar_one()
    body = {"account": account, "category": "no_power"}
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(
            pool.map(
                lambda _: _post(live_server, body, {"Idempotency-Key": "storm-retry-1"}), range(50)
            )
        )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len({r.text for r in responses}) == 1, "every retry gets the first answer verbatim"
    with Session(committed_intake) as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 1


def test_20_concurrent_reports_below_one_fuse_make_one_outage(
    live_server: str, committed_intake: Engine
) -> None:
    with Session(committed_intake) as session:
        _, transformers = fuse_with_transformers(session)
        accounts = [p.account for t in transformers for p in premises_of(session, t)][:20]
    assert len(accounts) == 20
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(
            pool.map(
                lambda a: _post(live_server, {"account": a, "category": "no_power"}, {}), accounts
            )
        )
    assert {r.status_code for r in responses} == {201}
    with Session(committed_intake) as session:
        active = (
            session.execute(
                text("SELECT id FROM outage WHERE status IN ('suspected', 'confirmed')")
            )
            .scalars()
            .all()
        )
        assert len(active) == 1, f"one fault, one outage: got {active}"
        attached = session.execute(text("SELECT DISTINCT outage_id FROM report")).scalars().all()
        assert attached == active
        assert session.scalar(select(func.count()).select_from(Report)) == 20
