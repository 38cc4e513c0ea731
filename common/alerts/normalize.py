"""Whatever arrives on the alerts topic, turned into one `Alert`.

Two shapes are understood: the functions' own alerts (`Alert.to_message()`)
and Cloud Monitoring incident notifications (schema 1.2, test notifications
included). Anything else raises `UnreadableAlert` with the reason, so the
router can log it and acknowledge the message instead of looping on it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from common.alerts.catalogue import AlertDefinition, catalogue
from common.alerts.model import ALERT_SCHEMA, Alert, AlertState, Severity

MONITORING_SOURCE = "cloud-monitoring"

# Cloud Monitoring policy severities, as they appear in notifications.
_POLICY_SEVERITY: dict[str, Severity] = {
    "critical": "P0",
    "error": "P1",
    "warning": "P1",
}
_STATES: dict[str, AlertState] = {"open": "firing", "closed": "resolved"}


class UnreadableAlert(ValueError):
    """The message is not an alert the router understands; the text says why."""


def parse_alert(data: bytes, runbook_base_url: str) -> Alert:
    """The alert carried by one message body; raises `UnreadableAlert`."""
    try:
        payload = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableAlert(f"the body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise UnreadableAlert(
            f"the body is JSON {type(payload).__name__}, not an object"
        )

    if payload.get("schema") == ALERT_SCHEMA:
        return _published_alert(payload)
    if isinstance(payload.get("incident"), dict):
        return incident_alert(payload, runbook_base_url)
    raise UnreadableAlert(
        "unknown shape: neither a published alert (schema "
        f"{ALERT_SCHEMA!r}) nor a Cloud Monitoring incident; keys "
        f"{sorted(payload)[:10]}"
    )


def _published_alert(payload: dict[str, Any]) -> Alert:
    try:
        alert = Alert.from_message(payload)
    except ValueError as exc:
        raise UnreadableAlert(str(exc)) from exc

    if alert.severity not in ("P0", "P1"):
        raise UnreadableAlert(f"severity {alert.severity!r} is not P0 or P1")
    if alert.state not in ("firing", "resolved"):
        raise UnreadableAlert(f"state {alert.state!r} is not firing or resolved")
    if not isinstance(alert.dedup_key, str) or not alert.dedup_key:
        raise UnreadableAlert(f"dedup_key {alert.dedup_key!r} is not a text")
    if not isinstance(alert.name, str) or not alert.name:
        raise UnreadableAlert(f"name {alert.name!r} is not a text")
    return alert


def incident_alert(payload: Mapping[str, Any], runbook_base_url: str) -> Alert:
    """A Cloud Monitoring notification (schema 1.2) as an `Alert`.

    Every field is optional. The incident id is the dedup key, so the same
    incident opened twice and closed once is one page and one resolution.
    """
    incident = _mapping(payload.get("incident"))
    user_labels = {
        str(key): str(value)
        for key, value in _mapping(incident.get("policy_user_labels")).items()
    }
    policy_name = _text(incident.get("policy_name"))
    name = user_labels.get("alert") or _metric_name(incident) or policy_name
    name = name or "monitoring_incident"
    known = catalogue().get(name)

    raw_state = _text(incident.get("state")) or "open"
    state = _STATES.get(raw_state.lower())
    if state is None:
        raise UnreadableAlert(
            f"incident state {raw_state!r} is neither open nor closed"
        )

    started_at = _seconds(incident.get("started_at")) or time.time()
    ended_at = _seconds(incident.get("ended_at"))
    if state == "resolved" and ended_at is None:
        ended_at = time.time()

    incident_id = _text(incident.get("incident_id"))
    dedup_key = incident_id or "monitoring:" + "|".join(
        (name, _text(incident.get("condition_name")) or "-")
    )
    documentation = _mapping(incident.get("documentation"))
    summary = (
        _text(incident.get("summary"))
        or _text(documentation.get("subject"))
        or policy_name
        or f"Cloud Monitoring incident {incident_id or '(no id)'}"
    )

    return Alert(
        name=name,
        severity=_incident_severity(incident, user_labels, known),
        state=state,
        summary=summary,
        runbook_url=_incident_runbook(
            documentation, user_labels, known, runbook_base_url
        ),
        dedup_key=dedup_key,
        source=MONITORING_SOURCE,
        started_at=started_at,
        ended_at=ended_at,
        labels=_incident_labels(incident, policy_name),
        details=_incident_details(incident),
        links=_incident_links(incident),
        test=_text(payload.get("version")).lower() == "test",
    )


def problem_key(alert: Alert) -> str | None:
    """What the alert is about, whichever path raised it; None when unknown.

    The alert's name and the values of its catalogue `group_by` labels,
    joined by `:` (the functions' own dedup key, such as
    `twilio_webhook_failure:/twilio/sms`). A Monitoring incident carries the
    group labels its policy groups by as metric labels; one that lacks any
    of them (the per-business and per-IP anomalies) has no problem key.
    """
    definition = catalogue().get(alert.name)
    if definition is None:
        return None

    values = []
    for label in definition.group_by:
        value = alert.labels.get(label)
        if value is None and alert.source != MONITORING_SOURCE:
            # The functions keep business ids and client IPs out of labels.
            value = alert.details.get(label)
        if value is None:
            return None
        values.append(str(value))
    return ":".join([alert.name, *values])


def _incident_severity(
    incident: Mapping[str, Any],
    user_labels: Mapping[str, str],
    known: AlertDefinition | None,
) -> Severity:
    for label in ("severity", "priority"):
        value = user_labels.get(label, "").upper()
        if value in ("P0", "P1"):
            return "P0" if value == "P0" else "P1"
    policy = _POLICY_SEVERITY.get(_text(incident.get("severity")).lower())
    if policy is not None:
        return policy
    return known.severity if known is not None else "P1"


def _incident_runbook(
    documentation: Mapping[str, Any],
    user_labels: Mapping[str, str],
    known: AlertDefinition | None,
    base_url: str,
) -> str:
    links = [
        _mapping(link) for link in _list(documentation.get("links")) if _mapping(link)
    ]
    urls = [
        (_text(link.get("displayName")).lower(), _text(link.get("url")))
        for link in links
    ]
    for display_name, url in urls:
        if url and "runbook" in display_name:
            return url
    if urls and urls[0][1]:
        return urls[0][1]

    anchor = user_labels.get("runbook_anchor") or (known and known.runbook_anchor)
    return f"{base_url}#{anchor}" if anchor else base_url


def _incident_labels(incident: Mapping[str, Any], policy_name: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    metric = _mapping(incident.get("metric"))
    resource = _mapping(incident.get("resource"))
    for key, value in _mapping(resource.get("labels")).items():
        labels[str(key)] = str(value)
    for key, value in _mapping(metric.get("labels")).items():
        labels[str(key)] = str(value)
    named = {
        "policy": policy_name,
        "condition": _text(incident.get("condition_name")),
        "metric": _text(metric.get("type")),
        "resource_type": _text(resource.get("type")),
    }
    labels.update({key: value for key, value in named.items() if value})
    return labels


def _incident_details(incident: Mapping[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {}
    for key in ("threshold_value", "observed_value", "incident_id", "resource_name"):
        value = _text(incident.get(key))
        if value:
            details[key.removesuffix("_value")] = value
    content = _text(_mapping(incident.get("documentation")).get("content"))
    if content:
        details["documentation"] = content[:2000]
    return details


def _incident_links(incident: Mapping[str, Any]) -> dict[str, str]:
    url = _text(incident.get("url"))
    return {"incident": url} if url else {}


def _metric_name(incident: Mapping[str, Any]) -> str:
    """The catalogue alert whose log-based metric the incident is about."""
    metric_type = _text(_mapping(incident.get("metric")).get("type"))
    prefix = "logging.googleapis.com/user/"
    if not metric_type.startswith(prefix):
        return ""
    metric = metric_type.removeprefix(prefix)
    for name, definition in catalogue().items():
        if definition.metric.get("name") == metric:
            return name
    return metric


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def _seconds(value: Any) -> float | None:
    """Unix seconds from a number or a numeric text; None when absent."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
