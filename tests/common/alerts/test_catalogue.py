"""The alert catalogue: complete entries, filters that agree with `match`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from common.alerts import catalogue
from common.alerts.catalogue import CatalogueError, load_catalogue, log_filter_for
from common.settings import Settings, load_settings
from tests.conftest import LogCapture

Configure = Callable[..., tuple[Settings, LogCapture]]

EXPECTED_ALERTS = {
    "twilio_webhook_failure": "P0",
    "billing_webhook_failure": "P0",
    "latency_slo_breach": "P0",
    "error_rate_spike": "P1",
    "rate_limit_business_anomaly": "P1",
    "rate_limit_ip_anomaly": "P1",
    "notification_failure": "P1",
}


def _normalised(text: str) -> str:
    return " ".join(text.split())


def test_catalogue_lists_every_alert_with_its_severity() -> None:
    found = {name: item.severity for name, item in catalogue.catalogue().items()}

    assert found == EXPECTED_ALERTS


@pytest.mark.parametrize("name", sorted(EXPECTED_ALERTS))
def test_every_alert_has_every_required_field(name: str) -> None:
    definition = catalogue.get(name)

    assert definition.summary
    assert definition.runbook_anchor
    assert definition.group_by
    assert definition.event
    assert definition.metric["name"]
    assert definition.log_filter


@pytest.mark.parametrize("name", sorted(EXPECTED_ALERTS))
def test_log_filter_selects_what_match_counts(name: str) -> None:
    definition = catalogue.get(name)

    generated = log_filter_for(definition.match, load_settings({}))

    assert _normalised(generated) == _normalised(definition.log_filter)


def test_runbook_link_is_base_url_and_anchor(configure: Configure) -> None:
    settings, _ = configure(RUNBOOK_BASE_URL="https://wiki.example.com/Runbooks")

    url = catalogue.get("twilio_webhook_failure").runbook_url(settings)

    assert url == "https://wiki.example.com/Runbooks#twilio-webhook-failure"


def test_runbook_link_defaults_to_the_wiki_page() -> None:
    url = catalogue.get("latency_slo_breach").runbook_url(load_settings({}))

    assert url == "wiki/Runbooks#latency-slo-breach"


def test_threshold_comes_from_its_variable_and_unset_disables() -> None:
    definition = catalogue.get("error_rate_spike")
    configured = load_settings({"RATE_LIMIT_ANOMALY_THRESHOLD_5XX": "7"})
    unset = load_settings({})

    assert definition.threshold(configured) == 7
    assert definition.enabled(configured)
    assert not definition.enabled(unset)


def test_alert_without_threshold_variable_is_always_enabled() -> None:
    assert catalogue.get("notification_failure").enabled(load_settings({}))


def test_summary_fills_placeholders_and_shows_dash_for_missing() -> None:
    definition = catalogue.get("twilio_webhook_failure")

    summary = definition.render_summary(
        {"route": "/twilio/sms", "count": 3, "window_minutes": "5"}
    )

    assert summary == "Twilio webhook failures on /twilio/sms: 3 in 5 min (threshold -)"


def test_match_honours_lists_and_bounds() -> None:
    definition = catalogue.get("twilio_webhook_failure")
    settings = load_settings({})
    failed = {"event": "request_completed", "function": "twilio_sms", "status": 403}

    assert definition.matches(failed, settings)
    assert not definition.matches({**failed, "status": 200}, settings)
    assert not definition.matches({**failed, "function": "chat"}, settings)


def test_latency_match_follows_latency_alert_paths() -> None:
    definition = catalogue.get("latency_slo_breach")
    settings = load_settings({"LATENCY_ALERT_PATHS": "/v1/voice"})
    line = {"event": "request_completed", "path": "/v1/chat"}

    assert not definition.matches(line, settings)
    assert definition.matches({**line, "path": "/v1/voice/gather"}, settings)


def test_catalogue_naming_an_unknown_setting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text(
        "alerts:\n"
        "  odd:\n"
        "    severity: P1\n"
        "    summary: x\n"
        "    runbook_anchor: odd\n"
        "    threshold_variable: NO_SUCH_THRESHOLD\n"
        "    group_by: [route]\n"
        "    match: {event: request_completed}\n"
        "    log_filter: x\n"
        "    metric: {name: odd, kind: counter}\n"
    )

    with pytest.raises(CatalogueError, match="NO_SUCH_THRESHOLD"):
        load_catalogue(path)


def test_catalogue_entry_missing_a_field_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.yaml"
    path.write_text("alerts:\n  odd:\n    severity: P1\n")

    with pytest.raises(CatalogueError, match=r"odd.*lacks summary"):
        load_catalogue(path)


def test_packaged_json_snapshot_reads_as_the_same_catalogue(tmp_path: Path) -> None:
    import json

    import yaml

    from common.alerts.catalogue import CATALOGUE_PATH, load_catalogue

    snapshot = tmp_path / "catalogue.json"
    snapshot.write_text(json.dumps(yaml.safe_load(CATALOGUE_PATH.read_text())))

    assert load_catalogue(snapshot) == load_catalogue(CATALOGUE_PATH)
