"""The log shipping examples keep Cloud Logging's special fields and the
correlation ids as fields, never as labels."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CORRELATION = ("request_id", "business_id", "call_sid", "message_sid")


def _sections(text: str) -> list[tuple[str, dict[str, str]]]:
    """Fluent Bit's classic format: `[SECTION]` then `Key Value` lines."""
    sections: list[tuple[str, dict[str, str]]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = re.fullmatch(r"\[([A-Z]+)\]", stripped)
        if header:
            sections.append((header.group(1), {}))
            continue
        key, _, value = stripped.partition(" ")
        sections[-1][1][key.lower()] = value.strip()
    return sections


def test_fluent_bit_sends_json_lines_with_their_special_fields() -> None:
    sections = _sections((DEPLOY / "fluent-bit" / "fluent-bit.conf").read_text())
    parsers = _sections((DEPLOY / "fluent-bit" / "parsers.conf").read_text())

    output = next(body for kind, body in sections if kind == "OUTPUT")
    merge = next(body for kind, body in sections if body.get("name") == "kubernetes")
    parser = next(body for kind, body in parsers if kind == "PARSER")
    assert output["name"] == "stackdriver"
    assert output["severity_key"] == "severity"
    assert output["trace_key"] == "logging.googleapis.com/trace"
    assert output["span_id_key"] == "logging.googleapis.com/spanId"
    assert output["http_request_key"] == "httpRequest"
    assert merge["merge_log"] == "On"
    assert merge["merge_parser"] == parser["name"]
    assert parser["format"] == "json"


def _collector() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (DEPLOY / "otel-collector" / "config.yaml").read_text()
    )
    return loaded


def test_collector_makes_service_and_environment_the_only_labels() -> None:
    operators = _collector()["receivers"]["filelog"]["operators"]

    moved_to_resource = {
        op["from"].removeprefix("attributes.")
        for op in operators
        if op["type"] == "move" and op["to"].startswith("resource")
    }

    assert moved_to_resource == {"service", "environment"}
    assert not set(CORRELATION) & moved_to_resource


def test_collector_parses_json_lines_and_forwards_to_loki_and_datadog() -> None:
    config = _collector()
    parser = next(
        op
        for op in config["receivers"]["filelog"]["operators"]
        if op["type"] == "json_parser"
    )
    pipelines = config["service"]["pipelines"]

    assert parser["parse_to"] == "attributes"
    assert parser["severity"]["parse_from"] == "attributes.severity"
    assert pipelines["logs/loki"]["exporters"] == ["otlphttp/loki"]
    assert pipelines["logs/datadog"]["exporters"] == ["datadog"]
    assert config["exporters"]["datadog"]["api"]["key"] == "${env:DD_API_KEY}"
