"""The README's screenshots, taken from the demo during a storm in headless Chromium.

    .venv/bin/python scripts/screenshots.py                  # its own demo, in a temp dir
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000   # a running demo

Without ``--url`` it runs ``stormdesk demo`` with ``STORMDESK_VAR_DIR`` in a temporary
directory (its own PostgreSQL cluster, the demo city loaded fresh, about a minute), plays
``stormdesk storm`` into it and stops both at the end. With ``--url`` the running demo is
used as it is: run the script in the demo's environment (same ``STORMDESK_VAR_DIR`` or
``DATABASE_URL``), as ``stormdesk storm`` and ``stormdesk ring`` write to its database;
``--no-storm`` when a storm is already loaded.

Then: the console logged in as dispatcher with a proposal open (1280x720; the proposal is
then applied), the public map (desktop, and a phone in Chinese), the status page for an
address inside the storm's outage (phone), the desk answering a ringing caller inside the
outage (agent, 1280x720) and the crew page of the crew the applied plan gave the most work
(phone). PNGs go to ``docs/img/``,
reduced to 256 colours (a third of the bytes; the pages are flat colours). Chinese text
needs a CJK font (Debian: ``fonts-wqy-microhei``, in the Makefile's system packages).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 720}
PHONE: ViewportSize = {"width": 390, "height": 844}
STARTUP_TIMEOUT_S = 300.0
PLAN_TIMEOUT_MS = 120_000


@contextmanager
def demo_server(port: int) -> Iterator[tuple[str, dict[str, str]]]:
    """``stormdesk demo`` on ``port`` with its state in a temporary directory, stopped (and
    its database cluster with it) on the way out; yields its URL and environment."""
    with tempfile.TemporaryDirectory(prefix="stormdesk-shots-") as var_dir:
        env = {**os.environ, "STORMDESK_VAR_DIR": var_dir}
        log = Path(var_dir) / "demo.log"
        with log.open("w") as out:
            demo = subprocess.Popen(
                [str(BIN / "stormdesk"), "demo", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base, demo, log)
            yield base, env
        finally:
            demo.terminate()
            demo.wait(timeout=30)
            subprocess.run([str(BIN / "stormdesk"), "db", "stop"], env=env, check=False)


def _wait_healthy(base: str, demo: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            msg = f"stormdesk demo exited with {demo.returncode}:\n{log.read_text()[-2000:]}"
            raise SystemExit(msg)
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass  # not listening yet
        time.sleep(1)
    msg = f"stormdesk demo did not answer within {STARTUP_TIMEOUT_S:.0f} s; see {log}"
    raise SystemExit(msg)


def stormdesk(env: dict[str, str], *args: str) -> None:
    """Run a ``stormdesk`` command against the demo's database (its output shown)."""
    subprocess.run([str(BIN / "stormdesk"), *args], env=env, check=True)


def token(base: str, username: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"username": username, "password": f"{username}-demo-pass"},
        timeout=30,
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def address_in_outage(base: str) -> str:
    """An address inside the largest active outage that no other premise shares (so the
    status page answers it at once), read through the staff layers as a dispatcher."""
    headers = token(base, "dispatcher")
    outages = httpx.get(f"{base}/api/v1/outages", headers=headers, timeout=30).json()
    if not outages:
        raise SystemExit("no active outage: play a storm first (stormdesk storm)")
    largest = max(outages, key=lambda o: o["customers_affected"])["id"]
    layer = f"{base}/api/v1/layers"
    out = httpx.get(f"{layer}/outage_premises", headers=headers, timeout=60).json()
    inside = {
        f["properties"]["id"]
        for f in out["features"]
        if f["properties"]["outage_id"] == largest and not f["properties"]["critical"]
    }
    premises = httpx.get(f"{layer}/premises", headers=headers, timeout=60).json()["features"]
    # "Annankatu 19" as a customer types it: unique once the postcode and city are cut off.
    street = {p["properties"]["id"]: p["properties"]["address"].split(",")[0] for p in premises}
    uses = Counter(street.values())
    for premise_id, address in street.items():
        if premise_id in inside and uses[address] == 1:
            return str(address)
    raise SystemExit(f"outage {largest} has no premise with an address of its own")


def busiest_crew_login(base: str) -> str:
    """The login of the crew with the most work orders after the plan was applied."""
    headers = token(base, "dispatcher")
    orders = httpx.get(f"{base}/api/v1/work-orders", headers=headers, timeout=30).json()
    counts = Counter(o["crew_id"] for o in orders if o.get("crew_id"))
    if not counts:
        raise SystemExit("no work order has a crew: the plan was not applied")
    crews = httpx.get(f"{base}/api/v1/crews", headers=headers, timeout=30).json()["features"]
    busiest = counts.most_common(1)[0][0]
    code = next(c["properties"]["code"] for c in crews if c["properties"]["id"] == busiest)
    return f"crew{code.removeprefix('CREW-')}"


