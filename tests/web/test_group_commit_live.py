"""Group commit and the region index in a served app, on committed data.

Concurrent reports are answered after their group's commit and every answer is stored; a
new outage is seen by the very next report (classification reads the database under the
feeder locks, never a cache); the region index reloads on NOTIFY; a database restart in
the middle of a stream answers 503 or 201, and every 201 is stored.
"""

from __future__ import annotations

import gc
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from geo.cluster import Cluster
from geo.locks import LockSpace
from geo.models import Device, Premise
from outages.intake import batch_store
from outages.service import open_outage
from tests.outages.helpers import NOW
from web.main import create_app
from web.serve import uvicorn_options
from web.settings import Settings

Served = tuple[str, Any]


@pytest.fixture
def served(settings: Settings, committed_intake: Engine) -> Iterator[Served]:
    grouped = settings.model_copy(update={"intake_group_commit": True, "region_quotas": True})
    app = create_app(grouped)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="critical", **uvicorn_options(grouped))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", app
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _accounts(engine: Engine, n: int) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(Premise.account).order_by(Premise.id).limit(n)))


def _stored(engine: Engine, ids: list[int]) -> set[int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id FROM report WHERE id = ANY(:ids)"), {"ids": ids})
        return {int(r[0]) for r in rows}


def test_concurrent_reports_are_grouped_and_every_answer_is_stored(
    served: Served, committed_intake: Engine
) -> None:
    base, app = served
    accounts = _accounts(committed_intake, 60)

    def post(account: str) -> httpx.Response:
        body = {"account": account, "category": "no_power"}
        return httpx.post(f"{base}/api/v1/reports", json=body, timeout=30)

    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(post, accounts))
    assert [a.status_code for a in answers] == [201] * len(accounts)
    ids = [a.json()["id"] for a in answers]
    assert _stored(committed_intake, ids) == set(ids)
    stats = app.state.group_writer.stats
    assert stats.grouped == len(accounts) and stats.failed_groups == 0
    assert stats.groups <= len(accounts)


def test_a_storm_of_reports_waits_for_one_group_not_for_the_main_slots(
    served: Served, committed_intake: Engine
) -> None:
    """While the writer is held up, more reports come in than the app's 24 main slots: on
    the intake lane they all reach the writer and its next group writes them together (on
    the main lane at most 23 could be waiting and the rest took turns with the writer)."""
    base, app = served
    writer = app.state.group_writer
    with Session(committed_intake) as session:
        rows = session.execute(
            select(Premise.account, Premise.feeder_id).order_by(Premise.id).limit(90)
        ).all()
    first_account, feeder = rows[0]
    others = [account for account, _ in rows[1:]]
    held = committed_intake.connect()
    lock = {"ns": int(LockSpace.FEEDER), "f": feeder}
    held.execute(text("SELECT pg_advisory_lock(:ns, :f)"), lock)

    def post(account: str) -> httpx.Response:
        body = {"account": account, "category": "no_power"}
        return httpx.post(f"{base}/api/v1/reports", json=body, timeout=60)

    with ThreadPoolExecutor(len(rows)) as pool:
        blocked = pool.submit(post, first_account)
        time.sleep(0.3)  # it reaches the writer's queue (or waits there while the writer warms)
        deadline = time.monotonic() + 20
        while writer.queued and time.monotonic() < deadline:
            time.sleep(0.02)  # then the writer takes it and waits for the feeder's lock
        storm = [pool.submit(post, account) for account in others]
        while writer.queued < len(others) and time.monotonic() < deadline:
            time.sleep(0.02)
        queued = writer.queued
        held.execute(text("SELECT pg_advisory_unlock_all()"))
        held.close()
        answers = [blocked.result(), *(f.result() for f in storm)]
    assert queued == len(others)
    assert [a.status_code for a in answers] == [201] * len(rows)
    assert writer.stats.largest == len(others) > app.state.settings.max_inflight_requests
    ids = [a.json()["id"] for a in answers]
    assert _stored(committed_intake, ids) == set(ids)


