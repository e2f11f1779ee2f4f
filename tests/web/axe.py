"""axe-core in the browser tests: inject the pinned engine into a page, run it, read the result.

The engine comes from npm (``tests/web/axe-core/package.json``, pinned by its lock file;
``make install`` runs ``npm ci`` there) and is injected from disk with Playwright's
``add_script_tag(path=...)``: the page under test never loads anything from outside, and the
check runs the same offline as in CI.

Usage in a browser test::

    from tests.web.axe import assert_accessible
    assert_accessible(page)  # fails listing each serious or critical violation and its nodes
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent / "axe-core" / "node_modules" / "axe-core" / "axe.min.js"
# What CI refuses (issue 10: 0 serious or critical); minor and moderate ones are reported.
BLOCKING = ("serious", "critical")
Violation = dict[str, Any]

_RUN = """async (options) => {
    const result = await window.axe.run(document, options);
    return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
    }));
}"""


def run_axe(page: Page, *, disable: tuple[str, ...] = ()) -> list[Violation]:
    """Every violation axe finds on the page as it is now (all rules, best practices too).

    ``disable`` turns rules off by id, for a check that does not apply to a page; say why
    where it is used.
    """
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make install` (npm ci in tests/web/axe-core)")
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(path=str(AXE_JS))
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    violations: list[Violation] = page.evaluate(_RUN, options)
    return violations


def describe(violations: list[Violation]) -> str:
    """One line per violation and one per node it was found on, for an assertion message."""
    lines = []
    for v in violations:
        lines.append(f"{v['impact']}: {v['id']} ({v['help']})")
        lines += [f"    {n['target']}: {n['summary']}" for n in v["nodes"][:5]]
    return "\n".join(lines)


def blocking(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v["impact"] in BLOCKING]


def assert_accessible(page: Page, *, disable: tuple[str, ...] = ()) -> list[Violation]:
    """Fail on any serious or critical violation; return all of them (the minor ones too)."""
    found = run_axe(page, disable=disable)
    bad = blocking(found)
    assert not bad, f"axe found serious or critical violations on {page.url}:\n{describe(bad)}"
    return found
