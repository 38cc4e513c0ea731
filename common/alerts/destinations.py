"""Where alerts go: PagerDuty Events API v2, a Slack incoming webhook and a
generic signed webhook, or the local outbox in development.

`deliver` sends one alert to one destination, retrying 429 (after its
`Retry-After`), 5xx, timeouts and connection errors with backoff until the
invocation's deadline. What still fails raises `DeliveryError`, which says
whether a later retry (a Pub/Sub redelivery) could help.

The generic webhook body is the alert as JSON (`Alert.to_message()`), with

    X-Alert-Timestamp: <unix seconds>
    X-Alert-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">

keyed with `ALERT_WEBHOOK_SECRET`. A receiver recomputes the HMAC over the
timestamp, a dot and the raw body, compares in constant time, and refuses
timestamps more than a few minutes old.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tenacity import RetryCallState, Retrying, retry_if_exception

from common import outbox
from common.alerts.model import Alert
from common.logs import get_logger
from common.settings import Settings

if TYPE_CHECKING:
    import requests

log = get_logger(__name__)

OUTBOX_CHANNEL = "alerts"
PAGERDUTY_SEVERITY = {"P0": "critical", "P1": "warning"}
PAGERDUTY_DEDUP_MAX = 255
PAGERDUTY_SUMMARY_MAX = 1024
LOGS_EXPLORER_URL = "https://console.cloud.google.com/logs/query"
MAX_ATTEMPTS = 4
_CONNECT_TIMEOUT = 3.05
_READ_TIMEOUT = 10.0
_BACKOFF_FIRST = 0.5
_BACKOFF_MAX = 8.0

# Replaced in tests to observe the waits without spending them.
sleep: Callable[[float], None] = time.sleep


class DeliveryError(Exception):
    """A destination did not take the alert.

    `retryable` is true when trying again later may succeed (429, 5xx,
    timeouts); false when the request itself is refused (a bad key or URL).
    """

    def __init__(
        self,
        destination: str,
        reason: str,
        retryable: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{destination}: {reason}")
        self.destination = destination
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


def logs_link(alert: Alert, settings: Settings) -> str | None:
    """Logs Explorer showing every line of the request behind the alert."""
    request_id = alert.correlation.get("request_id", "-")
    if not request_id or request_id == "-":
        return None
    query = quote(f'jsonPayload.request_id="{request_id}"', safe="")
    url = f"{LOGS_EXPLORER_URL};query={query}"
    if settings.google_cloud_project:
        url += f"?project={quote(settings.google_cloud_project, safe='')}"
    return url


def is_configured(destination: str, settings: Settings) -> bool:
    if destination == "pagerduty":
        return bool(settings.alert_pagerduty_routing_key)
    if destination == "slack":
        return bool(settings.alert_slack_webhook_url)
    if destination == "webhook":
        return bool(settings.alert_webhook_url)
    return False


def uses_outbox(destination: str, settings: Settings) -> bool:
    """Development, or a destination nobody configured: write to the outbox."""
    if settings.environment in ("dev", "test"):
        return True
    return not is_configured(destination, settings)


def deliver(destination: str, alert: Alert, settings: Settings, deadline: float) -> str:
    """Send `alert` to `destination` before `deadline` (a `time.monotonic()`).

    Returns where it went: `outbox` or `http`. Raises `DeliveryError`.
    """
    if uses_outbox(destination, settings):
        try:
            _write_outbox(destination, alert, settings)
        except OSError as exc:
            raise DeliveryError(
                destination, f"the local outbox is not writable: {exc}", False
            ) from exc
        return "outbox"

    if destination == "pagerduty":
        url = settings.alert_pagerduty_events_url
        body = json.dumps(pagerduty_event(alert, settings)).encode()
        headers = {"Content-Type": "application/json"}
    elif destination == "slack":
        url = settings.alert_slack_webhook_url or ""
        body = json.dumps(slack_message(alert, settings)).encode()
        headers = {"Content-Type": "application/json"}
    elif destination == "webhook":
        url = settings.alert_webhook_url or ""
        body, headers = webhook_request(alert, settings, time.time())
    else:
        raise DeliveryError(destination, "unknown destination", retryable=False)

    _post(destination, url, body, headers, deadline)
    return "http"


def pagerduty_event(alert: Alert, settings: Settings) -> dict[str, Any]:
    """An Events API v2 trigger or resolve for `alert`."""
    event: dict[str, Any] = {
        "routing_key": settings.alert_pagerduty_routing_key or "",
        "event_action": "resolve" if alert.state == "resolved" else "trigger",
        "dedup_key": pagerduty_dedup_key(alert.dedup_key),
    }
    if alert.state == "resolved":
        return event

    event["payload"] = {
        "summary": _shorten(f"[{alert.severity}] {alert.summary}", 1024),
        "source": alert.source,
        "severity": PAGERDUTY_SEVERITY[alert.severity],
        "timestamp": _rfc3339(alert.started_at),
        "class": alert.name,
        "component": alert.labels.get("function", alert.labels.get("service_name")),
        "group": alert.labels.get("route"),
        "custom_details": {
            "runbook_url": alert.runbook_url,
            "correlation": alert.correlation,
            "labels": alert.labels,
            "details": alert.details,
        },
    }
    event["payload"] = {k: v for k, v in event["payload"].items() if v is not None}
    event["links"] = [
        {"href": url, "text": text} for text, url in _links(alert, settings)
    ]
    event["client"] = settings.service_name
    return event


def pagerduty_dedup_key(dedup_key: str) -> str:
    """The key itself, or, past 255 characters, a prefix and its digest."""
    if len(dedup_key) <= PAGERDUTY_DEDUP_MAX:
        return dedup_key
    digest = hashlib.sha256(dedup_key.encode()).hexdigest()
    return dedup_key[: PAGERDUTY_DEDUP_MAX - len(digest) - 1] + ":" + digest


def slack_message(alert: Alert, settings: Settings) -> dict[str, Any]:
    """An incoming-webhook message: a readable `text` and its blocks."""
    state = "RESOLVED" if alert.state == "resolved" else "FIRING"
    heading = f"[{alert.severity} {state}] {alert.name}"
    text = _shorten(f"{heading}: {alert.summary}", 300)

    correlation = alert.correlation
    fields = [
        f"*Severity*\n{alert.severity}",
        f"*Business*\n{_escape(correlation.get('business_id', '-'))}",
        f"*Request id*\n{_escape(correlation.get('request_id', '-'))}",
        f"*Source*\n{_escape(alert.source)}",
    ]
    links = " · ".join(f"<{url}|{text}>" for text, url in _links(alert, settings))
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": _shorten(
                    f"*{_escape(heading)}*\n{_escape(alert.summary)}", 3000
                ),
            },
        },
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": field} for field in fields],
        },
    ]
    if links:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": links}]}
        )
    return {"text": text, "blocks": blocks}


def webhook_request(
    alert: Alert, settings: Settings, now: float
) -> tuple[bytes, dict[str, str]]:
    """The signed body and headers of a generic webhook delivery."""
    secret = settings.alert_webhook_secret
    if not secret:
        raise DeliveryError(
            "webhook",
            "ALERT_WEBHOOK_SECRET is not set; receivers could not verify "
            "the alert, so it was not sent",
            retryable=False,
        )
    body = alert.to_message()
    timestamp = str(int(now))
    return body, {
        "Content-Type": "application/json",
        "X-Alert-Timestamp": timestamp,
        "X-Alert-Signature": "sha256=" + webhook_signature(secret, timestamp, body),
    }


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.<body>`; what a receiver recomputes."""
    signed = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _links(alert: Alert, settings: Settings) -> list[tuple[str, str]]:
    links = [("Runbook", alert.runbook_url)] if alert.runbook_url else []
    logs = alert.links.get("logs") or logs_link(alert, settings)
    if logs:
        links.append(("Logs for this request", logs))
    incident = alert.links.get("incident")
    if incident:
        links.append(("Monitoring incident", incident))
    return links


