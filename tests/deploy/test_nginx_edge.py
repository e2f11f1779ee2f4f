"""Issue 13's edge attacks replayed through nginx (deploy/nginx) in front of two uvicorn workers.

What nginx alone gives, whatever the application does about bodies itself: trickled bodies are
held by nginx and never reach the app, so /healthz stays fast; bodies over the limit get 413
before anyone reads them; stalled clients are cut; feeds are compressed and cached. Nothing
here writes to the shared test database (only reads and refused requests).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import select
import socket
import statistics
import threading
import time
from urllib.parse import urlsplit

import httpx

from tests.deploy.edge import Edge

TRICKLERS = 32
ATTACK_S = 20.0
BYTE_EVERY_S = 2.0
MB = 1024 * 1024


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


def _open(url: str, head: bytes) -> socket.socket:
    sock = socket.create_connection(_address(url), timeout=5)
    sock.sendall(head)
    return sock


def _post_head(path: str, length: int | None, extra: str = "") -> bytes:
    size = f"Content-Length: {length}\r\n" if length is not None else ""
    chunked = "" if length is not None else "Transfer-Encoding: chunked\r\n"
    return (
        f"POST {path} HTTP/1.1\r\nHost: stormdesk\r\nContent-Type: application/json\r\n"
        f"{size}{chunked}{extra}\r\n"
    ).encode()


def _closed_by_peer(sock: socket.socket) -> bool:
    """True once the server has closed (or answered and closed) the connection."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        data = sock.recv(65536, socket.MSG_PEEK)
    except (ConnectionResetError, BrokenPipeError):
        return True
    return data == b"" or data.startswith(b"HTTP/1.1 408")


def _trickle(socks: list[socket.socket], stop: threading.Event) -> None:
    while not stop.wait(BYTE_EVERY_S):
        for sock in socks:
            # A trickler nginx has cut shows up in the final count, not here.
            with contextlib.suppress(OSError):
                sock.sendall(b" ")


def test_slow_bodies_do_not_block_healthz(edge: Edge) -> None:
    seen_before = edge.app_requests("/api/v1/reports")
    tricklers = [_open(edge.url, _post_head("/api/v1/reports", 4096)) for _ in range(TRICKLERS)]
    # Two that stop sending: one in its headers, one in its body.
    stalled_headers = _open(edge.url, b"GET /healthz HTTP/1.1\r\nHost: stormdesk\r\n")
    stalled_body = _open(edge.url, _post_head("/api/v1/reports", 4096) + b"{")
    stop = threading.Event()
    feeder = threading.Thread(target=_trickle, args=(tricklers, stop), daemon=True)
    feeder.start()
    latencies: list[float] = []
    try:
        with httpx.Client(base_url=edge.url, timeout=10) as http:
            deadline = time.monotonic() + ATTACK_S
            while time.monotonic() < deadline:
                started = time.monotonic()
                response = http.get("/healthz")
                latencies.append(time.monotonic() - started)
                assert response.status_code == 200, response.text
                time.sleep(0.1)
        still_trickling = sum(not _closed_by_peer(sock) for sock in tricklers)
        stalled_cut = [_closed_by_peer(stalled_headers), _closed_by_peer(stalled_body)]
    finally:
        stop.set()
        feeder.join()
        for sock in [*tricklers, stalled_headers, stalled_body]:
            sock.close()
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"\n/healthz through nginx under {TRICKLERS} clients trickling 1 byte per "
        f"{BYTE_EVERY_S:.0f} s: {len(latencies)} probes, p50 {quantiles[49] * 1000:.1f} ms, "
        f"p99 {quantiles[98] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
    )
    assert still_trickling == TRICKLERS, "the attack lasted: nginx still held every trickler"
    assert edge.app_requests("/api/v1/reports") == seen_before, "no trickled body reached the app"
    assert max(latencies) < 1.0
    assert quantiles[49] < 0.1
    assert stalled_cut == [True, True], "client header and body timeouts cut stalled clients"


