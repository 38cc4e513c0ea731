"""The four staging alert drills, played against a local runtime.

Each drill lowers one threshold, sends the request that breaches it and
expects exactly one alert:

- twilio: `TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD=1`, an unsigned
  `POST /twilio/sms`: P0 `twilio_webhook_failure`.
- billing: `BILLING_WEBHOOK_FAILURE_ALERT_THRESHOLD=1`, a Stripe event with a
  bad `Stripe-Signature`: P0 `billing_webhook_failure`.
- latency: `LATENCY_ALERT_THRESHOLD_MS=1`, a chat turn on `/v1/chat`:
  P0 `latency_slo_breach`.
- error-rate: `RATE_LIMIT_ANOMALY_THRESHOLD_5XX=1` and
  `FAULT_INJECTION_ROUTES=/v1/chat`, a chat turn: P1 `error_rate_spike`.

Thresholds are read when an instance starts, so `play` starts one local
runtime (`python -m tools.serve`) per drill with the drill's settings, on a
free port with a scratch store and outbox, and reads the alerts from the
runtime's `alert_fired` log lines.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tools.serve import local_runtime

DRILL_API_KEY = "sk_test_alert_drill_key_000000000000"
# Settings a drill must not inherit from the operator's shell.
ALERT_VARIABLES = (
    "TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD",
    "BILLING_WEBHOOK_FAILURE_ALERT_THRESHOLD",
    "LATENCY_ALERT_THRESHOLD_MS",
    "LATENCY_ALERT_PATHS",
    "RATE_LIMIT_ANOMALY_THRESHOLD_BUSINESS",
    "RATE_LIMIT_ANOMALY_THRESHOLD_IP",
    "RATE_LIMIT_ANOMALY_THRESHOLD_5XX",
    "FAULT_INJECTION_ROUTES",
    "ALERT_TOPIC",
    "PUBLIC_BASE_URL",
    "STORE",
    "OUTBOX_DIR",
    "DEMO_API_KEY",
)


@dataclass(frozen=True)
class Drill:
    name: str
    alert: str
    severity: str
    env: Mapping[str, str]
    path: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


_CHAT_TURN = json.dumps({"message": "What are your opening hours?"}).encode()
_CHAT_HEADERS = {"Content-Type": "application/json", "X-API-Key": DRILL_API_KEY}

DRILLS = (
    Drill(
        name="twilio",
        alert="twilio_webhook_failure",
        severity="P0",
        env={"TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD": "1"},
        path="/twilio/sms",
        body=b"MessageSid=SMdrill&From=%2B15005550001&To=%2B15005550006&Body=drill",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Drill(
        name="billing",
        alert="billing_webhook_failure",
        severity="P0",
        env={"BILLING_WEBHOOK_FAILURE_ALERT_THRESHOLD": "1"},
        path="/v1/billing/webhook",
        body=b'{"id": "evt_drill", "object": "event", "type": "invoice.paid"}',
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": "t=1700000000,v1=" + "0" * 64,
        },
    ),
    Drill(
        name="latency",
        alert="latency_slo_breach",
        severity="P0",
        env={"LATENCY_ALERT_THRESHOLD_MS": "1"},
        path="/v1/chat",
        body=_CHAT_TURN,
        headers=_CHAT_HEADERS,
    ),
    Drill(
        name="error-rate",
        alert="error_rate_spike",
        severity="P1",
        env={
            "RATE_LIMIT_ANOMALY_THRESHOLD_5XX": "1",
            "FAULT_INJECTION_ROUTES": "/v1/chat",
        },
        path="/v1/chat",
        body=_CHAT_TURN,
        headers=_CHAT_HEADERS,
    ),
)
DRILLS_BY_NAME = {drill.name: drill for drill in DRILLS}


@dataclass
class DrillResult:
    drill: Drill
    status: int
    alerts: list[dict[str, Any]]

    @property
    def passed(self) -> bool:
        return len(self.alerts) == 1 and (
            self.alerts[0].get("alert"),
            self.alerts[0].get("alert_severity"),
        ) == (self.drill.alert, self.drill.severity)


def drill_env(drill: Drill, workdir: Path) -> dict[str, str]:
    """The local runtime's environment for one drill."""
    env = {k: v for k, v in os.environ.items() if k not in ALERT_VARIABLES}
    if env.get("ENVIRONMENT") == "prod":
        raise SystemExit("error: alert drills do not run with ENVIRONMENT=prod")
    env.update(
        {
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
            "STORE": f"sqlite:///{workdir / 'store.db'}",
            "OUTBOX_DIR": str(workdir / "outbox"),
            "DEMO_API_KEY": DRILL_API_KEY,
            **drill.env,
        }
    )
    return env


def play(drill: Drill) -> DrillResult:
    """Start a runtime with the drill's settings, send its request, read alerts."""
    with tempfile.TemporaryDirectory(prefix=f"drill-{drill.name}-") as scratch:
        workdir = Path(scratch)
        log_path = workdir / "runtime.log"
        with local_runtime(drill_env(drill, workdir), log_path) as base_url:
            status = send(base_url, drill)
        return DrillResult(drill, status, fired_alerts(log_path))


def send(base_url: str, drill: Drill) -> int:
    response = requests.post(
        base_url + drill.path, data=drill.body, headers=dict(drill.headers), timeout=30
    )
    return response.status_code


def fired_alerts(log_path: Path) -> list[dict[str, Any]]:
    """The `alert_fired` lines a runtime wrote."""
    alerts = []
    for line in log_path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("event") == "alert_fired":
            alerts.append(entry)
    return alerts


def report(result: DrillResult) -> str:
    """What an operator reads: the alert, its severity and its runbook."""
    drill = result.drill
    verdict = "ok" if result.passed else "FAILED"
    lines = [
        f"[{verdict}] {drill.name}: POST {drill.path} answered {result.status}, "
        f"expected {drill.severity} {drill.alert}"
    ]
    for alert in result.alerts:
        name = f"{alert.get('alert_severity')} {alert.get('alert')}"
        lines.append(f"  {name}: {alert.get('summary')}")
        lines.append(f"    runbook: {alert.get('runbook_url')}")
        lines.append(f"    dedup key: {alert.get('dedup_key')}")
    if not result.alerts:
        lines.append("  no alert fired")
    return "\n".join(lines)