def _write_outbox(destination: str, alert: Alert, settings: Settings) -> None:
    if destination == "pagerduty":
        payload: Any = pagerduty_event(alert, settings)
        payload.pop("routing_key", None)
    elif destination == "slack":
        payload = slack_message(alert, settings)
    else:
        payload = json.loads(alert.to_message())
    record_in_outbox(destination, alert, payload)


def record_in_outbox(destination: str, alert: Alert, payload: Any) -> None:
    """Write what `destination` would have been sent to the `alerts` outbox."""
    outbox.write(
        OUTBOX_CHANNEL,
        {
            "destination": destination,
            "action": alert.state,
            "alert": alert.name,
            "severity": alert.severity,
            "dedup_key": alert.dedup_key,
            "test": alert.test,
            "payload": payload,
        },
    )


def _post(
    destination: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    deadline: float,
) -> None:
    import requests

    def attempt() -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeliveryError(destination, "no time left to try", retryable=True)
        try:
            response = requests.post(
                url,
                data=body,
                headers=dict(headers),
                timeout=(_CONNECT_TIMEOUT, min(_READ_TIMEOUT, remaining)),
            )
        except requests.Timeout as exc:
            raise DeliveryError(destination, f"timed out: {exc}", True) from exc
        except requests.ConnectionError as exc:
            raise DeliveryError(destination, f"connection failed: {exc}", True) from exc
        _check(destination, response)

    retrying = Retrying(
        retry=retry_if_exception(
            lambda exc: isinstance(exc, DeliveryError) and exc.retryable
        ),
        wait=_wait,
        stop=lambda state: (
            state.attempt_number >= MAX_ATTEMPTS
            or time.monotonic() + (state.upcoming_sleep or 0.0) >= deadline
        ),
        sleep=lambda seconds: sleep(seconds),
        reraise=True,
    )
    retrying(attempt)


def _check(destination: str, response: requests.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = f"HTTP {status}: {response.text[:200]}"
    if status == 429:
        retry_after = _retry_after(response.headers.get("Retry-After"))
        raise DeliveryError(destination, reason, True, retry_after=retry_after)
    raise DeliveryError(destination, reason, retryable=status >= 500)


def _wait(state: RetryCallState) -> float:
    """Exponential backoff, or the destination's `Retry-After` when longer."""
    backoff = min(_BACKOFF_MAX, _BACKOFF_FIRST * 2.0 ** (state.attempt_number - 1))
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if isinstance(error, DeliveryError) and error.retry_after is not None:
        return max(backoff, error.retry_after)
    return backoff


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
