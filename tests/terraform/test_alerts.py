"""Every catalogue alert becomes a log-based metric and an alert policy."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.terraform.conftest import CATALOGUE, TERRAFORM_DIR, Config, Console

ALL_THRESHOLDS = {
    "twilio_webhook_failure_alert_threshold": 5,
    "billing_webhook_failure_alert_threshold": 3,
    "latency_alert_threshold_ms": 3000,
    "rate_limit_anomaly_threshold_business": 50,
    "rate_limit_anomaly_threshold_ip": 40,
    "rate_limit_anomaly_threshold_5xx": 10,
    "runbook_base_url": "https://runbooks.example.com/ops",
}


def _catalogue() -> dict[str, Any]:
    alerts: dict[str, Any] = yaml.safe_load(CATALOGUE.read_text())["alerts"]
    return alerts


def test_every_catalogue_alert_has_a_metric(console: Console) -> None:
    metrics = console.evaluate("local.alert_metrics", **ALL_THRESHOLDS)

    for name, alert in _catalogue().items():
        metric = metrics[name]
        assert metric["metric_name"] == alert["metric"]["name"]
        assert metric["labels"] == alert["metric"]["labels"]
        assert trimmed(alert["log_filter"]) in metric["filter"] or alert["match"].get(
            "path_prefix_variable"
        )
        for label in alert["metric"]["labels"]:
            assert metric["label_extractors"][label] == f"EXTRACT(jsonPayload.{label})"


def trimmed(text: str) -> str:
    return text.strip()


def test_counters_count_and_latency_is_a_distribution_of_milliseconds(
    console: Console,
) -> None:
    metrics = console.evaluate("local.alert_metrics", **ALL_THRESHOLDS)

    for name, alert in _catalogue().items():
        metric = metrics[name]
        if alert["metric"]["kind"] == "distribution":
            field = alert["metric"]["value_field"]
            assert metric["value_type"] == "DISTRIBUTION"
            assert metric["value_extractor"] == f"EXTRACT(jsonPayload.{field})"
            assert metric["unit"] == "ms"
        else:
            assert metric["value_type"] == "INT64"
            assert metric["value_extractor"] is None


def test_metrics_count_only_this_environments_cloud_run_lines(
    console: Console,
) -> None:
    metrics = console.evaluate("local.alert_metrics", environment="staging")

    for metric in metrics.values():
        assert 'resource.type="cloud_run_revision"' in metric["filter"]
        assert 'jsonPayload.environment="staging"' in metric["filter"]


def test_latency_metric_watches_the_configured_paths(console: Console) -> None:
    metrics = console.evaluate(
        "local.alert_metrics", latency_alert_paths='["/v1/voice","/v2/chat"]'
    )

    latency = [m for m in metrics.values() if m["value_type"] == "DISTRIBUTION"]
    assert latency, "the catalogue has a latency distribution"
    assert 'jsonPayload.path=~"^/v2/chat"' in latency[0]["filter"]
    assert '"^/v1/widget"' not in latency[0]["filter"]


def test_no_metric_is_labelled_by_business_or_client_ip(console: Console) -> None:
    metrics = console.evaluate("local.alert_metrics")

    for name, metric in metrics.items():
        assert not {"business_id", "client_ip"} & set(metric["labels"]), name
        assert len(metric["labels"]) <= 10, name


def test_every_alert_with_a_threshold_has_a_policy_with_runbook_and_severity(
    console: Console,
) -> None:
    policies = console.evaluate("local.alert_policies", **ALL_THRESHOLDS)
    base = ALL_THRESHOLDS["runbook_base_url"]

    assert set(policies) == set(_catalogue())
    for name, alert in _catalogue().items():
        policy = policies[name]
        runbook = f"{base}#{alert['runbook_anchor']}"
        assert (
            policy["severity"] == {"P0": "CRITICAL", "P1": "WARNING"}[alert["severity"]]
        )
        assert policy["user_labels"] == {
            "alert": name,
            "severity": alert["severity"].lower(),
            "runbook_anchor": alert["runbook_anchor"],
            "environment": "test",
        }
        assert runbook in policy["content"]
        assert policy["links"] == [
            {"display_name": f"Runbook: {alert['runbook_anchor']}", "url": runbook}
        ]
        assert policy["subject"].startswith(f"[{alert['severity']}] {name}")


def test_unset_threshold_leaves_its_alert_without_a_policy(console: Console) -> None:
    policies = console.evaluate(
        "local.alert_policies", twilio_webhook_failure_alert_threshold=5
    )

    expected = {
        name
        for name, alert in _catalogue().items()
        if alert["threshold_variable"]
        in (None, "TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD")
    }
    assert set(policies) == expected


def test_a_count_fires_when_it_reaches_the_threshold(console: Console) -> None:
    policies = console.evaluate("local.alert_policies", **ALL_THRESHOLDS)

    for name, alert in _catalogue().items():
        policy = policies[name]
        variable = alert["threshold_variable"]
        threshold = ALL_THRESHOLDS[variable.lower()] if variable else 1
        if alert["metric"]["kind"] == "distribution":
            assert policy["threshold_value"] == threshold
            assert policy["per_series_aligner"] == "ALIGN_PERCENTILE_99"
        else:
            # COMPARISON_GT against threshold-1: a count of exactly N fires.
            assert policy["threshold_value"] == threshold - 1
            assert policy["alignment_period"] == "300s"
            assert policy["per_series_aligner"] == "ALIGN_SUM"


def test_policies_group_only_by_labels_their_metric_has(console: Console) -> None:
    policies = console.evaluate("local.alert_policies", **ALL_THRESHOLDS)

    for name, alert in _catalogue().items():
        fields = policies[name]["group_by_fields"]
        labels = alert["metric"]["labels"]
        assert fields == [
            f"metric.label.{label}" for label in alert["group_by"] if label in labels
        ]


def test_metric_and_policy_resources_iterate_the_catalogue(config: Config) -> None:
    metric = config.resource("google_logging_metric", "alert")
    policy = config.resource("google_monitoring_alert_policy", "alert")

    assert metric["for_each"] == "${local.alert_metrics}"
    assert policy["for_each"] == "${local.alert_policies}"
    assert re.search(
        r"yamldecode\(file\(.*common/alerts/catalogue\.yaml", config.locals["catalogue"]
    )
    assert "local.catalogue" in config.locals["alert_metrics"]
    assert "local.catalogue" in config.locals["alert_policies"]


def test_no_alert_or_metric_name_is_copied_into_terraform() -> None:
    text = "\n".join(path.read_text() for path in TERRAFORM_DIR.glob("*.tf"))
    names = set(_catalogue())
    names |= {alert["metric"]["name"] for alert in _catalogue().values()}

    def written(name: str) -> bool:
        return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None

    assert sorted(name for name in names if written(name)) == []


def test_policies_depend_explicitly_on_their_metrics(config: Config) -> None:
    policy = config.resource("google_monitoring_alert_policy", "alert")

    assert "${google_logging_metric.alert}" in policy["depends_on"]
    condition = policy["conditions"][0]["condition_threshold"][0]
    assert "google_logging_metric.alert[each.key].name" in condition["filter"]
    assert condition["comparison"] == "COMPARISON_GT"


def test_policies_notify_the_alerts_topic_whose_publisher_is_monitoring(
    config: Config,
) -> None:
    channel = config.resource("google_monitoring_notification_channel", "alerts_topic")
    grant = config.resource("google_pubsub_topic_iam_member", "monitoring_publisher")
    policy = config.resource("google_monitoring_alert_policy", "alert")

    assert channel["type"] == "pubsub"
    assert channel["labels"]["topic"] == "${google_pubsub_topic.alerts.id}"
    assert grant["role"] == "roles/pubsub.publisher"
    assert "gcp-sa-monitoring-notification.iam.gserviceaccount.com" in grant["member"]
    assert "data.google_project.this.number" in grant["member"]
    assert policy["notification_channels"] == [
        "${google_monitoring_notification_channel.alerts_topic.id}"
    ]


# Drift: a catalogue entry Terraform cannot turn into a metric and a policy
# must fail, never be skipped in silence.

_NEW_ALERT = """
  voicemail_backlog:
    severity: P1
    summary: "Voicemails waiting: {count}"
    runbook_anchor: voicemail-backlog
    threshold_variable: VOICEMAIL_BACKLOG_ALERT_THRESHOLD
    group_by: [route]
    match:
      event: voicemail_saved
    log_filter: >-
      jsonPayload.event="voicemail_saved"
"""


def _with_alert(extra: str) -> str:
    return CATALOGUE.read_text().rstrip() + "\n" + extra


def test_alert_added_without_a_metric_fails_evaluation(
    console_for: Callable[[str], Console],
) -> None:
    from tests.terraform.conftest import TerraformError

    drifted = console_for(_with_alert(_NEW_ALERT))

    with pytest.raises(TerraformError, match="metric"):
        drifted.evaluate("local.alert_metrics")


def test_alert_whose_threshold_variable_terraform_lacks_fails_evaluation(
    console_for: Callable[[str], Console],
) -> None:
    from tests.terraform.conftest import TerraformError

    with_metric = _NEW_ALERT + (
        "    metric:\n      name: voicemail_backlog\n      kind: counter\n"
        "      labels: [route]\n"
    )
    drifted = console_for(_with_alert(with_metric))

    with pytest.raises(TerraformError, match="VOICEMAIL_BACKLOG_ALERT_THRESHOLD"):
        drifted.evaluate("local.alert_policies", **ALL_THRESHOLDS)
