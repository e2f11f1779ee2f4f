"""axe-core over the status page and the console, as a customer and a dispatcher see them.

The landing and crew pages are checked in their own tests (test_landing.py,
test_crew_page.py). Here: the status page in both languages with a lookup answered, and
the console after a dispatcher's login with every layer drawn.
"""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.web.axe import assert_accessible
from tests.web.test_console_browser import login


def test_status_page_has_no_serious_violations_in_both_languages(
    browser: Browser, live_server: str
) -> None:
    for locale in ("en-US", "zh-CN"):
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
        page = context.new_page()
        try:
            page.goto(f"{live_server}/status")
            page.wait_for_function("document.documentElement.dataset.statusPage === 'ready'")
            assert_accessible(page)
            page.locator("#q").fill("Zzyzx Qwerty 12345")
            page.locator("#q").press("Enter")
            expect(page.locator("#result")).to_have_attribute("data-state", "error")
            assert_accessible(page)
        finally:
            context.close()


def test_console_has_no_serious_violations_after_login(browser: Browser, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/console")
        page.wait_for_function("document.documentElement.dataset.console === 'login'")
        assert_accessible(page)
        login(page, "dispatcher")
        page.wait_for_function("document.documentElement.dataset.console === 'ready'")
        page.wait_for_function("document.documentElement.dataset.dispatch === 'ready'")
        # What remains is moderate (map panes outside landmarks): the console layout's work.
        assert_accessible(page)
    finally:
        context.close()