def test_a_new_outage_is_seen_by_the_next_report(
    served: Served, committed_intake: Engine, settings: Settings
) -> None:
    base, _ = served
    with Session(committed_intake) as session, session.begin():
        premise = session.scalars(
            select(Premise).where(Premise.transformer_id.is_not(None)).order_by(Premise.id)
        ).first()
        assert premise is not None
        device = session.get(Device, premise.transformer_id)
        assert device is not None
        outage = open_outage(
            session=session,
            device_code=device.code,
            cause="storm",
            confirmed=True,
            settings=settings,
            now=NOW,
            actor="dispatcher",
        )
        outage_id, account = outage.id, premise.account
    answer = httpx.post(
        f"{base}/api/v1/reports", json={"account": account, "category": "no_power"}, timeout=30
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["classification"] == "known"
    assert answer.json()["outage_id"] == outage_id


def test_a_batch_files_with_the_warm_writers_trees_and_loads_none(
    served: Served, committed_intake: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch route takes a copy of the group writer's topology, preloaded when the
    writer started: a batch of callers on every feeder reads no device tree."""
    base, app = served
    writer = app.state.group_writer
    deadline = time.monotonic() + 30
    while writer.stats.warmed_feeders == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writer.stats.warmed_feeders > 0, "the writer did not preload the territory"
    loads: list[list[int]] = []
    real = batch_store.load_feeder_trees

    def counting(*, session: Session, feeder_ids: list[int]) -> Any:
        loads.append(list(feeder_ids))
        return real(session=session, feeder_ids=feeder_ids)

    monkeypatch.setattr(batch_store, "load_feeder_trees", counting)
    with Session(committed_intake) as session:
        rows = session.execute(
            select(Premise.feeder_id, Premise.account)
            .where(Premise.transformer_id.is_not(None))
            .order_by(Premise.feeder_id, Premise.id)
        )
        # The first premise of each feeder: later rows of a feeder overwrite, so go backwards.
        accounts = list(dict(reversed([tuple(r) for r in rows.all()])).values())
    assert len(accounts) > 1
    body = {"reports": [{"account": a, "category": "no_power"} for a in accounts]}
    answer = httpx.post(f"{base}/api/v1/reports/batch", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    assert [a["classification"] for a in answer.json()] == ["new"] * len(accounts)
    assert loads == []


def test_the_region_index_reloads_when_the_territory_changes(
    served: Served, committed_intake: Engine
) -> None:
    _, app = served
    index = app.state.region_index
    assert index.lookup is not None
    loads = index.loads
    with committed_intake.begin() as conn:
        region = conn.execute(text("SELECT id, code FROM region ORDER BY id LIMIT 1")).one()
        conn.execute(
            text(
                "INSERT INTO premise (account, address, address_norm, street_norm, house_norm, "
                "region_id, geom) SELECT 'NOTIFY-1', 'x', 'x', 'x', '1', :r, geom FROM premise "
                "ORDER BY id LIMIT 1"
            ),
            {"r": region.id},
        )
    try:
        deadline = time.monotonic() + 10
        while index.lookup.of_account("NOTIFY-1") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert index.lookup.of_account("NOTIFY-1") == region.code
        assert index.loads > loads
    finally:
        with committed_intake.begin() as conn:
            conn.execute(text("DELETE FROM premise WHERE account = 'NOTIFY-1'"))


def test_a_database_restart_mid_stream_answers_503_or_201_and_201s_are_stored(
    served: Served, committed_intake: Engine, pg_cluster: Cluster
) -> None:
    base, _ = served
    accounts = _accounts(committed_intake, 40)
    answers: list[tuple[str, int, dict[str, Any]]] = []
    stop = threading.Event()
    lock = threading.Lock()

    def stream(worker: int) -> None:
        n = 0
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                key = f"restart-{worker}-{n}"
                body = {"account": accounts[(worker * 7 + n) % len(accounts)], "category": "other"}
                try:
                    r = client.post(
                        f"{base}/api/v1/reports", json=body, headers={"Idempotency-Key": key}
                    )
                except httpx.TransportError:
                    continue
                with lock:
                    answers.append((key, r.status_code, r.json()))
                n += 1
                time.sleep(0.01)

    threads = [threading.Thread(target=stream, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    pg_cluster.stop()
    time.sleep(1.5)
    pg_cluster.start()
    time.sleep(3.0)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    statuses = {status for _, status, _ in answers}
    assert statuses <= {201, 503}, statuses
    assert 503 in statuses  # the restart was seen
    accepted = [body["id"] for _, status, body in answers if status == 201]
    assert accepted and _stored(committed_intake, accepted) == set(accepted)
    # After the restart reports are accepted again.
    assert answers[-1][1] == 201
