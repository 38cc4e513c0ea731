"""What each destination receives, and how failures are retried."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from urllib.parse import unquote

import pytest
import requests
import responses

from common.alerts.destinations import DeliveryError, deliver
from common.settings import Settings
from tests.common.alerts.conftest import (
    PAGERDUTY_URL,
    SLACK_URL,
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    make_alert,
    sent_to,
)
from tests.conftest import LogCapture

Configure = Callable[..., tuple[Settings, LogCapture]]
LATER = 60.0


def deadline(seconds: float = LATER) -> float:
    return time.monotonic() + seconds


def test_pagerduty_trigger_carries_severity_runbook_and_request_logs(
    staging: Configure, http: responses.RequestsMock
) -> None:
    settings, _ = staging()
    http.post(PAGERDUTY_URL, status=202)

    deliver("pagerduty", make_alert(summary="x" * 2000), settings, deadline())

    [event] = sent_to(http, PAGERDUTY_URL)
    assert event["routing_key"] == "pd-routing-key"
    assert event["event_action"] == "trigger"
    assert event["payload"]["severity"] == "critical"
    assert len(event["payload"]["summary"]) == 1024
    assert event["payload"]["source"] == "function:twilio_sms"
    assert event["payload"]["custom_details"]["correlation"]["request_id"] == "req-7f3a"
    runbook, logs = event["links"][:2]
    assert runbook["href"] == "wiki/Runbooks#twilio-webhook-failure"
    assert logs["href"].startswith("https://console.cloud.google.com/logs/query;query=")
    assert 'jsonPayload.request_id="req-7f3a"' in unquote(logs["href"])
    assert logs["href"].endswith("?project=acme-telephony-staging")


def test_pagerduty_p1_is_a_warning_and_a_long_dedup_key_is_shortened(
    staging: Configure, http: responses.RequestsMock
) -> None:
    settings, _ = staging()
    http.post(PAGERDUTY_URL, status=202)

    deliver("pagerduty", make_alert(severity="P1", dedup_key="k" * 400), settings, 1e12)

    [event] = sent_to(http, PAGERDUTY_URL)
    assert event["payload"]["severity"] == "warning"
    assert len(event["dedup_key"]) == 255


def test_pagerduty_resolve_names_only_the_dedup_key(
    staging: Configure, http: responses.RequestsMock
) -> None:
    settings, _ = staging()
    http.post(PAGERDUTY_URL, status=202)

    deliver("pagerduty", make_alert(state="resolved"), settings, deadline())

    assert sent_to(http, PAGERDUTY_URL) == [
        {
            "routing_key": "pd-routing-key",
            "event_action": "resolve",
            "dedup_key": "twilio_webhook_failure:/twilio/sms",
        }
    ]


def test_slack_message_shows_severity_business_request_and_links(
    staging: Configure, http: responses.RequestsMock
) -> None:
    settings, _ = staging()
    http.post(SLACK_URL, body="ok")

    deliver("slack", make_alert(summary="5 failures <script>"), settings, deadline())

    [message] = sent_to(http, SLACK_URL)
    assert message["text"] == (
        "[P0 FIRING] twilio_webhook_failure: 5 failures <script>"
    )
    blocks = json.dumps(message["blocks"])
    assert "5 failures &lt;script&gt;" in blocks
    assert "biz-123" in blocks
    assert "req-7f3a" in blocks
    assert "<wiki/Runbooks#twilio-webhook-failure|Runbook>" in blocks
    assert "https://console.cloud.google.com/logs/query;query=" in blocks


def test_webhook_body_is_the_alert_signed_with_its_timestamp(
    staging: Configure, http: responses.RequestsMock
) -> None:
    settings, _ = staging(
        ALERT_WEBHOOK_URL=WEBHOOK_URL, ALERT_WEBHOOK_SECRET=WEBHOOK_SECRET
    )
    http.post(WEBHOOK_URL, status=204)

    deliver("webhook", make_alert(), settings, deadline())

    request = http.calls[0].request
    body = request.body if isinstance(request.body, bytes) else b""
    timestamp = request.headers["X-Alert-Timestamp"]
    expected = hmac.new(
        WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert request.headers["X-Alert-Signature"] == f"sha256={expected}"
    assert json.loads(body)["dedup_key"] == "twilio_webhook_failure:/twilio/sms"
    assert abs(int(timestamp) - time.time()) < 300


def test_webhook_without_a_secret_is_refused_not_sent_unsigned(
    staging: Configure, http: responses.RequestsMock
) -> None:
    settings, _ = staging(ALERT_WEBHOOK_URL=WEBHOOK_URL)

    with pytest.raises(DeliveryError, match="ALERT_WEBHOOK_SECRET") as raised:
        deliver("webhook", make_alert(), settings, deadline())

    assert not raised.value.retryable
    assert len(http.calls) == 0


def test_429_waits_as_long_as_retry_after_says_then_succeeds(
    staging: Configure, http: responses.RequestsMock, sleeps: list[float]
) -> None:
    settings, _ = staging()
    http.post(SLACK_URL, status=429, headers={"Retry-After": "7"})
    http.post(SLACK_URL, body="ok")

    assert deliver("slack", make_alert(), settings, deadline()) == "http"

    assert sleeps == [7.0]
    assert len(http.calls) == 2


def test_retry_after_beyond_the_deadline_fails_at_once_as_retryable(
    staging: Configure, http: responses.RequestsMock, sleeps: list[float]
) -> None:
    settings, _ = staging()
    http.post(SLACK_URL, status=429, headers={"Retry-After": "120"})

    with pytest.raises(DeliveryError) as raised:
        deliver("slack", make_alert(), settings, deadline(30))

    assert raised.value.retryable
    assert sleeps == []
    assert len(http.calls) == 1


def test_5xx_is_retried_with_growing_backoff_then_fails_as_retryable(
    staging: Configure, http: responses.RequestsMock, sleeps: list[float]
) -> None:
    settings, _ = staging()
    http.post(PAGERDUTY_URL, status=503)

    with pytest.raises(DeliveryError, match="HTTP 503") as raised:
        deliver("pagerduty", make_alert(), settings, deadline())

    assert raised.value.retryable
    assert sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    "error", [requests.exceptions.ReadTimeout(), requests.exceptions.ConnectionError()]
)
def test_timeouts_and_connection_errors_are_retried(
    staging: Configure,
    http: responses.RequestsMock,
    sleeps: list[float],
    error: Exception,
) -> None:
    settings, _ = staging()
    http.post(SLACK_URL, body=error)
    http.post(SLACK_URL, body="ok")

    assert deliver("slack", make_alert(), settings, deadline()) == "http"

    assert len(sleeps) == 1


def test_4xx_is_not_retried(
    staging: Configure, http: responses.RequestsMock, sleeps: list[float]
) -> None:
    settings, _ = staging()
    http.post(SLACK_URL, status=403, body="invalid_token")

    with pytest.raises(DeliveryError, match="invalid_token") as raised:
        deliver("slack", make_alert(), settings, deadline())

    assert not raised.value.retryable
    assert sleeps == []


def test_unconfigured_destination_in_staging_writes_to_the_outbox(
    configure: Configure, http: responses.RequestsMock
) -> None:
    settings, _ = configure(ENVIRONMENT="staging")

    assert deliver("pagerduty", make_alert(), settings, deadline()) == "outbox"

    assert len(http.calls) == 0
