"""What the router understands: the functions' alerts and Cloud Monitoring
incidents, however partial."""

from __future__ import annotations

import json

import pytest

from common.alerts.normalize import (
    UnreadableAlert,
    incident_alert,
    parse_alert,
    problem_key,
)
from tests.common.alerts.conftest import as_bytes, incident, make_alert

BASE = "https://wiki.example.test/Runbooks"


def test_published_alert_comes_back_unchanged() -> None:
    alert = make_alert()

    assert parse_alert(alert.to_message(), BASE) == alert


def test_open_incident_becomes_a_firing_p0_with_its_runbook() -> None:
    alert = parse_alert(as_bytes(incident("open")), BASE)

    assert alert.name == "twilio_webhook_failure"
    assert alert.severity == "P0"
    assert alert.state == "firing"
    assert alert.dedup_key == "0.n8k2j4x9vq1a"
    assert alert.runbook_url == "wiki/Runbooks#twilio-webhook-failure"
    assert alert.details["threshold"] == "5"
    assert alert.details["observed"] == "9.000"
    assert alert.labels["route"] == "/twilio/sms"
    assert alert.links["incident"].startswith("https://console.cloud.google.com/")
    assert alert.source == "cloud-monitoring"
    assert alert.ended_at is None
    assert not alert.test


def test_closed_incident_is_a_resolution_with_its_end() -> None:
    alert = parse_alert(as_bytes(incident("closed")), BASE)

    assert alert.state == "resolved"
    assert alert.ended_at == 1796292900.0
    assert alert.dedup_key == "0.n8k2j4x9vq1a"


def test_upper_case_state_and_test_version_make_a_test_alert() -> None:
    payload = incident("open", state="OPEN")
    payload["version"] = "test"

    alert = parse_alert(as_bytes(payload), BASE)

    assert alert.state == "firing"
    assert alert.test


def test_incident_with_no_fields_still_makes_an_alert() -> None:
    alert = parse_alert(b'{"version": "1.2", "incident": {}}', BASE)

    assert alert.state == "firing"
    assert alert.severity == "P1"
    assert alert.name == "monitoring_incident"
    assert alert.runbook_url == BASE
    assert alert.summary.startswith("Cloud Monitoring incident")


@pytest.mark.parametrize(
    ("policy_severity", "user_labels", "expected"),
    [
        ("Critical", {}, "P0"),
        ("Error", {}, "P1"),
        ("Warning", {}, "P1"),
        ("Warning", {"severity": "P0"}, "P0"),
        ("Critical", {"priority": "p1"}, "P1"),
        ("no severity", {"alert": "latency_slo_breach"}, "P0"),
        (None, {}, "P1"),
    ],
)
def test_severity_from_user_labels_then_policy_then_catalogue(
    policy_severity: str | None, user_labels: dict[str, str], expected: str
) -> None:
    payload = {
        "incident": {"severity": policy_severity, "policy_user_labels": user_labels}
    }

    assert incident_alert(payload, BASE).severity == expected


def test_runbook_from_the_user_label_anchor_when_no_documentation_link() -> None:
    payload = incident(
        "open",
        documentation={"content": "see runbook"},
        policy_user_labels={"runbook_anchor": "custom-anchor"},
    )

    assert incident_alert(payload, BASE).runbook_url == f"{BASE}#custom-anchor"


def test_alert_name_from_the_log_based_metric_in_the_catalogue() -> None:
    payload = {
        "incident": {"metric": {"type": "logging.googleapis.com/user/server_errors"}}
    }

    alert = incident_alert(payload, BASE)

    assert alert.name == "error_rate_spike"
    assert alert.runbook_url == f"{BASE}#error-rate-spike"


def test_numbers_given_as_text_are_read() -> None:
    payload = incident("closed", started_at="1796292060", ended_at="1796292900")

    alert = incident_alert(payload, BASE)

    assert (alert.started_at, alert.ended_at) == (1796292060.0, 1796292900.0)


@pytest.mark.parametrize(
    "payload",
    [
        {
            "schema": "ai-telephony-alert/1",
            **json.loads(make_alert().to_message()),
            "severity": "P7",
        },
        {
            "schema": "ai-telephony-alert/1",
            **json.loads(make_alert().to_message()),
            "dedup_key": "",
        },
    ],
)
def test_published_alert_with_impossible_values_is_unreadable(
    payload: dict[str, object],
) -> None:
    with pytest.raises(UnreadableAlert):
        parse_alert(json.dumps(payload).encode(), BASE)


def test_incident_and_functions_alert_on_one_route_share_a_problem_key() -> None:
    from_monitoring = parse_alert(as_bytes(incident("open")), BASE)
    from_functions = make_alert()

    assert problem_key(from_monitoring) == "twilio_webhook_failure:/twilio/sms"
    assert problem_key(from_functions) == from_functions.dedup_key


def test_incident_named_only_by_its_metric_has_the_problem_key_of_its_alert() -> None:
    payload = incident(
        "open",
        policy_user_labels={},
        metric={
            "type": "logging.googleapis.com/user/twilio_webhook_errors",
            "labels": {"route": "/twilio/sms", "status": "503"},
        },
    )

    alert = parse_alert(as_bytes(payload), BASE)

    assert problem_key(alert) == "twilio_webhook_failure:/twilio/sms"


def test_incident_grouped_without_the_alerts_labels_has_no_problem_key() -> None:
    payload = incident(
        "open",
        policy_user_labels={"alert": "rate_limit_business_anomaly"},
        metric={"type": "logging.googleapis.com/user/rate_limit_business"},
    )

    assert problem_key(parse_alert(as_bytes(payload), BASE)) is None


def test_functions_alert_keeps_its_business_in_the_problem_key() -> None:
    alert = make_alert(
        name="rate_limit_business_anomaly",
        severity="P1",
        dedup_key="rate_limit_business_anomaly:biz-123",
        labels={"route": "/v1/chat"},
        details={"business_id": "biz-123", "count": 50},
    )

    assert problem_key(alert) == "rate_limit_business_anomaly:biz-123"


def test_alert_outside_the_catalogue_has_no_problem_key() -> None:
    assert problem_key(make_alert(name="disk_full")) is None
