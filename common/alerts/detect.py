"""Detection: counts what the catalogue says to count and fires alerts.

Two doors feed it:

- `observe_request`, an observer of every HTTP function (installed at boot),
  sees each finished request as its `request_completed` line describes it.
- `record_event(event, **fields)` is called by code that logs one of the
  other events an alert keys on: `rate_limit_triggered` (common.guards) and
  `notification_failed` (whoever fails to deliver a notification), with the
  same fields as the log line.

Counts live in the store's atomic windows (`ALERT_WINDOW_SECONDS`), so every
instance adds to the same count. Reaching the threshold fires the alert and
resets its count; an unset threshold disables its alert. One alert and group
(one dedup key) fires at most once per window across the fleet; repeats in
the window are logged as `alert_held`. Each firing logs
`alert_fired` and is published (common.alerts.publish). Detection never
breaks a request: its own failures are logged as `alert_detection_failed`.

An `alert_fired` line carries `alert`, `alert_severity` (P0 or P1; the
line's own `severity` is ERROR for P0 and WARNING for P1), `runbook_url`,
`dedup_key`, `summary`, the alert's labels and figures, and the correlation
fields of the request that tipped it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from common import context
from common.alerts import catalogue, publish
from common.alerts.catalogue import AlertDefinition
from common.alerts.model import Alert
from common.http import RequestOutcome
from common.logs import get_logger
from common.settings import Settings, get_settings
from common.store import get_store

log = get_logger(__name__)

# Fields that name one business or one client: kept out of alert labels.
_HIGH_CARDINALITY = frozenset({"business_id", "client_ip", "key"})
_LABEL_FIELDS = ("function", "route", "scope", "channel", "kind", "destination")


def observe_request(outcome: RequestOutcome) -> None:
    """Count a finished HTTP request toward the alerts on `request_completed`."""
    fields = {
        "event": "request_completed",
        "function": outcome.function,
        "route": outcome.route,
        "path": outcome.path,
        "method": outcome.method,
        "status": outcome.status,
        "latency_ms": round(outcome.latency_ms, 2),
    }
    _evaluate(fields, source=f"function:{outcome.function}")


def record_event(event: str, /, **fields: Any) -> None:
    """Count one logged `event` toward the alerts keyed on it.

    Pass the fields of the log line (for `notification_failed`: kind,
    destination, reason). Never raises.
    """
    function = fields.get("function")
    source = f"function:{function}" if function else get_settings().service_name
    try:
        _evaluate({**fields, "event": event}, source=source)
    except Exception:
        log.exception("alert_detection_failed", f"could not evaluate alerts on {event}")


def dedup_key(definition: AlertDefinition, fields: Mapping[str, Any]) -> str:
    """Stable per alert and group, e.g. `twilio_webhook_failure:/twilio/sms`."""
    groups = [str(fields.get(name, "-")) for name in definition.group_by]
    return ":".join([definition.name, *groups])


def _evaluate(fields: dict[str, Any], source: str) -> None:
    settings = get_settings()
    for definition in catalogue.for_event(fields["event"]):
        if not definition.enabled(settings):
            continue
        if not definition.matches(fields, settings):
            continue
        figures = _breach(definition, fields, settings)
        if figures is not None:
            fire(definition, fields, figures, source, settings)


def _breach(
    definition: AlertDefinition, fields: Mapping[str, Any], settings: Settings
) -> dict[str, Any] | None:
    """The figures of a breach, or None while the alert holds."""
    threshold = definition.threshold(settings)
    if threshold is None:
        return {}

    if definition.compare is not None:
        observed = fields.get(definition.compare)
        if not isinstance(observed, (int, float)) or observed <= threshold:
            return None
        return {"threshold": threshold, definition.compare: observed}

    store = get_store()
    key = f"alert:{dedup_key(definition, fields)}"
    window = settings.alert_window_seconds
    count = store.increment(key, window)
    at_once = definition.fires_at_once(fields, settings)
    if count < threshold and not at_once:
        return None

    store.reset_counter(key)
    return {
        "threshold": threshold,
        "count": count,
        "window_seconds": window,
        "window_minutes": f"{window / 60:g}",
        "fired_at_once": at_once and count < threshold,
    }


def fire(
    definition: AlertDefinition,
    fields: Mapping[str, Any],
    figures: Mapping[str, Any],
    source: str,
    settings: Settings,
) -> Alert | None:
    """Build the alert, log `alert_fired` and publish it.

    An alert already fired for the same dedup key in this window, by any
    instance, is held back (`alert_held`): the router would suppress it, and
    a slow route must not add a publish to every slow request.
    """
    key = dedup_key(definition, fields)
    if not _first_in_window(key, settings):
        log.info(
            "alert_held",
            f"{definition.name} already fired in this window",
            alert=definition.name,
            dedup_key=key,
        )
        return None

    labels = {name: str(fields[name]) for name in _LABEL_FIELDS if name in fields}
    for name in definition.group_by:
        if name not in _HIGH_CARDINALITY:
            labels[name] = str(fields.get(name, "-"))
    details = dict(figures)
    for name in definition.group_by:
        if name in _HIGH_CARDINALITY:
            details[name] = str(fields.get(name, "-"))

    alert = Alert(
        name=definition.name,
        severity=definition.severity,
        state="firing",
        summary=definition.render_summary({**fields, **figures}),
        runbook_url=definition.runbook_url(settings),
        dedup_key=key,
        source=source,
        started_at=time.time(),
        labels=labels,
        correlation=context.current().correlation(),
        details=details,
    )

    log_fields: dict[str, Any] = {
        "alert": alert.name,
        # `severity` is the line's own Cloud Logging severity.
        "alert_severity": alert.severity,
        "runbook_url": alert.runbook_url,
        "dedup_key": alert.dedup_key,
        "summary": alert.summary,
        **labels,
        **details,
    }
    if alert.severity == "P0":
        log.error("alert_fired", alert.summary, **log_fields)
    else:
        log.warning("alert_fired", alert.summary, **log_fields)

    publish.publish(alert)
    return alert


def _first_in_window(key: str, settings: Settings) -> bool:
    fired = get_store().increment(f"alert_fired:{key}", settings.alert_window_seconds)
    return fired <= 1
