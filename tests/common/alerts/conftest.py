"""Alerts under test: a staging configuration with every destination faked
at HTTP, alert and incident builders, and backoff waits recorded, not spent."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from common import http as http_wrapper
from common.alerts import destinations
from common.alerts.model import Alert
from common.settings import Settings
from tests.conftest import LogCapture

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "monitoring"
PAGERDUTY_URL = "https://events.pagerduty.test/v2/enqueue"
SLACK_URL = "https://hooks.slack.test/services/T0/B0/secret"
WEBHOOK_URL = "https://alerts.example.test/hook"
WEBHOOK_SECRET = "webhook-signing-secret"

DESTINATION_ENV = {
    "ENVIRONMENT": "staging",
    "GOOGLE_CLOUD_PROJECT": "acme-telephony-staging",
    "ALERT_PAGERDUTY_ROUTING_KEY": "pd-routing-key",
    "ALERT_PAGERDUTY_EVENTS_URL": PAGERDUTY_URL,
    "ALERT_SLACK_WEBHOOK_URL": SLACK_URL,
}


def make_alert(**changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "name": "twilio_webhook_failure",
        "severity": "P0",
        "state": "firing",
        "summary": "Twilio webhook failures on /twilio/sms: 5 in 5 min (threshold 5)",
        "runbook_url": "wiki/Runbooks#twilio-webhook-failure",
        "dedup_key": "twilio_webhook_failure:/twilio/sms",
        "source": "function:twilio_sms",
        "started_at": 1_796_292_060.0,
        "labels": {"route": "/twilio/sms", "function": "twilio_sms"},
        "correlation": {
            "request_id": "req-7f3a",
            "business_id": "biz-123",
            "call_sid": "-",
            "message_sid": "SM0001",
        },
        "details": {"count": 5, "threshold": 5, "window_minutes": 5},
    }
    fields.update(changes)
    return Alert(**fields)


def incident(kind: str = "open", **changes: Any) -> dict[str, Any]:
    """The Monitoring notification fixture, with incident fields changed."""
    payload: dict[str, Any] = json.loads(
        (FIXTURES / f"incident-{kind}.json").read_text()
    )
    payload = copy.deepcopy(payload)
    payload["incident"].update(changes)
    return payload


def as_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff waits the destinations asked for, in order."""
    waited: list[float] = []
    monkeypatch.setattr(destinations, "sleep", waited.append)
    return waited


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def staging(
    configure: Callable[..., tuple[Settings, LogCapture]],
    http: responses.RequestsMock,
    sleeps: list[float],
) -> Callable[..., tuple[Settings, LogCapture]]:
    """Boot with PagerDuty and Slack configured (faked at HTTP, answering OK)."""

    def apply(**env: str) -> tuple[Settings, LogCapture]:
        return configure(**{**DESTINATION_ENV, **env})

    return apply


def pagerduty_ok(http: responses.RequestsMock) -> None:
    http.post(PAGERDUTY_URL, status=202, json={"status": "success"})


def slack_ok(http: responses.RequestsMock) -> None:
    http.post(SLACK_URL, status=200, body="ok")


def sent_to(http: responses.RequestsMock, url: str) -> list[dict[str, Any]]:
    """The JSON bodies posted to `url`, in order."""
    return [
        json.loads(call.request.body or b"{}")
        for call in http.calls
        if call.request.url == url
    ]


class _SlowClock:
    """Every reading is 5 ms after the last: each request takes 5 ms."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 0.005
        return self.now


@pytest.fixture
def slow_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests measured by the HTTP wrapper take 5 ms, whatever the machine."""
    monkeypatch.setattr(http_wrapper, "time", _SlowClock())
