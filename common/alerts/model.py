"""The one shape every alert takes, whoever raised it.

The functions publish `Alert.to_message()` bytes on the alerts topic (or hand
them to the router in-process); Cloud Monitoring publishes its own incident
JSON, which the router turns into the same `Alert`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["P0", "P1"]
AlertState = Literal["firing", "resolved"]
ALERT_SCHEMA = "ai-telephony-alert/1"


@dataclass
class Alert:
    name: str
    severity: Severity
    state: AlertState
    summary: str
    runbook_url: str
    dedup_key: str
    source: str  # "function:<name>" or "cloud-monitoring"
    started_at: float
    ended_at: float | None = None
    # Low-cardinality facts: route, function, scope, policy, metric.
    labels: dict[str, str] = field(default_factory=dict)
    # request_id, business_id, call_sid, message_sid of the tipping request.
    correlation: dict[str, str] = field(default_factory=dict)
    # Figures: threshold, observed value, count, window.
    details: dict[str, Any] = field(default_factory=dict)
    # Links beyond the runbook (Monitoring incident, Logs Explorer).
    links: dict[str, str] = field(default_factory=dict)
    # True for Cloud Monitoring test notifications: never pages anyone.
    test: bool = False

    def to_message(self) -> bytes:
        payload = {"schema": ALERT_SCHEMA, **asdict(self)}
        return json.dumps(payload, separators=(",", ":"), default=str).encode()

    @classmethod
    def from_message(cls, payload: dict[str, Any]) -> Alert:
        """Rebuild a published alert; raises ValueError if it is not one."""
        if payload.get("schema") != ALERT_SCHEMA:
            raise ValueError("not an alert published by the functions")
        fields = {key: value for key, value in payload.items() if key != "schema"}
        try:
            return cls(**fields)
        except TypeError as exc:
            raise ValueError(f"alert fields do not match: {exc}") from exc
