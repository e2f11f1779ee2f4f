"""The accessibility harness itself: axe-core from disk finds what it should, offline."""

from __future__ import annotations

from playwright.sync_api import Browser, Request

from tests.web.axe import blocking, describe, run_axe

BROKEN = """<!doctype html><html><head><title>broken</title></head><body>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p style="color:#999;background:#fff">low contrast text</p>
<button></button></body></html>"""
FIXED = """<!doctype html><html lang="en"><head><title>fixed</title></head><body>
<header><p>site</p></header><main><h1>Fixed</h1>
<img alt="a dot" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p style="color:#595959;background:#fff">enough contrast text</p>
<button>Send</button></main></body></html>"""


def test_axe_finds_the_violations_of_a_broken_page_without_the_network(browser: Browser) -> None:
    page = browser.new_page()
    outside: list[str] = []

    def note(request: Request) -> None:
        if not request.url.startswith(("data:", "about:")):
            outside.append(request.url)

    page.on("request", note)
    page.set_content(BROKEN)
    found = {v["id"]: v["impact"] for v in run_axe(page)}
    assert found.get("image-alt") == "critical"
    assert found.get("button-name") == "critical"
    assert found.get("color-contrast") == "serious"
    assert found.get("html-has-lang") == "serious"
    assert "landmark-one-main" in found  # best practices are run too
    assert outside == []
    page.close()


def test_a_page_with_the_fixes_has_no_violation_and_rules_can_be_disabled(
    browser: Browser,
) -> None:
    page = browser.new_page()
    page.set_content(FIXED)
    found = run_axe(page)
    assert found == [], describe(found)
    page.set_content(BROKEN)
    remaining = {v["id"] for v in blocking(run_axe(page, disable=("image-alt", "button-name")))}
    assert remaining == {"color-contrast", "html-has-lang"}
    page.close()
