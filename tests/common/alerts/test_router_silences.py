"""Silences: muted alerts are logged, not sent, until the silence ends."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import responses

from common.alerts.router import handle_message
from common.alerts.silences import (
    SilenceError,
    active_silences,
    add_silence,
    remove_silence,
)
from common.settings import Settings
from common.store import get_store
from tests.common.alerts.conftest import (
    PAGERDUTY_URL,
    make_alert,
    pagerduty_ok,
    sent_to,
    slack_ok,
)
from tests.conftest import LogCapture

Configure = Callable[..., tuple[Settings, LogCapture]]


def test_silenced_alert_is_logged_and_sent_nowhere(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    silence = add_silence(get_store(), "twilio_webhook_failure", time.time() + 3600)

    handle_message(make_alert().to_message(), {}, "m-1")

    assert len(http.calls) == 0
    assert logs.one("alert_silenced")["silence_id"] == silence.silence_id


def test_silence_with_a_match_leaves_other_labels_alone(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    pagerduty_ok(http)
    slack_ok(http)
    add_silence(
        get_store(), "twilio_webhook_failure", time.time() + 60, {"route": "/v1/voice"}
    )

    handle_message(make_alert().to_message(), {}, "m-1")

    assert len(sent_to(http, PAGERDUTY_URL)) == 1
    assert logs.events("alert_silenced") == []


def test_lifted_silence_lets_the_alert_through(
    staging: Configure, http: responses.RequestsMock
) -> None:
    staging()
    pagerduty_ok(http)
    slack_ok(http)
    store = get_store()
    silence = add_silence(store, "*", time.time() + 60, {"business_id": "biz-123"})

    remove_silence(store, silence.silence_id)
    handle_message(make_alert().to_message(), {}, "m-1")

    assert len(sent_to(http, PAGERDUTY_URL)) == 1
    assert active_silences(store) == []


def test_expired_silence_no_longer_applies(configure: Configure) -> None:
    configure()
    store = get_store()
    now = time.time()
    add_silence(store, "*", now + 10, now=now)

    assert len(active_silences(store, now=now)) == 1
    assert active_silences(store, now=now + 11) == []


def test_silence_ending_in_the_past_is_refused(configure: Configure) -> None:
    configure()

    with pytest.raises(SilenceError, match="in the past"):
        add_silence(get_store(), "twilio_webhook_failure", time.time() - 1)