def _push(url: str, head: bytes, body_bytes: int, *, chunked: bool) -> tuple[bytes, int, float]:
    """Send ``head`` then up to ``body_bytes`` of body until the server answers or hangs up.

    Returns the start of the answer, the body bytes sent and the seconds it took.
    """
    started = time.monotonic()
    sock = _open(url, head)
    sock.settimeout(10)
    piece = b" " * (64 * 1024)
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
    sent = 0
    try:
        while sent < body_bytes:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        if sent >= body_bytes and chunked:
            sock.sendall(b"0\r\n\r\n")
        answer = sock.recv(4096)
    finally:
        sock.close()
    return answer, sent, time.monotonic() - started


def _status_line(answer: bytes) -> str:
    return answer.split(b"\r\n", 1)[0].decode(errors="replace")


def test_big_body_refused_before_the_app_reads_it(edge: Edge) -> None:
    seen_before = edge.app_requests("/api/v1/reports")
    head = _post_head("/api/v1/reports", 100 * MB)
    answer, sent, took = _push(edge.url, head, 100 * MB, chunked=False)
    print(f"\n100 MB declared: {_status_line(answer)} after {sent / MB:.1f} MB, {took:.2f} s")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 16 * MB, "refused on its Content-Length, not after reading it"
    assert took < 5

    answer, sent, took = _push(
        edge.url, _post_head("/api/v1/reports", None), 100 * MB, chunked=True
    )
    print(f"100 MB chunked: {_status_line(answer)} after {sent / MB:.1f} MB, {took:.2f} s")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 32 * MB
    assert edge.app_requests("/api/v1/reports") == seen_before, "the app read none of them"


def _padded_batch(size: int) -> bytes:
    """A batch body of ``size`` bytes that the app refuses cheaply (an empty list)."""
    return b'{"reports": []' + b" " * (size - 16) + b"}"


def test_body_limits_per_route(edge: Edge) -> None:
    body = _padded_batch(3 * MB)
    with httpx.Client(base_url=edge.url, timeout=30) as http:
        batches_before = edge.app_requests("/api/v1/reports/batch")
        single = http.post(
            "/api/v1/reports", content=body, headers={"Content-Type": "application/json"}
        )
        batch = http.post(
            "/api/v1/reports/batch", content=body, headers={"Content-Type": "application/json"}
        )
        too_big = http.post(
            "/api/v1/reports/batch",
            content=_padded_batch(21 * MB),
            headers={"Content-Type": "application/json"},
        )
    assert single.status_code == 413, "2 MB is the limit for single reports"
    assert batch.status_code == 422, "3 MB passes to the batch route, whose app refuses []"
    assert "reports" in batch.text
    assert too_big.status_code == 413, "20 MB is the batch route's limit"
    assert edge.app_requests("/api/v1/reports/batch") == batches_before + 1


def test_feeds_compressed_and_cached(edge: Edge) -> None:
    with httpx.Client(base_url=edge.url, timeout=30) as http:
        layers = http.get("/api/v1/layers").json()
        name = "feeders" if "feeders" in layers else sorted(layers)[0]
        with http.stream(
            "GET", f"/api/v1/layers/{name}", headers={"Accept-Encoding": "gzip"}
        ) as raw:
            wire = b"".join(raw.iter_raw())
        first = http.get("/open311/v2/services.json")
        second = http.get("/open311/v2/services.json")
        staff = http.get("/open311/v2/services.json", headers={"Authorization": "Bearer x"})
        js = [http.get("/static/status.js") for _ in range(2)]
    assert raw.status_code == 200
    assert raw.headers["content-encoding"] == "gzip"
    geojson = gzip.decompress(wire)
    assert json.loads(geojson)["type"] == "FeatureCollection"
    print(f"\nlayer {name}: {len(geojson)} bytes of GeoJSON, {len(wire)} on the wire")
    assert len(wire) < len(geojson) / 2
    assert [first.headers["x-cache-status"], second.headers["x-cache-status"]] == ["MISS", "HIT"]
    assert first.json() == second.json()
    assert staff.headers["x-cache-status"] == "BYPASS", "answers to staff are never cached"
    assert [r.headers["x-cache-status"] for r in js] == ["MISS", "HIT"]
    assert js[1].headers["cache-control"] == "max-age=3600"
