"""The alert_router function: a Pub/Sub CloudEvent in, pages out."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses
from cloudevents.http import CloudEvent

from common.alerts.model import Alert
from common.alerts.router import AlertDeliveryFailed
from common.settings import Settings
from tests.common.alerts.conftest import (
    DESTINATION_ENV,
    PAGERDUTY_URL,
    SLACK_URL,
    make_alert,
    pagerduty_ok,
    sent_to,
    slack_ok,
)
from tests.conftest import LogCapture

Configure = Callable[..., tuple[Settings, LogCapture]]
TOPIC = "alerts"
SUBSCRIPTION = "alert-router"
PROJECT = "acme-telephony-test"


def message_published(data: bytes, message_id: str) -> CloudEvent:
    """The event Eventarc delivers for a message on the alerts topic."""
    return CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": f"//pubsub.googleapis.com/projects/{PROJECT}/topics/{TOPIC}",
        },
        {
            "message": {
                "data": base64.b64encode(data).decode(),
                "attributes": {"alert": "twilio_webhook_failure"},
                "messageId": message_id,
                "publishTime": "2026-12-03T12:00:00Z",
            },
            "subscription": f"projects/{PROJECT}/subscriptions/{SUBSCRIPTION}",
        },
    )


@pytest.fixture
def alert_router(
    configure: Configure, sleeps: list[float]
) -> Callable[..., tuple[Callable[[CloudEvent], None], LogCapture]]:
    def boot(**env: str) -> tuple[Callable[[CloudEvent], None], LogCapture]:
        _, logs = configure(**{**DESTINATION_ENV, **env})
        from functions.alert_router.main import alert_router as function

        return function, logs

    return boot


def test_drill_p0_event_pages_pagerduty_and_slack_once(
    alert_router: Callable[..., Any], http: responses.RequestsMock
) -> None:
    function, logs = alert_router()
    pagerduty_ok(http)
    slack_ok(http)
    data = make_alert().to_message()

    function(message_published(data, "4001"))
    function(message_published(data, "4001"))

    assert len(sent_to(http, PAGERDUTY_URL)) == 1
    assert len(sent_to(http, SLACK_URL)) == 1
    assert {line["request_id"] for line in logs.events("alert_sent")} == {"4001"}


def test_unreadable_event_is_acknowledged(
    alert_router: Callable[..., Any], http: responses.RequestsMock
) -> None:
    function, logs = alert_router()

    function(message_published(b"not json at all", "4002"))

    assert "not JSON" in logs.one("alert_unreadable")["reason"]
    assert len(http.calls) == 0


def test_destination_down_fails_the_invocation_so_pubsub_redelivers(
    alert_router: Callable[..., Any], http: responses.RequestsMock
) -> None:
    function, _ = alert_router()
    http.post(PAGERDUTY_URL, status=500)
    slack_ok(http)

    with pytest.raises(AlertDeliveryFailed):
        function(message_published(make_alert().to_message(), "4003"))


@pytest.fixture
def pubsub(
    pubsub_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, str]]:
    """A topic and a pull subscription on the emulator; yields (subscriber, path)."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator)
    from google.cloud import pubsub_v1

    from common.alerts import publish

    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT, TOPIC)
    subscription = subscriber.subscription_path(PROJECT, SUBSCRIPTION)
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=subscription, topic=topic)
    publish.reset_client()
    try:
        yield subscriber, subscription
    finally:
        subscriber.delete_subscription(subscription=subscription)
        publisher.delete_topic(topic=topic)
        subscriber.close()
        publish.reset_client()


def pull_one(subscriber: Any, subscription: str) -> Any:
    """The next message on the subscription, waiting for it to arrive."""
    for _ in range(10):
        response = subscriber.pull(subscription=subscription, max_messages=1, timeout=5)
        if response.received_messages:
            return response.received_messages[0]
    raise AssertionError("no message arrived on the subscription")


def as_event(received: Any) -> CloudEvent:
    message = received.message
    event = message_published(message.data, message.message_id)
    event.data["message"]["attributes"] = dict(message.attributes)
    return event


@pytest.mark.emulator
def test_alert_published_on_the_emulator_pages_exactly_once_despite_redelivery(
    alert_router: Callable[..., Any],
    http: responses.RequestsMock,
    pubsub: tuple[Any, str],
    pubsub_emulator: str,
) -> None:
    from common.alerts.publish import publish

    subscriber, subscription = pubsub
    function, logs = alert_router(
        ALERT_TOPIC=TOPIC,
        GOOGLE_CLOUD_PROJECT=PROJECT,
        PUBSUB_EMULATOR_HOST=pubsub_emulator,
    )
    pagerduty_ok(http)
    slack_ok(http)
    alert = make_alert(name="latency_slo_breach", dedup_key="latency:/v1/voice")

    publish(alert)
    first = pull_one(subscriber, subscription)
    function(as_event(first))
    # Not acknowledged in time: Pub/Sub delivers the same message again.
    subscriber.modify_ack_deadline(
        subscription=subscription, ack_ids=[first.ack_id], ack_deadline_seconds=0
    )
    again = pull_one(subscriber, subscription)
    function(as_event(again))
    subscriber.acknowledge(subscription=subscription, ack_ids=[again.ack_id])

    assert again.message.message_id == first.message.message_id
    assert Alert.from_message(json.loads(again.message.data)) == alert
    [page] = sent_to(http, PAGERDUTY_URL)
    assert page["payload"]["class"] == "latency_slo_breach"
    assert len(sent_to(http, SLACK_URL)) == 1
    assert logs.one("alert_suppressed")["reason"] == "redelivery"
