"""axe-core (from npm, tests/e2e/node_modules) on the demo page with the widget open."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import AXE
from tests.e2e.reader_page import ReaderPage

BLOCKING = {"serious", "critical"}


def target(node: dict[str, Any]) -> str:
    """axe's selector for a node; a list of selectors crosses into shadow roots."""
    return " ".join(" >>> ".join(part) if isinstance(part, list) else part
                    for part in node["target"])


def summary(rules: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {rule['impact']}: {rule['id']} ({rule['help']}): "
                     + "; ".join(target(node) for node in rule["nodes"][:5])
                     for rule in rules)


@pytest.mark.parametrize("state", ["playing", "paused"])
def test_no_serious_or_critical_violations(reader: ReaderPage, state: str) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: scripts/setup-browser installs axe-core")
    reader.start()
    # Everything the panel can show at once: the caption bar and the shortcut list too.
    reader.control("reader-captions-toggle").click()
    reader.control("reader-shortcuts-toggle").click()
    expect(reader.page.get_by_test_id("reader-caption-bar")).to_be_visible()
    if state == "paused":
        reader.control("reader-play").click()
    expect(reader.widget).to_have_attribute("state", state)

    reader.page.add_script_tag(path=str(AXE))
    results = reader.page.evaluate("axe.run(document)")
    violations = results["violations"]
    others = [v for v in violations if v["impact"] not in BLOCKING]
    # Shown with -rP or -s: minor violations, and what axe could not decide (to review).
    print(f"axe {results['testEngine']['version']}: {len(results['passes'])} rules pass")  # noqa: T201
    if others:
        print(f"not blocking:\n{summary(others)}")  # noqa: T201
    if results["incomplete"]:
        print(f"to review:\n{summary(results['incomplete'])}")  # noqa: T201
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, summary(blocking)
    # The widget's shadow root was scanned, not just the page around it.
    assert any("reader-widget" in str(node["target"])
               for rule in results["passes"] for node in rule["nodes"])
