"""Publishing: the drills' alerts reach the real Pub/Sub emulator, and a
failed publish never fails the request."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from common import outbox
from common.alerts import publish
from common.alerts.model import Alert
from common.settings import Settings
from tests.conftest import LogCapture
from tests.runtime import local_client
from tools.drills import DRILL_API_KEY, DRILLS, Drill

Configure = Callable[..., tuple[Settings, LogCapture]]
PROJECT = "alerts-test"
PULL_DEADLINE_SECONDS = 30.0


@pytest.fixture
def no_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(publish, "RETRY_WAIT_SECONDS", 0)


@pytest.fixture
def topic(
    pubsub_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """A fresh topic and subscription on the emulator: (topic, subscription)."""
    from google.cloud import pubsub_v1

    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator)
    publish.reset_client()
    name = f"alerts-{uuid.uuid4().hex[:8]}"
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic_path = publisher.topic_path(PROJECT, name)
    subscription_path = subscriber.subscription_path(PROJECT, name)
    publisher.create_topic(name=topic_path)
    subscriber.create_subscription(name=subscription_path, topic=topic_path)
    try:
        yield topic_path, subscription_path
    finally:
        subscriber.delete_subscription(subscription=subscription_path)
        publisher.delete_topic(topic=topic_path)
        subscriber.close()
        publish.reset_client()


def _pull_all(subscription: str) -> list[Any]:
    """Every message on the subscription, acknowledged.

    Publishing finished before the request was answered, so the messages are
    all there: pull until some arrive, then once more to see none is left.
    """
    from google.api_core.exceptions import DeadlineExceeded
    from google.cloud import pubsub_v1

    received: list[Any] = []
    deadline = time.monotonic() + PULL_DEADLINE_SECONDS
    with pubsub_v1.SubscriberClient() as subscriber:
        while time.monotonic() < deadline:
            try:
                answer = subscriber.pull(
                    subscription=subscription,
                    max_messages=10,
                    timeout=1 if received else 5,
                )
            except DeadlineExceeded:
                answer = None
            if answer is None or not answer.received_messages:
                if received:
                    break
                continue
            received.extend(item.message for item in answer.received_messages)
            subscriber.acknowledge(
                subscription=subscription,
                ack_ids=[item.ack_id for item in answer.received_messages],
            )
    return received


@pytest.mark.emulator
@pytest.mark.parametrize("drill", DRILLS, ids=lambda drill: drill.name)
def test_drill_publishes_exactly_its_alert_to_pubsub(
    configure: Configure,
    pubsub_emulator: str,
    topic: tuple[str, str],
    slow_requests: None,
    drill: Drill,
) -> None:
    topic_path, subscription = topic
    _, logs = configure(
        **drill.env,
        DEMO_API_KEY=DRILL_API_KEY,
        ALERT_TOPIC=topic_path,
        PUBSUB_EMULATOR_HOST=pubsub_emulator,
    )

    local_client().post(drill.path, data=drill.body, headers=dict(drill.headers))

    messages = _pull_all(subscription)
    assert len(messages) == 1
    alert = Alert.from_message(json.loads(messages[0].data))
    assert (alert.name, alert.severity) == (drill.alert, drill.severity)
    assert alert.runbook_url.startswith("wiki/Runbooks#")
    assert messages[0].attributes["dedup_key"] == alert.dedup_key
    assert logs.one("alert_published")["topic"] == topic_path
    assert outbox.read("alerts") == []


@pytest.mark.emulator
def test_publish_to_a_missing_topic_is_retried_logged_and_spares_the_request(
    configure: Configure,
    pubsub_emulator: str,
    topic: tuple[str, str],
    no_retry_waits: None,
) -> None:
    topic_path, _ = topic
    _, logs = configure(
        TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD="1",
        ALERT_TOPIC=topic_path + "-missing",
        PUBSUB_EMULATOR_HOST=pubsub_emulator,
    )

    response = local_client().post("/twilio/sms", data={"MessageSid": "SM1"})

    assert response.status_code == 403
    assert len(logs.events("alert_publish_retry")) == publish.ATTEMPTS - 1
    failed = logs.one("alert_publish_failed")
    assert failed["alert"] == "twilio_webhook_failure"
    assert failed["transport"] == "pubsub"
    assert "NotFound" in failed["error"]


def test_topic_id_is_completed_with_the_project(configure: Configure) -> None:
    settings, _ = configure(ALERT_TOPIC="alerts", GOOGLE_CLOUD_PROJECT="acme")

    assert publish.topic_path(settings) == "projects/acme/topics/alerts"
