"""The operator documents agree with the catalogue and the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "docs" / "runbooks.md"
GUIDE = ROOT / "docs" / "logging-and-alerting.md"
_LEVELS = frozenset({"debug", "info", "warning", "error", "exception", "critical"})


def _slug(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    headings = re.findall(r"^#{1,6}\s+(.+)$", markdown, flags=re.MULTILINE)
    return {_slug(heading) for heading in headings}


def _catalogue() -> dict[str, dict[str, object]]:
    path = ROOT / "common" / "alerts" / "catalogue.yaml"
    alerts: dict[str, dict[str, object]] = yaml.safe_load(path.read_text())["alerts"]
    return alerts


def test_every_alert_runbook_anchor_is_a_runbook_heading() -> None:
    anchors = _anchors(RUNBOOKS.read_text())

    missing = {
        name: alert["runbook_anchor"]
        for name, alert in _catalogue().items()
        if alert["runbook_anchor"] not in anchors
    }

    assert missing == {}, "add a section to docs/runbooks.md for each"


def test_every_alert_and_threshold_is_described_in_the_guide() -> None:
    guide = GUIDE.read_text()

    for name, alert in _catalogue().items():
        assert f"`{name}`" in guide, name
        if alert["threshold_variable"]:
            assert f"`{alert['threshold_variable']}`" in guide, name


def _logged_events() -> set[str]:
    events = set()
    for path in [*ROOT.glob("common/**/*.py"), *ROOT.glob("functions/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _LEVELS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "log"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                events.add(node.args[0].value)
    return events


def test_every_logged_event_name_is_listed_in_the_guide() -> None:
    listed = set(re.findall(r"`([a-z][a-z0-9_]+)`", GUIDE.read_text()))

    undocumented = sorted(_logged_events() - listed)

    assert undocumented == [], (
        "list these events in docs/logging-and-alerting.md, 'Event names'"
    )


def test_documents_link_to_each_other_and_to_the_deploy_examples() -> None:
    guide = GUIDE.read_text()
    readme = (ROOT / "README.md").read_text()

    assert "(runbooks.md)" in guide
    for target in re.findall(r"\]\((\.\./[^)#]+)", guide):
        assert (GUIDE.parent / target).resolve().exists(), target
    assert "docs/runbooks.md" in readme
    assert "## Deploy" in readme
    assert "## Limits" in readme
