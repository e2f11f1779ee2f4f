"""Weight of the faces: an idle console's bytes per hour, and the cold load of the pages.

The demo city (with a storm played into it, so the live layers hold outages and reports) is
loaded into a database of the bench cluster and served by the real app under uvicorn. An
idle console is simulated with a real HTTP client doing what ``static/console.js`` does
every 10 s for a logged-in dispatcher: the five live layers plus the dispatch panel's
work orders, crews and current plan. Bytes are counted on the wire (compressed body plus
status line and headers). Four clients are measured in the same run:

- ``baseline``: no compression, no revalidation (what the console cost before issue 10);
- ``gzip``: Accept-Encoding: gzip only;
- ``gzip + ETag``: also If-None-Match with the last ETag, which a browser sends by itself
  for ``Cache-Control: no-cache`` answers (the console as it is now);
- ``gzip + since``: the live layers asked with ``since=<cursor>`` (a client using deltas).

Cold load: headless Chromium opens ``/console`` (and ``/outages`` when the app has it) in a
fresh context, and the time until the page says it is ready (or ``load``) is taken, with
the bytes transferred. Target: <= 5 MB per hour idle, <= 1 s cold.

    .venv/bin/python -m bench.weight [--polls 30] [--no-record] [--fresh]

The demo database is built once into the bench cluster (``weight_demo``); ``--fresh``
rebuilds the cluster, e.g. after a migration was renumbered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bench.common import bench_cluster, record
from bench.intake import app_server
from geo import migrate
from geo.auth import create_user

DB = "weight_demo"
REFRESH_S = 10.0
POLLS_PER_HOUR = 3600 / REFRESH_S
LIVE_LAYERS = ("planned", "outages", "outage_premises", "reports", "unlocated")
PANEL = ("/api/v1/work-orders?live=true", "/api/v1/crews", "/api/v1/dispatch/current")
PASSWORD = "weight-bench-lantern-7"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def prepare(url: str) -> None:
    """The demo city, a storm on it, a dispatcher to log in as (once per database)."""
    from scenarios.demo_city import build_demo_city
    from scenarios.demo_city.loader import load_demo_city
    from scenarios.storm import play_storm
    from web.settings import Settings

    migrate.upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        load_demo_city(session=session, city=build_demo_city())
        play_storm(
            session=session,
            settings=Settings(DATABASE_URL=url),
            now=dt.datetime.now(dt.UTC),
            seed=3,
            reports=120,
        )
        create_user(session=session, username="weight", role="dispatcher", password=PASSWORD)
    engine.dispose()


def wire_bytes(response: httpx.Response) -> int:
    """Bytes on the wire: the body as sent (compressed or not) plus status line and headers."""
    head = 17 + sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
    return head + response.num_bytes_downloaded


@dataclass
class Poller:
    """One simulated console: what it sends and what it remembers between polls."""

    client: httpx.Client
    gzip: bool
    etag: bool
    since: bool

    def __post_init__(self) -> None:
        self.etags: dict[str, str] = {}
        self.cursors: dict[str, str] = {}

    def get(self, path: str, *, layer: str | None = None) -> int:
        headers = {"Accept-Encoding": "gzip" if self.gzip else "identity"}
        if self.etag and path in self.etags:
            headers["If-None-Match"] = self.etags[path]
        params = {}
        if self.since and layer is not None:
            params["since"] = self.cursors.get(layer, "0")
        response = self.client.get(path, headers=headers, params=params)
        response.read()
        if response.status_code not in (200, 304):
            msg = f"{path}: HTTP {response.status_code} {response.text[:200]}"
            raise RuntimeError(msg)
        if "etag" in response.headers:
            self.etags[path] = response.headers["etag"]
        if self.since and layer is not None and response.status_code == 200:
            self.cursors[layer] = response.json()["cursor"]
        return wire_bytes(response)

    def poll(self) -> int:
        total = sum(self.get(f"/api/v1/layers/{n}", layer=n) for n in LIVE_LAYERS)
        return total + sum(self.get(p) for p in PANEL)


def idle_console(base: str, token: str, polls: int) -> dict[str, tuple[float, float]]:
    """Per client: (bytes of one steady-state poll, MB per hour)."""
    modes: dict[str, Callable[[httpx.Client], Poller]] = {
        "baseline": lambda c: Poller(c, gzip=False, etag=False, since=False),
        "gzip": lambda c: Poller(c, gzip=True, etag=False, since=False),
        "gzip + ETag": lambda c: Poller(c, gzip=True, etag=True, since=False),
        "gzip + since": lambda c: Poller(c, gzip=True, etag=True, since=True),
    }
    out = {}
    for name, make in modes.items():
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
            poller = make(c)
            poller.poll()  # the first poll is the page's own load, not idle polling
            steady = [poller.poll() for _ in range(polls)]
        per_poll = sum(steady) / len(steady)
        out[name] = (per_poll, per_poll * POLLS_PER_HOUR / 1e6)
    return out


# After the page is ready: one live refresh as the console's timer does it, and the bytes it
# moved (a browser revalidates no-cache answers with If-None-Match by itself).
REFRESH_JS = """async () => {
  const before = performance.getEntriesByType('resource').length;
  await window.stormdesk.console.refreshLive();
  return performance.getEntriesByType('resource').slice(before)
    .filter(e => e.name.includes('/api/v1/layers/'))
    .map(e => [e.transferSize, e.encodedBodySize]);
}"""


def cold_load(
    base: str, token: str, path: str, ready: str | None
) -> tuple[float, int, int | None] | None:
    """Seconds until ``path`` is ready in a fresh Chromium context, bytes transferred, and
    (for the console) the layer bytes of one live refresh after it; None when the app has
    no such page."""
    from playwright.sync_api import sync_playwright

    if httpx.get(base + path).status_code == 404:
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        best: tuple[float, int, int | None] = (float("inf"), 0, None)
        for _ in range(3):
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            page.add_init_script(f"sessionStorage.setItem('stormdesk.console.token', {token!r})")
            started = time.perf_counter()
            page.goto(base + path, wait_until="load")
            if ready:
                page.wait_for_function(ready, timeout=15_000)
            seconds = time.perf_counter() - started
            transferred = int(
                page.evaluate(
                    "performance.getEntriesByType('navigation').concat("
                    "performance.getEntriesByType('resource'))"
                    ".reduce((n, e) => n + (e.transferSize || 0), 0)"
                )
            )
            refresh = None
            if ready:
                entries = page.evaluate(REFRESH_JS)
                refresh = sum(int(size) for size, _ in entries)
            if seconds < best[0]:
                best = (seconds, transferred, refresh)
            context.close()
        browser.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=30, help="steady-state polls per client")
    parser.add_argument("--fresh", action="store_true", help="recreate the bench cluster")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    cluster = bench_cluster(fresh=args.fresh)
    url = cluster.url(DB)
    if cluster.create_database(DB):
        prepare(url)
    else:
        migrate.upgrade(url)
    with app_server(url, workers=1) as base:
        token = httpx.post(
            base + "/api/v1/auth/token", data={"username": "weight", "password": PASSWORD}
        ).json()["access_token"]
        idle = idle_console(base, token, args.polls)
        console = cold_load(base, token, "/console", "document.documentElement.dataset.console")
        outages = cold_load(base, token, "/outages", None)
    baseline = idle["baseline"][1]
    lines = [
        f"Idle console, {REFRESH_S:.0f} s polls of {len(LIVE_LAYERS)} live layers and "
        f"{len(PANEL)} dispatch-panel calls, {args.polls} steady polls per client "
        "(demo city with a 120-call storm):",
        "",
        "| client | bytes per poll | MB per hour | vs baseline |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, (per_poll, per_hour) in idle.items():
        lines.append(f"| {name} | {per_poll:,.0f} | {per_hour:.2f} | {per_hour / baseline:.3f}x |")
    lines += ["", "Cold load in headless Chromium (fresh context, best of 3; target <= 1 s):", ""]
    for path, found in (("/console", console), ("/outages", outages)):
        if found is None:
            lines.append(f"- `{path}`: not in this build (404), not measured")
        else:
            lines.append(f"- `{path}`: {found[0]:.2f} s, {found[1] / 1e3:,.0f} kB transferred")
            if found[2] is not None:
                lines.append(
                    f"- `{path}` in Chromium, one live refresh after the load: {found[2]:,} "
                    "bytes for the live layers (the browser revalidates by ETag itself)"
                )
    body = "\n".join(lines)
    print(body)
    if not args.no_record:
        record("Weight: idle console and cold load (issue 10)", "bench.weight", body)


if __name__ == "__main__":
    main()
