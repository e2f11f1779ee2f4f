"""Cold load of the console and the public outage map on a running demo, in headless Chromium.

    .venv/bin/stormdesk demo --port 8000 &  .venv/bin/stormdesk storm   # a storm on screen
    .venv/bin/python -m bench.cold_load --url http://127.0.0.1:8000 [--runs 7] [--no-record]

Each run opens the page in a fresh browser context (empty cache, no cookies, no service
worker), as a first visit does, and reads the browser's own clocks (Navigation Timing, from
the start of the navigation):

- **load**: the ``load`` event (the HTML, scripts, styles and images are in);
- **data shown**: the first moment a selector that only matches once the page has drawn its
  data is on the page (a MutationObserver installed before any script of the page runs):
  the console's first outage row with the dispatch panel ready, the public map's first
  outage with the map ready;
- **requests** and **bytes** (Resource Timing ``transferSize``: bodies as sent, gzipped or
  not, plus headers) once the network has been quiet for 500 ms.

The console is opened as the demo's dispatcher (the token put in ``sessionStorage`` before
the page runs, as after a login), so it loads its staff layers. The landing page ``/`` is
measured in the same run as the baseline: one small HTML page and its stylesheet, what any
page costs on this server and machine at that moment. Figures are medians of ``--runs``
(min and max beside them). Target: data shown <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
from dataclasses import dataclass

import httpx
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TOKEN_KEY = "stormdesk.console.token"
TIMEOUT_MS = 30_000
# Records when ``selector`` first matches (milliseconds since the navigation started).
WATCH_JS = """(selector) => {
  const seen = () => {
    if (window.__dataShownAt === undefined && document.querySelector(selector)) {
      window.__dataShownAt = performance.now();
    }
  };
  const all = { childList: true, subtree: true, attributes: true };
  new MutationObserver(seen).observe(document, all);
}"""
TOTALS_JS = """() => {
  const entries = performance.getEntriesByType('navigation')
    .concat(performance.getEntriesByType('resource'));
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    load: nav.loadEventStart,
    requests: entries.length,
    bytes: entries.reduce((n, e) => n + (e.transferSize || 0), 0),
  };
}"""


@dataclass(frozen=True)
class Target:
    """A page to load and the selector that says its data is on screen."""

    name: str
    path: str
    shown: str
    staff: bool = False


PAGES = (
    Target("landing `/` (baseline)", "/", "main h1"),
    Target(
        "console `/console`",
        "/console",
        "html[data-dispatch='ready'] #sd-outage-list .sd-outage-item",
        staff=True,
    ),
    Target(
        "public map `/outages`",
        "/outages",
        "html[data-outage-map='ready'] #outage-list [data-outage]",
    ),
)


@dataclass(frozen=True)
class Run:
    load_ms: float
    shown_ms: float
    requests: int
    bytes: int


def dispatcher_token(base: str) -> str:
    answer = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"username": "dispatcher", "password": "dispatcher-demo-pass"},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def cold_run(browser: Browser, base: str, target: Target, token: str) -> Run:
    """One first visit in a fresh context."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        if target.staff:
            page.add_init_script(f"sessionStorage.setItem({TOKEN_KEY!r}, {token!r})")
        page.add_init_script(f"({WATCH_JS})({target.shown!r})")
        page.goto(base + target.path, wait_until="load", timeout=TIMEOUT_MS)
        page.wait_for_function("window.__dataShownAt !== undefined", timeout=TIMEOUT_MS)
        page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        shown = float(page.evaluate("window.__dataShownAt"))
        totals = page.evaluate(TOTALS_JS)
    finally:
        context.close()
    return Run(float(totals["load"]), shown, int(totals["requests"]), int(totals["bytes"]))


def spread(values: list[float], unit: str, scale: float = 1.0) -> str:
    """The median, with min and max: "0.41 s (0.38-0.52)"."""
    mid, low, high = (v / scale for v in (statistics.median(values), min(values), max(values)))
    digits = 2 if unit == "s" else 0
    return f"{mid:,.{digits}f} {unit} ({low:,.{digits}f}-{high:,.{digits}f})"


def measure(base: str, runs: int) -> str:
    """Runs of each page in turn (so a change in the machine's load touches them alike);
    the figures as a Markdown table."""
    token = dispatcher_token(base)
    results: dict[str, list[Run]] = {p.name: [] for p in PAGES}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for target in PAGES:  # one warm-up each: the server's first answers compile
                cold_run(browser, base, target, token)
            for _ in range(runs):
                for target in PAGES:
                    results[target.name].append(cold_run(browser, base, target, token))
        finally:
            browser.close()
    lines = [
        "| page | load event | data shown | requests | transferred |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for target in PAGES:
        got = results[target.name]
        lines.append(
            f"| {target.name} | {spread([r.load_ms for r in got], 's', 1000)} "
            f"| {spread([r.shown_ms for r in got], 's', 1000)} "
            f"| {statistics.median([r.requests for r in got]):.0f} "
            f"| {spread([float(r.bytes) for r in got], 'kB', 1000)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="a running demo")
    parser.add_argument("--runs", type=int, default=7, help="cold loads of each page")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    load_before = os.getloadavg()[0]
    table = measure(base, args.runs)
    body = (
        f"Cold loads in headless Chromium (fresh context each, 1280x720), median of "
        f"{args.runs} (min-max), on `stormdesk demo` with `stormdesk storm` played; the "
        f"console as the demo's dispatcher. Load average {load_before:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end. Target: data shown <= 1 s.\n\n{table}\n"
    )
    print(body)
    if not args.no_record:
        from bench.common import record

        record("Cold load of the console and the public map (issue 10)", "bench.cold_load", body)


if __name__ == "__main__":
    main()
