"""The alert catalogue (`catalogue.yaml`), read once and checked.

Each entry says what an alert counts, how much of it is a breach and where
its runbook lives. Detection (`common.alerts.detect`) evaluates `match`
against events as they happen; Terraform turns `log_filter` into a log-based
metric. `log_filter_for` writes the filter a `match` stands for, so a test
keeps the two in agreement.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from common.alerts.model import Severity
from common.settings import Settings

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")
# `make package` writes the same document as JSON beside the YAML in every
# deployable archive, so a cold instance reads it without importing PyYAML.
CATALOGUE_SNAPSHOT = CATALOGUE_PATH.with_suffix(".json")
REQUIRED_FIELDS = (
    "severity",
    "summary",
    "runbook_anchor",
    "threshold_variable",
    "group_by",
    "match",
    "log_filter",
    "metric",
)
SEVERITIES: tuple[Severity, ...] = ("P0", "P1")
_MATCH_OPERATORS = frozenset({"min", "max"})


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the alert and field."""


@dataclass(frozen=True)
class AlertDefinition:
    """One catalogue entry."""

    name: str
    severity: Severity
    summary: str
    runbook_anchor: str
    threshold_variable: str | None
    group_by: tuple[str, ...]
    match: Mapping[str, Any]
    log_filter: str
    metric: Mapping[str, Any]
    fire_at_once_when: Mapping[str, Any] = field(default_factory=dict)
    # A field compared per event against the threshold instead of counting.
    compare: str | None = None

    @property
    def event(self) -> str:
        return str(self.match["event"])

    def threshold(self, settings: Settings) -> int | None:
        """The configured threshold; None disables a thresholded alert."""
        if self.threshold_variable is None:
            return None
        value = getattr(settings, self.threshold_variable.lower())
        return value if isinstance(value, int) else None

    def enabled(self, settings: Settings) -> bool:
        return self.threshold_variable is None or self.threshold(settings) is not None

    def runbook_url(self, settings: Settings) -> str:
        return f"{settings.runbook_base_url}#{self.runbook_anchor}"

    def matches(self, fields: Mapping[str, Any], settings: Settings) -> bool:
        """True when an event with these fields counts toward this alert."""
        return _conditions_hold(self.match, fields, settings)

    def fires_at_once(self, fields: Mapping[str, Any], settings: Settings) -> bool:
        if not self.fire_at_once_when:
            return False
        return _conditions_hold(self.fire_at_once_when, fields, settings)

    def render_summary(self, values: Mapping[str, Any]) -> str:
        """The summary with its placeholders filled; a missing one shows `-`."""
        return string.Formatter().vformat(self.summary, (), _Blanks(values))


class _Blanks(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "-"


def _conditions_hold(
    conditions: Mapping[str, Any], fields: Mapping[str, Any], settings: Settings
) -> bool:
    for name, expected in conditions.items():
        if name == "path_prefix_variable":
            prefixes = getattr(settings, str(expected).lower())
            if not str(fields.get("path", "")).startswith(tuple(prefixes)):
                return False
            continue

        value = fields.get(name)
        if isinstance(expected, list):
            if value not in expected:
                return False
        elif isinstance(expected, Mapping):
            if not isinstance(value, (int, float)):
                return False
            if "min" in expected and value < expected["min"]:
                return False
            if "max" in expected and value > expected["max"]:
                return False
        elif value != expected:
            return False
    return True


def log_filter_for(match: Mapping[str, Any], settings: Settings) -> str:
    """The Cloud Logging filter selecting the log lines `match` counts."""
    clauses = []
    for name, expected in match.items():
        if name == "path_prefix_variable":
            prefixes = getattr(settings, str(expected).lower())
            alternatives = " OR ".join(
                f'jsonPayload.path=~"^{re.escape(prefix)}"' for prefix in prefixes
            )
            clauses.append(f"({alternatives})")
        elif isinstance(expected, list) and len(expected) > 1:
            alternatives = " OR ".join(f'"{value}"' for value in expected)
            clauses.append(f"jsonPayload.{name}=({alternatives})")
        elif isinstance(expected, list):
            clauses.append(f'jsonPayload.{name}="{expected[0]}"')
        elif isinstance(expected, Mapping):
            if "min" in expected:
                clauses.append(f"jsonPayload.{name}>={expected['min']}")
            if "max" in expected:
                clauses.append(f"jsonPayload.{name}<={expected['max']}")
        else:
            clauses.append(f'jsonPayload.{name}="{expected}"')
    return " AND ".join(clauses)


def _definition(name: str, entry: Any) -> AlertDefinition:
    if not isinstance(entry, Mapping):
        raise CatalogueError(f"alert {name!r} must be a mapping of its fields")
    missing = [key for key in REQUIRED_FIELDS if key not in entry]
    if missing:
        raise CatalogueError(f"alert {name!r} lacks {', '.join(missing)}")
    if entry["severity"] not in SEVERITIES:
        raise CatalogueError(
            f"alert {name!r} has severity {entry['severity']!r}: use P0 or P1"
        )
    match = entry["match"]
    if not isinstance(match, Mapping) or "event" not in match:
        raise CatalogueError(f"alert {name!r}: match must name the `event` it counts")
    for key, value in match.items():
        if isinstance(value, Mapping) and not set(value) <= _MATCH_OPERATORS:
            raise CatalogueError(
                f"alert {name!r}: match.{key} may only use min and max bounds"
            )
    variable = entry["threshold_variable"]
    if variable is not None and variable.lower() not in Settings.__dataclass_fields__:
        raise CatalogueError(
            f"alert {name!r} names threshold_variable {variable!r}, "
            "which is not a setting: add it to common/settings.py or fix the name"
        )

    return AlertDefinition(
        name=name,
        severity=entry["severity"],
        summary=str(entry["summary"]),
        runbook_anchor=str(entry["runbook_anchor"]),
        threshold_variable=variable,
        group_by=tuple(entry["group_by"]),
        match=dict(match),
        log_filter=" ".join(str(entry["log_filter"]).split()),
        metric=dict(entry["metric"]),
        fire_at_once_when=dict(entry.get("fire_at_once_when") or {}),
        compare=entry.get("compare"),
    )


def read_document(path: Path) -> Any:
    """The catalogue file as data: JSON for a packaged snapshot, else YAML."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)

    import yaml

    # The C loader, when PyYAML was built with it, reads the file in a
    # millisecond; the pure-Python one takes tens on the first request.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506


def load_catalogue(path: Path = CATALOGUE_PATH) -> dict[str, AlertDefinition]:
    """Parse and check a catalogue file; raises CatalogueError naming the fault."""
    document = read_document(path)
    if not isinstance(document, Mapping) or not isinstance(
        document.get("alerts"), Mapping
    ):
        raise CatalogueError(f"{path} must hold a mapping under `alerts:`")
    return {
        str(name): _definition(str(name), entry)
        for name, entry in document["alerts"].items()
    }


@cache
def catalogue() -> dict[str, AlertDefinition]:
    """The product's catalogue, read on first use and kept."""
    if CATALOGUE_SNAPSHOT.is_file():
        return load_catalogue(CATALOGUE_SNAPSHOT)
    return load_catalogue()


def get(name: str) -> AlertDefinition:
    try:
        return catalogue()[name]
    except KeyError:
        raise KeyError(
            f"no alert named {name!r} in {CATALOGUE_PATH.name}; "
            f"known: {', '.join(sorted(catalogue()))}"
        ) from None


def for_event(event: str) -> list[AlertDefinition]:
    """Every alert that counts this log event."""
    return [item for item in catalogue().values() if item.event == event]
