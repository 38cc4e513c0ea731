"""Publishing: every alert the functions fire reaches the alert router.

With `ALERT_TOPIC` set (a topic id with `GOOGLE_CLOUD_PROJECT`, or a full
`projects/<project>/topics/<topic>` path) the alert is published on Pub/Sub
as `Alert.to_message()`, with its name, severity, state and dedup key as
attributes. `google-cloud-pubsub` is imported on the first publish and one
client serves the instance; it talks to `PUBSUB_EMULATOR_HOST` when that is
set. Unset, the alert is handed in-process to the router
(`common.alerts.router.handle_alert`), the embedded default.

A failed attempt is retried a bounded number of times; a final failure is
logged as `alert_publish_failed` and never fails the request that fired it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from common.alerts.model import Alert
from common.logs import get_logger
from common.settings import Settings, get_settings

if TYPE_CHECKING:
    from tenacity import RetryCallState

log = get_logger(__name__)

ATTEMPTS = 3
# Seconds: first wait between attempts, doubling, and the most any one wait.
RETRY_WAIT_SECONDS = 0.2
RETRY_WAIT_MAX_SECONDS = 2.0
PUBLISH_TIMEOUT_SECONDS = 10.0

_client: Any = None
_client_lock = threading.Lock()


class PublishError(RuntimeError):
    """The alert could not be handed on; the message says to whom and why."""


def publish(alert: Alert) -> None:
    """Deliver an alert to the router, by Pub/Sub or in-process. Never raises."""
    # Imported on first alert: tenacity costs tens of milliseconds at start-up.
    from tenacity import Retrying, stop_after_attempt, wait_exponential

    settings = get_settings()
    transport = "pubsub" if settings.alert_topic else "in_process"
    retrying = Retrying(
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_exponential(
            multiplier=RETRY_WAIT_SECONDS, max=RETRY_WAIT_MAX_SECONDS
        ),
        before_sleep=lambda state: _log_retry(alert, transport, state),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                _deliver(alert, settings)
    except Exception as exc:
        log.error(
            "alert_publish_failed",
            f"alert {alert.name} was not delivered after {ATTEMPTS} attempts",
            alert=alert.name,
            alert_severity=alert.severity,
            dedup_key=alert.dedup_key,
            transport=transport,
            attempts=ATTEMPTS,
            error=f"{type(exc).__name__}: {exc}",
        )


def _deliver(alert: Alert, settings: Settings) -> None:
    if settings.alert_topic:
        _publish_to_topic(alert, topic_path(settings))
    else:
        _hand_to_router(alert)


def _log_retry(alert: Alert, transport: str, state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "alert_publish_retry",
        f"delivering alert {alert.name} failed; retrying",
        alert=alert.name,
        dedup_key=alert.dedup_key,
        transport=transport,
        attempt=state.attempt_number,
        error=f"{type(error).__name__}: {error}" if error else "-",
    )


def topic_path(settings: Settings) -> str:
    """The full topic path `ALERT_TOPIC` names."""
    topic = settings.alert_topic or ""
    if topic.startswith("projects/"):
        return topic
    if not settings.google_cloud_project:
        raise PublishError(
            f"ALERT_TOPIC={topic!r} is a bare topic id: set GOOGLE_CLOUD_PROJECT "
            "or give the full projects/<project>/topics/<topic> path"
        )
    return f"projects/{settings.google_cloud_project}/topics/{topic}"


def publisher_client() -> Any:
    """The instance's one Pub/Sub publisher, created on first use."""
    global _client
    with _client_lock:
        if _client is None:
            import google.cloud.pubsub_v1 as pubsub_v1

            _client = pubsub_v1.PublisherClient()
        return _client


def reset_client() -> None:
    """Drop the publisher so the next publish builds a new one (tests)."""
    global _client
    with _client_lock:
        _client = None


def _publish_to_topic(alert: Alert, topic: str) -> None:
    future = publisher_client().publish(
        topic,
        alert.to_message(),
        alert=alert.name,
        severity=alert.severity,
        state=alert.state,
        dedup_key=alert.dedup_key,
    )
    message_id = future.result(timeout=PUBLISH_TIMEOUT_SECONDS)
    log.info(
        "alert_published",
        f"alert {alert.name} published on {topic}",
        alert=alert.name,
        dedup_key=alert.dedup_key,
        topic=topic,
        pubsub_message_id=message_id,
    )


def _hand_to_router(alert: Alert) -> None:
    # Imported on first alert: the router and its destinations are not needed
    # at cold start.
    from common.alerts.router import handle_alert

    handle_alert(alert)
