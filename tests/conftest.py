"""Shared fixtures: a fresh configuration per test and captured log lines."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from common import context, runtime
from common.logs import configure_logging
from common.settings import Settings
from common.store import reset_store


class LogCapture:
    """The JSON lines the product wrote, parsed."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def lines(self) -> list[dict[str, Any]]:
        raw = self.stream.getvalue().splitlines()
        return [json.loads(line) for line in raw if line.strip()]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == name]

    def one(self, name: str) -> dict[str, Any]:
        found = self.events(name)
        assert len(found) == 1, f"expected one {name!r} line, got {len(found)}: {found}"
        return found[0]


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Firestore emulator for the whole run; yields its host:port."""
    from tests.emulators import running_emulator

    log_path = tmp_path_factory.mktemp("emulators") / "firestore.log"
    with running_emulator("firestore", log_path) as host_port:
        yield host_port


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Pub/Sub emulator for the whole run; yields its host:port."""
    from tests.emulators import running_emulator

    log_path = tmp_path_factory.mktemp("emulators") / "pubsub.log"
    with running_emulator("pubsub", log_path, release_track="beta") as host_port:
        yield host_port


@pytest.fixture
def configure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[..., tuple[Settings, LogCapture]]]:
    """Boot the product with these environment variables and JSON logs captured."""

    def apply(**env: str) -> tuple[Settings, LogCapture]:
        for name in list(_PRODUCT_VARIABLES):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("ENVIRONMENT", "test")
        monkeypatch.setenv("LOG_FORMAT", "json")
        monkeypatch.setenv("STORE", f"sqlite:///{tmp_path / 'store.db'}")
        monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "outbox"))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reset_store()
        runtime.reset()
        settings = runtime.boot()
        capture = LogCapture()
        configure_logging(settings, stream=capture.stream)
        return settings, capture

    yield apply
    reset_store()
    runtime.reset()
    context.clear()


_PRODUCT_VARIABLES = (
    "LOG_FORMAT",
    "LOG_LEVEL",
    "LOG_MESSAGE_BODIES",
    "SERVICE_NAME",
    "ENVIRONMENT",
    "PUBLIC_BASE_URL",
    "TRUSTED_PROXY_COUNT",
    "GOOGLE_CLOUD_PROJECT",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_WEBHOOK_SHARED_KEY",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_FROM_NUMBER",
    "ASSISTANT_PROVIDER",
    "ASSISTANT_BASE_URL",
    "ASSISTANT_API_KEY",
    "ASSISTANT_MODEL",
    "STRIPE_WEBHOOK_SECRET",
    "SENTRY_DSN",
    "ALERT_TOPIC",
    "FAULT_INJECTION_ROUTES",
    "MAX_BODY_BYTES",
    "STORE_CACHE_SECONDS",
    "DEMO_PHONE_NUMBER",
    "DEMO_API_KEY",
    "FIRESTORE_EMULATOR_HOST",
    "RUNBOOK_BASE_URL",
    "ALERT_REPEAT_INTERVAL_SECONDS",
    "ALERT_PAGERDUTY_ROUTING_KEY",
    "ALERT_PAGERDUTY_EVENTS_URL",
    "ALERT_SLACK_WEBHOOK_URL",
    "ALERT_WEBHOOK_URL",
    "ALERT_WEBHOOK_SECRET",
    "ALERT_ROUTING_FILE",
    "PUBSUB_EMULATOR_HOST",
    "TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD",
    "BILLING_WEBHOOK_FAILURE_ALERT_THRESHOLD",
    "LATENCY_ALERT_THRESHOLD_MS",
    "LATENCY_ALERT_PATHS",
    "RATE_LIMIT_ANOMALY_THRESHOLD_BUSINESS",
    "RATE_LIMIT_ANOMALY_THRESHOLD_IP",
    "RATE_LIMIT_ANOMALY_THRESHOLD_5XX",
    "ALERT_WINDOW_SECONDS",
    "RATE_LIMIT_WINDOW_SECONDS",
    "SENTRY_TRACES_SAMPLE_RATE",
    "SENTRY_RELEASE",
)
