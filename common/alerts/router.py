"""From an alert to the people on call: once, where the operator routes it.

Two ways in. `handle_message` takes a Pub/Sub message (the alerts topic,
fed by the functions and by Cloud Monitoring); `handle_alert` takes an alert
raised in this process when no topic is configured (`ALERT_TOPIC` unset).

For each alert, in order:

1. Test notifications from Cloud Monitoring go to the test route only (the
   outbox and a log line) and page nobody.
2. An active silence covering the alert stops it (`alert_silenced`).
3. Deduplication, in the store so every instance agrees, by problem: the
   alert's name and catalogue `group_by` values (`normalize.problem_key`),
   or its dedup key when it has none. A firing alert whose problem already
   went out within `ALERT_REPEAT_INTERVAL_SECONDS` is suppressed
   (`alert_suppressed`; reason `same_problem` when the other path, the
   functions or Cloud Monitoring, reported it first). Until the problem
   resolves, what goes out about it carries the dedup key it first paged
   with, so its resolution closes that very PagerDuty incident. A
   resolution goes out once per episode. A resolution for a key never seen
   (its state expired, or the firing came before the router) also goes out
   once: PagerDuty ignores a resolve it cannot match, and dropping it could
   leave an incident open.
4. Routing picks the destinations; each gets the alert (`alert_sent`).
5. A destination that still fails after its retries logs
   `notification_failed`, and a P1 `notification_failure` goes out through
   the destinations that did not fail. Where a retry can help (429, 5xx,
   timeouts) the Pub/Sub invocation then raises so that the message is
   redelivered; destinations that already took it are not sent it again.

A Pub/Sub redelivery of a message already handled does nothing; a message
that cannot be read is logged (`alert_unreadable`) and acknowledged.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from common import context
from common.alerts import catalogue
from common.alerts.destinations import (
    DeliveryError,
    deliver,
    record_in_outbox,
    uses_outbox,
)
from common.alerts.model import Alert
from common.alerts.normalize import UnreadableAlert, parse_alert, problem_key
from common.alerts.routing import RoutingError, default_routing, routing_for
from common.alerts.silences import silence_for
from common.logs import get_logger
from common.settings import Settings, get_settings
from common.store import Claim, DocumentWrite, Store, get_store

log = get_logger(__name__)

# Time for all deliveries of one Pub/Sub invocation, retries included; the
# function's timeout (60 s) leaves room to record the outcome.
PUBSUB_BUDGET_SECONDS = 45.0
# In-process alerts are routed inside a request: keep it short.
IN_PROCESS_BUDGET_SECONDS = 5.0
ROUTER_SOURCE = "function:alert_router"

# Store names: claims make one instance win, documents remember.
_FIRING = "alert_firing"
_RESOLVED = "alert_resolved"
_EPISODES = "alert_episodes"
_DELIVERED = "alert_deliveries"

_routing_now: ContextVar[bool] = ContextVar("alert_routing_now", default=False)


class AlertDeliveryFailed(Exception):
    """A destination failed in a way a redelivery may fix; Pub/Sub retries."""


@dataclass
class _Outcome:
    sent: list[str] = field(default_factory=list)
    failures: list[DeliveryError] = field(default_factory=list)

    @property
    def retry_helps(self) -> bool:
        return any(failure.retryable for failure in self.failures)


def handle_event(event_data: Any) -> None:
    """Route the message inside a Pub/Sub `messagePublished` CloudEvent.

    `event_data` is `{"message": {"data": <base64>, "attributes": {...},
    "messageId": ...}, "subscription": ...}`.
    """
    envelope = event_data if isinstance(event_data, Mapping) else {}
    message = envelope.get("message")
    message = message if isinstance(message, Mapping) else {}
    message_id = message.get("messageId") or message.get("message_id")
    message_id = str(message_id) if message_id else None
    attributes = message.get("attributes")
    attributes = attributes if isinstance(attributes, Mapping) else {}
    context.bind_request({"X-Request-ID": message_id or ""})

    encoded = message.get("data")
    try:
        if not isinstance(encoded, str):
            raise UnreadableAlert("the event carries no message.data text")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise UnreadableAlert(f"message.data is not base64: {exc}") from exc
    except UnreadableAlert as exc:
        _log_unreadable(exc, message_id, 0, attributes)
        return
    handle_message(data, attributes, message_id)


def handle_message(
    data: bytes, attributes: Mapping[str, str], message_id: str | None
) -> None:
    """Route one Pub/Sub message from the alerts topic.

    Raises `AlertDeliveryFailed` only when a redelivery can still help;
    everything else (unreadable, suppressed, delivered) is acknowledged.
    """
    settings = get_settings()
    try:
        alert = parse_alert(data, settings.runbook_base_url)
    except UnreadableAlert as exc:
        _log_unreadable(exc, message_id, len(data), attributes)
        return
    context.update(business_id=alert.correlation.get("business_id"))

    deadline = time.monotonic() + PUBSUB_BUDGET_SECONDS
    outcome = route(alert, get_store(), settings, deadline, message_id)
    if message_id and outcome.retry_helps:
        failed = ", ".join(failure.destination for failure in outcome.failures)
        raise AlertDeliveryFailed(
            f"alert {alert.name} ({alert.dedup_key}) could not reach {failed}; "
            "Pub/Sub will redeliver it"
        )


def handle_alert(alert: Alert) -> None:
    """Route an alert raised in this process; never raises into the caller."""
    if _routing_now.get() and alert.name == "notification_failure":
        # Raised by our own `notification_failed` line: the router has
        # already sent its notice.
        return
    try:
        route(
            alert,
            get_store(),
            get_settings(),
            time.monotonic() + IN_PROCESS_BUDGET_SECONDS,
            message_id=None,
        )
    except Exception:
        log.exception(
            "alert_routing_failed",
            "the alert could not be routed; it is only in this log",
            **_about(alert),
            summary=alert.summary,
        )


def route(
    alert: Alert,
    store: Store,
    settings: Settings,
    deadline: float,
    message_id: str | None,
) -> _Outcome:
    """Decide and deliver one alert; returns what was sent and what failed."""
    token = _routing_now.set(True)
    try:
        return _route(alert, store, settings, deadline, message_id)
    finally:
        _routing_now.reset(token)


def _route(
    alert: Alert,
    store: Store,
    settings: Settings,
    deadline: float,
    message_id: str | None,
) -> _Outcome:
    if alert.test:
        _send_test(alert)
        return _Outcome(sent=["test"])

    now = time.time()
    silence = silence_for(store, alert, now)
    if silence is not None:
        log.info(
            "alert_silenced",
            **_about(alert),
            silence_id=silence.silence_id,
            until=silence.until,
        )
        return _Outcome()

    destinations = _destinations(alert, settings)
    # When every destination is the local outbox, whose writes never call
    # for a retry, the claim is recorded done in the transaction that takes
    # it (a process dying before its append loses that outbox line only).
    known = all(uses_outbox(name, settings) for name in destinations)
    episode = _Episode.claim(alert, store, settings, message_id, known)
    if episode is None:
        return _Outcome()
    alert = episode.alert
    if not destinations:
        _log_unrouted(alert)

    already_sent = _already_sent(store, message_id)
    outcome = _deliver_all(alert, destinations, settings, deadline, already_sent)
    for failure in outcome.failures:
        _log_failure(alert, failure)
    if outcome.failures:
        _send_failure_notices(alert, destinations, outcome, store, settings, deadline)

    if outcome.retry_helps and message_id:
        # The redelivery must reach only the destinations that failed.
        store.put_document(
            _DELIVERED,
            message_id,
            {"sent": outcome.sent},
            ttl_seconds=settings.idempotency_ttl_seconds,
        )
        episode.release(store)
    else:
        episode.complete(store, settings, message_id)
    return outcome


def _already_sent(store: Store, message_id: str | None) -> frozenset[str]:
    """Destinations an earlier delivery of this Pub/Sub message reached."""
    if not message_id:
        return frozenset()
    receipt = store.get_document(_DELIVERED, message_id) or {}
    return frozenset(receipt.get("sent", ()))


@dataclass(frozen=True)
class _Episode:
    """The claim that lets exactly one instance send this firing or resolution.

    An episode is keyed by the alert's problem key when it has one (so the
    functions' alert and the Monitoring incident about the same problem
    share it), else by its dedup key. Each episode key counts generations: a
    generation ends when its resolution goes out. A firing claim lasts the
    repeat interval, so a firing within it (a repeat, the other path's
    report of the same problem, or a Pub/Sub redelivery) is suppressed.

    The state document remembers the dedup key the generation first paged
    with: later notifications of the generation, its resolution included,
    carry that key, so PagerDuty resolves the incident it opened.
    """

    source: str
    claim_key: str
    episode_key: str
    generation: int
    resolving: bool
    # The alert to send: the one received, under the generation's dedup key.
    alert: Alert
    # The state document does not yet name this generation's firing key.
    record_firing: bool
    # The claim was taken already done (the outcome was known beforehand).
    completed: bool

    @classmethod
    def claim(
        cls,
        alert: Alert,
        store: Store,
        settings: Settings,
        message_id: str | None,
        outcome_known: bool = False,
    ) -> _Episode | None:
        """The episode this alert may send, or None (logged) when it may not.

        With `outcome_known` the claim is recorded done at once, with the
        state document, in one transaction; `complete` then has nothing to do.
        """
        episode_key = problem_key(alert) or alert.dedup_key
        state = store.get_document(_EPISODES, episode_key) or {}
        generation = int(state.get("generation", 0))
        resolving = alert.state == "resolved"
        if resolving and state.get("status") == "resolved":
            _log_suppressed(alert, "already_resolved", message_id)
            return None

        paged_key = ""
        if state.get("status") == "firing":
            paged_key = str(state.get("dedup_key") or "")
        episode = cls(
            source=_RESOLVED if resolving else _FIRING,
            claim_key=f"{episode_key}#{generation}",
            episode_key=episode_key,
            generation=generation,
            resolving=resolving,
            alert=_as_paged(alert, paged_key),
            record_firing=not resolving and not paged_key,
            completed=outcome_known,
        )

        ttl = (
            settings.idempotency_ttl_seconds
            if resolving
            else settings.alert_repeat_interval_seconds
        )
        lease = PUBSUB_BUDGET_SECONDS + 15
        if outcome_known:
            claim = store.claim_done(
                episode.source,
                episode.claim_key,
                ttl,
                episode._result(message_id),
                lease,
                episode._state_documents(settings),
            )
        else:
            claim = store.claim(episode.source, episode.claim_key, ttl, lease)
        if not claim.won:
            _log_lost_claim(alert, claim, resolving, message_id)
            return None
        return episode

    def complete(
        self, store: Store, settings: Settings, message_id: str | None
    ) -> None:
        if self.completed:
            return
        store.complete_claim(
            self.source,
            self.claim_key,
            self._result(message_id),
            self._state_documents(settings),
        )

    def _result(self, message_id: str | None) -> dict[str, Any]:
        return {"message_id": message_id, "dedup_key": self.alert.dedup_key}

    def _state_documents(self, settings: Settings) -> tuple[DocumentWrite, ...]:
        """The state document, when this episode changes it."""
        if not (self.resolving or self.record_firing):
            return ()
        state = {
            "generation": self.generation + 1 if self.resolving else self.generation,
            "status": "resolved" if self.resolving else "firing",
            "dedup_key": self.alert.dedup_key,
            "at": time.time(),
        }
        return (
            DocumentWrite(
                _EPISODES, self.episode_key, state, settings.idempotency_ttl_seconds
            ),
        )

    def release(self, store: Store) -> None:
        store.release_claim(self.source, self.claim_key)


def _as_paged(alert: Alert, paged_key: str) -> Alert:
    """`alert` under the dedup key its problem already paged with, if another."""
    if not paged_key or paged_key == alert.dedup_key:
        return alert
    details = {**alert.details, "reported_dedup_key": alert.dedup_key}
    return replace(alert, dedup_key=paged_key, details=details)


def _log_lost_claim(
    alert: Alert, claim: Claim, resolving: bool, message_id: str | None
) -> None:
    result = claim.result or {}
    paged_key = result.get("dedup_key")
    if claim.state == "in_progress":
        reason = "in_flight"
    elif message_id and result.get("message_id") == message_id:
        reason = "redelivery"
    elif resolving:
        reason = "already_resolved"
    elif paged_key and paged_key != alert.dedup_key:
        reason = "same_problem"
    else:
        reason = "repeat_interval"
    _log_suppressed(alert, reason, message_id, paged_dedup_key=paged_key)


def _destinations(alert: Alert, settings: Settings) -> tuple[str, ...]:
    try:
        routing = routing_for(settings)
    except RoutingError as exc:
        log.error(
            "alert_routing_invalid",
            "the routing file is unusable; the default routes apply",
            reason=str(exc),
        )
        routing = default_routing(settings)
    return routing.destinations_for(alert)


def _log_unrouted(alert: Alert) -> None:
    log.info(
        "alert_unrouted",
        "no route sends this alert anywhere; it is only in this log",
        **_about(alert),
        summary=alert.summary,
    )


def _deliver_all(
    alert: Alert,
    destinations: tuple[str, ...],
    settings: Settings,
    deadline: float,
    already_sent: frozenset[str] = frozenset(),
) -> _Outcome:
    outcome = _Outcome()
    for destination in destinations:
        if destination in already_sent:
            log.info("alert_already_sent", **_about(alert), destination=destination)
            outcome.sent.append(destination)
            continue

        try:
            via = deliver(destination, alert, settings, deadline)
        except DeliveryError as failure:
            outcome.failures.append(failure)
            continue

        outcome.sent.append(destination)
        _log_sent(alert, destination, via, settings)
    return outcome


def _send_failure_notices(
    alert: Alert,
    destinations: tuple[str, ...],
    outcome: _Outcome,
    store: Store,
    settings: Settings,
    deadline: float,
) -> None:
    """Tell the on-call, through what still works, that a destination failed.

    A notice that fails in turn is only logged: never a notice about a notice.
    """
    failed = {failure.destination for failure in outcome.failures}
    for failure in outcome.failures:
        notice = failure_notice(alert, failure, settings)
        episode = _Episode.claim(notice, store, settings, None)
        if episode is None:
            continue
        notice = episode.alert

        routed = _destinations(notice, settings)
        others = [name for name in (*routed, *destinations) if name not in failed]
        notice_outcome = _deliver_all(
            notice, tuple(dict.fromkeys(others)), settings, deadline
        )
        for notice_failure in notice_outcome.failures:
            _log_failure(notice, notice_failure)
        if not others:
            log.error(
                "notification_failure_unsent",
                "no other destination is left to report the failure through",
                alert=alert.name,
                destination=failure.destination,
            )
        episode.complete(store, settings, None)


def failure_notice(alert: Alert, failure: DeliveryError, settings: Settings) -> Alert:
    """The P1 `notification_failure` saying `alert` did not reach a destination."""
    definition = catalogue.get("notification_failure")
    reason = failure.reason[:300]
    return Alert(
        name=definition.name,
        severity=definition.severity,
        state="firing",
        summary=definition.render_summary(
            {"kind": "alert", "destination": failure.destination, "reason": reason}
        ),
        runbook_url=definition.runbook_url(settings),
        dedup_key=f"notification_failure:alert:{failure.destination}",
        source=ROUTER_SOURCE,
        started_at=time.time(),
        labels={"kind": "alert", "destination": failure.destination},
        correlation=dict(alert.correlation),
        details={
            "alert": alert.name,
            "alert_severity": alert.severity,
            "alert_dedup_key": alert.dedup_key,
            "alert_summary": alert.summary,
            "reason": reason,
            "retryable": failure.retryable,
        },
    )


def _send_test(alert: Alert) -> None:
    record_in_outbox("test", alert, {"summary": alert.summary})
    log.info(
        "alert_test_received",
        "test notification received; it pages nobody",
        **_about(alert),
        source=alert.source,
    )


def _log_sent(alert: Alert, destination: str, via: str, settings: Settings) -> None:
    fields = {
        **_about(alert),
        "destination": destination,
        "via": via,
        "runbook_url": alert.runbook_url,
    }
    if via == "outbox" and settings.environment not in ("dev", "test"):
        log.warning(
            "alert_sent",
            f"{destination} is not configured: the alert is only in the local outbox",
            **fields,
        )
    else:
        log.info("alert_sent", **fields)


def _log_unreadable(
    error: UnreadableAlert,
    message_id: str | None,
    size: int,
    attributes: Mapping[str, Any],
) -> None:
    log.error(
        "alert_unreadable",
        "alert message could not be read; acknowledged and dropped",
        reason=str(error),
        message_id=message_id,
        size=size,
        attributes={str(key): str(value) for key, value in attributes.items()},
    )


def _about(alert: Alert) -> dict[str, Any]:
    """The fields that identify an alert on every router log line."""
    # `severity` on a log line is the line's own level: the alert's is apart.
    return {
        "alert": alert.name,
        "alert_severity": alert.severity,
        "state": alert.state,
        "dedup_key": alert.dedup_key,
    }


def _log_suppressed(
    alert: Alert,
    reason: str,
    message_id: str | None,
    paged_dedup_key: str | None = None,
) -> None:
    log.info(
        "alert_suppressed",
        **_about(alert),
        reason=reason,
        message_id=message_id,
        problem_key=problem_key(alert),
        paged_dedup_key=paged_dedup_key,
    )


def _log_failure(alert: Alert, failure: DeliveryError) -> None:
    log.error(
        "notification_failed",
        "an alert could not be delivered",
        kind="alert",
        destination=failure.destination,
        reason=failure.reason,
        retryable=failure.retryable,
        **_about(alert),
    )
