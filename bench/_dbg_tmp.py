import time, httpx
from bench.common import bench_cluster
from bench.intake import app_server
from bench.weight import DB, PASSWORD, CHROMIUM_ARGS
from playwright.sync_api import sync_playwright
cluster = bench_cluster(fresh=False)
url = cluster.url(DB)
with app_server(url, workers=1) as base:
    token = httpx.post(base + "/api/v1/auth/token", data={"username": "weight", "password": PASSWORD}).json()["access_token"]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for tok in (None, token):
            ctx = b.new_context(); page = ctx.new_page()
            if tok: page.add_init_script(f"sessionStorage.setItem('stormdesk.console.token', {tok!r})")
            t = time.perf_counter(); page.goto(base + "/console", wait_until="load"); tl = time.perf_counter() - t
            page.wait_for_function("document.documentElement.dataset.console", timeout=20000)
            tr = time.perf_counter() - t
            print("token" if tok else "anon", f"load {tl:.2f} ready {tr:.2f}", page.evaluate("document.documentElement.dataset.console"))
            ents = page.evaluate("performance.getEntriesByType('resource').map(e => [e.name.slice(-50), Math.round(e.startTime), Math.round(e.duration), e.transferSize])")
            for e in sorted(ents, key=lambda e: -e[2])[:8]: print("  ", e)
            ctx.close()
