"""Nothing freezes: the attacks of issue 13 replayed over real sockets against the app served
by uvicorn as ``stormdesk serve`` serves it (``web.serve.uvicorn_options``), with short
deadlines so the test runs in seconds.

While clients trickle bodies, send 100 MB or hold idle connections, ``/healthz`` and a
normal API read must still answer promptly.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from web.main import create_app
from web.serve import uvicorn_options
from web.settings import Settings

PROMPT_S = 3.0  # the attacks used to stall these for 15 to 50 s; 2 shared cores
DEADLINE_S = 2.0


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[tuple[str, int]]:
    hardened = settings.model_copy(
        update={"body_timeout_s": DEADLINE_S, "header_timeout_s": DEADLINE_S}
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(hardened), log_level="warning", backlog=1024, **uvicorn_options(hardened)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _prompt(host: str, port: int, path: str = "/healthz") -> float:
    started = time.monotonic()
    answer = httpx.get(f"http://{host}:{port}{path}", timeout=10)
    assert answer.status_code == 200, answer.text
    return time.monotonic() - started


def _open(host: str, port: int, head: bytes) -> socket.socket:
    conn = socket.create_connection((host, port), timeout=30)
    conn.sendall(head)
    return conn


def _answer(conn: socket.socket) -> bytes:
    conn.settimeout(30)
    data = b""
    try:
        while chunk := conn.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass  # closed with our unsent bytes pending: the kernel resets instead
    return data


def test_trickled_bodies_hold_no_slot_and_get_408(server: tuple[str, int]) -> None:
    host, port = server
    head = (
        b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    conns = [_open(host, port, head) for _ in range(30)]  # more than the 24 main slots
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            for conn in conns:
                with contextlib.suppress(OSError):  # closed by the server's 408
                    conn.send(b" ")

    dripper = threading.Thread(target=trickle, daemon=True)
    dripper.start()
    try:
        time.sleep(0.5)
        assert _prompt(host, port) < PROMPT_S
        assert _prompt(host, port, "/api/v1/outages") < PROMPT_S
        answers = [_answer(conn) for conn in conns]
    finally:
        stop.set()
        for conn in conns:
            conn.close()
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), answers[0][:200]


def test_a_100_mb_body_is_refused_unread(server: tuple[str, int]) -> None:
    host, port = server
    started = time.monotonic()
    declared = _open(
        host,
        port,
        b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000000\r\n\r\n",
    )
    assert _answer(declared).startswith(b"HTTP/1.1 413")
    declared.close()
    streamed = _open(
        host,
        port,
        b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
    )
    chunk = b"x" * 1_000_000
    sent = 0
    try:
        for _ in range(100):
            streamed.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += 1
    except OSError:
        pass  # the server closed the connection after its 413: the rest is never read
    answer = _answer(streamed)
    streamed.close()
    assert answer.startswith(b"HTTP/1.1 413") or answer == b"", answer[:200]
    assert sent < 100, "the server read the whole 100 MB"
    assert time.monotonic() - started < 10
    assert _prompt(host, port) < PROMPT_S


def test_a_13_mb_body_of_700_000_unknown_keys_does_not_stall(server: tuple[str, int]) -> None:
    host, port = server
    body = json.dumps({"category": "no_power", **{f"k{i}": 1 for i in range(700_000)}})
    for path in ("/api/v1/reports", "/api/v1/reports/batch"):
        started = time.monotonic()
        answer = httpx.post(
            f"http://{host}:{port}{path}",
            content=body.encode(),
            headers={"content-type": "application/json"},
            timeout=30,
        )
        assert answer.status_code in (413, 422), answer.text[:300]
        assert len(answer.content) < 10_000
        assert time.monotonic() - started < 5
    # Just under the batch route's caps, the whole flood goes through validation:
    flood = json.dumps(
        {"reports": [{"category": "no_power", **{f"k{i}": 1 for i in range(150_000)}}]}
    )
    result: list[httpx.Response] = []
    sender = threading.Thread(
        target=lambda: result.append(
            httpx.post(
                f"http://{host}:{port}/api/v1/reports/batch",
                content=flood.encode(),
                headers={"content-type": "application/json"},
                timeout=60,
            )
        )
    )
    sender.start()
    assert _prompt(host, port) < PROMPT_S
    sender.join()
    assert result[0].status_code == 422
    assert result[0].json()["errors_total"] >= 150_000
    assert len(result[0].json()["detail"]) == 20


def test_300_idle_connections_are_closed_and_do_not_block(server: tuple[str, int]) -> None:
    host, port = server
    idle = [socket.create_connection((host, port), timeout=30) for _ in range(300)]
    partial = [_open(host, port, b"GET /healthz HTTP/1.1\r\nHo") for _ in range(20)]
    try:
        assert _prompt(host, port) < PROMPT_S
        started = time.monotonic()
        for conn in idle + partial:
            assert _answer(conn) == b""  # closed by the server
        assert time.monotonic() - started < DEADLINE_S + 5
    finally:
        for conn in idle + partial:
            conn.close()


def test_parallel_open311_lists_leave_health_prompt(server: tuple[str, int]) -> None:
    host, port = server
    results: list[int] = []

    def list_requests() -> None:
        answer = httpx.get(
            f"http://{host}:{port}/open311/v2/requests.json",
            params={"page_size": 1000},
            timeout=60,
        )
        results.append(answer.status_code)

    threads = [threading.Thread(target=list_requests) for _ in range(24)]
    for thread in threads:
        thread.start()
    assert _prompt(host, port) < PROMPT_S
    assert _prompt(host, port, "/api/v1/status?address=Mannerheimintie%201") < 3 * PROMPT_S
    for thread in threads:
        thread.join()
    assert results == [200] * 24
