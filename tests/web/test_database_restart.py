"""A database outage answers 503 with Retry-After, and the server recovers by itself.

The test session's own cluster is stopped and started again under a running server (every
later test reconnects through the pool's pre-ping): API routes answer 503 while it is down,
the dispatch heartbeat keeps failing without dying, and both work again once it is back.
"""

from __future__ import annotations

import gc
import socket
import threading
import time
import warnings
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from geo.cluster import Cluster
from web.main import create_app
from web.serve import uvicorn_options
from web.settings import Settings


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[str, object]]:
    beating = settings.model_copy(update={"cycle_interval_s": 0.2})
    app = create_app(beating)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="critical", **uvicorn_options(beating))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", app
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    # Connections the stop broke mid-use are dropped by the pool without a close; collect
    # them here, where their ResourceWarning belongs, not in whichever test runs next.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _wait_for(predicate: object, timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s} s")


def test_database_down_is_503_with_retry_after_and_service_resumes(
    served: tuple[str, object], pg_cluster: Cluster
) -> None:
    base, app = served
    assert httpx.get(f"{base}/api/v1/outages").status_code == 200
    pg_cluster.stop()
    try:
        for path in ("/api/v1/outages", "/api/v1/status?address=Mannerheimintie%201", "/healthz"):
            answer = httpx.get(base + path, timeout=30)
            assert answer.status_code == 503, (path, answer.text)
            assert int(answer.headers["Retry-After"]) > 0
        report = httpx.post(
            f"{base}/api/v1/reports", json={"category": "no_power", "address": "x"}, timeout=30
        )
        assert report.status_code == 503, report.text
        assert report.json()["error"] == "DatabaseUnavailable"
        cycles_down = app.state.cycles_run  # type: ignore[attr-defined]
        time.sleep(1.0)
        assert app.state.cycles_run == cycles_down  # type: ignore[attr-defined]
    finally:
        pg_cluster.start()
    took = _wait_for(lambda: httpx.get(f"{base}/api/v1/outages").status_code == 200, 30)
    assert took < 30
    # The heartbeat survived its failed cycles and runs again by itself.
    after = app.state.cycles_run  # type: ignore[attr-defined]
    _wait_for(lambda: app.state.cycles_run > after + 1, 30)  # type: ignore[attr-defined]