def save(page: Page, out: Path, name: str) -> None:
    """A screenshot of the viewport in 256 colours."""
    path = out / name
    page.screenshot(path=path)
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    print(f"{path}: {path.stat().st_size // 1024} KB")


def settle(page: Page) -> None:
    """Wait until the page's requests are done and the map has drawn."""
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(800)


def new_page(browser: Browser, viewport: ViewportSize, locale: str = "en-GB") -> Page:
    context = browser.new_context(viewport=viewport, locale=locale, device_scale_factor=1)
    page = context.new_page()
    page.on("pageerror", lambda error: print(f"page error on {page.url}: {error}"))
    return page


def shoot_public(browser: Browser, base: str, out: Path, address: str) -> None:
    page = new_page(browser, DESKTOP)
    page.goto(f"{base}/outages")
    page.wait_for_function("document.documentElement.dataset.outageMap === 'ready'")
    settle(page)
    save(page, out, "outages-desktop.png")
    page.context.close()

    page = new_page(browser, PHONE, "zh-CN")
    page.goto(f"{base}/outages")
    page.wait_for_function("document.documentElement.dataset.outageMap === 'ready'")
    page.locator("#lang-zh").click()
    settle(page)
    save(page, out, "outages-phone-zh.png")
    page.context.close()

    page = new_page(browser, PHONE)
    page.goto(f"{base}/status")
    page.wait_for_function("document.documentElement.dataset.statusPage === 'ready'")
    page.locator("#q").fill(address)
    page.locator("#q").press("Enter")
    page.wait_for_selector("#result[data-state=outage]")
    settle(page)
    save(page, out, "status-known-phone.png")
    page.context.close()


def shoot_console(browser: Browser, base: str, out: Path) -> None:
    page = new_page(browser, DESKTOP)
    page.goto(f"{base}/console")
    page.wait_for_function("document.documentElement.dataset.console === 'login'")
    page.fill("#sd-login input[name=username]", "dispatcher")
    page.fill("#sd-login input[name=password]", "dispatcher-demo-pass")
    page.click("#sd-login button[type=submit]")
    page.wait_for_function("document.documentElement.dataset.dispatch === 'ready'")
    # The server turns outages into work orders every 15 s.
    page.wait_for_selector("#sd-orders .sd-order", timeout=60_000)
    page.click("#sd-plan")
    summary = page.locator("#sd-proposal-summary")
    summary.wait_for(timeout=PLAN_TIMEOUT_MS)
    settle(page)
    save(page, out, "console-1280.png")
    summary.locator("[data-act=apply]").click()
    page.locator(".sd-msg-ok").wait_for()
    page.context.close()


def shoot_desk(browser: Browser, base: str, out: Path, env: dict[str, str]) -> None:
    page = new_page(browser, DESKTOP)
    page.goto(f"{base}/desk")
    page.wait_for_function("document.documentElement.dataset.desk === 'login'")
    page.fill("#username", "agent")
    page.fill("#password", "agent-demo-pass")
    page.keyboard.press("Enter")
    page.wait_for_function("document.documentElement.dataset.desk === 'ready'", timeout=20_000)
    stormdesk(env, "ring", "--base-url", base)
    page.wait_for_selector("#answer", timeout=20_000)
    page.keyboard.press("Alt+A")
    page.wait_for_selector("#script:not([hidden])")
    settle(page)
    save(page, out, "desk.png")
    page.context.close()


def shoot_crew(browser: Browser, base: str, out: Path) -> None:
    login = busiest_crew_login(base)
    page = new_page(browser, PHONE)
    page.goto(f"{base}/crew")
    page.wait_for_function("document.documentElement.dataset.crew === 'login'")
    page.fill("#username", login)
    page.fill("#password", f"{login}-demo-pass")
    page.keyboard.press("Enter")
    page.wait_for_function("document.documentElement.dataset.crew === 'ready'", timeout=20_000)
    settle(page)
    save(page, out, "crew-phone.png")
    page.context.close()


def shoot(base: str, env: dict[str, str], out: Path, storm: bool) -> None:
    if storm:
        stormdesk(env, "storm", "--base-url", base)
    address = address_in_outage(base)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            shoot_console(browser, base, out)  # plans and applies: a crew is on the way
            shoot_public(browser, base, out, address)
            shoot_desk(browser, base, out, env)
            shoot_crew(browser, base, out)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running demo (default: start one in a temp dir)")
    parser.add_argument("--port", type=int, default=8441, help="port of the demo started here")
    parser.add_argument("--no-storm", action="store_true", help="a storm is already loaded")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "img")
    args = parser.parse_args()
    if args.url:
        shoot(args.url.rstrip("/"), dict(os.environ), args.out, storm=not args.no_storm)
        return
    with demo_server(args.port) as (base, env):
        shoot(base, env, args.out, storm=not args.no_storm)


if __name__ == "__main__":
    main()
