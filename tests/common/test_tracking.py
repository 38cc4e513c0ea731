"""Error tracking: events carry the correlation tags and nothing secret."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask, request
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport
from werkzeug.wrappers import Response

from common import context, tracking
from common.http import HttpFunction
from common.settings import Settings
from tests.builders import TwilioRequest
from tests.conftest import LogCapture

Configure = Callable[..., tuple[Settings, LogCapture]]
DSN = "https://public@sentry.example.invalid/1"
CALLER = "+15557654321"
TEXT = "my door code is 4417"


class CollectingTransport(Transport):
    """Keeps every envelope instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        return [
            item.payload.json
            for envelope in self.envelopes
            for item in envelope.items
            if item.type == "event" and item.payload.json is not None
        ]


@pytest.fixture
def sentry(configure: Configure) -> Iterator[tuple[CollectingTransport, LogCapture]]:
    settings, logs = configure()
    transport = CollectingTransport()
    tracking.init(replace(settings, sentry_dsn=DSN), transport=transport)
    try:
        yield transport, logs
    finally:
        tracking.close()


def _failing_sms_app() -> Flask:
    """A Twilio SMS function whose handler fails after learning its ids."""
    function = HttpFunction("twilio_sms", default_caller="twilio")

    @function.route("/twilio/sms")
    def inbound(incoming: Any) -> Response:
        context.update(business_id="biz-123", message_sid="SM0001", call_sid="CA0002")
        raise RuntimeError(f"could not answer {incoming.form['From']}")

    app = Flask("sms")
    app.add_url_rule("/twilio/sms", "sms", lambda: function(request), methods=["POST"])
    return app


def test_unhandled_error_reaches_sentry_tagged_and_scrubbed(
    sentry: tuple[CollectingTransport, LogCapture],
) -> None:
    transport, _ = sentry
    sms = TwilioRequest.from_fixture(
        "/twilio/sms", "sms-inbound", From=CALLER, Body=TEXT
    ).signed()
    kwargs = sms.kwargs()
    kwargs["headers"].update(
        {
            "Authorization": "Basic c2VjcmV0OnBhc3N3b3Jk",
            "X-API-Key": "sk_live_do_not_leak",
            "Cookie": "session=do-not-leak",
            "Stripe-Signature": "t=1,v1=do-not-leak",
            "X-Request-ID": "req-7f3a",
        }
    )

    client = _failing_sms_app().test_client()
    query = f"From=%2B15557654321&Body={TEXT.replace(' ', '+')}"

    response = client.post(f"/twilio/sms?{query}", **kwargs)
    tracking.flush()

    assert response.status_code == 500
    [event] = transport.events()
    assert event["exception"]["values"][0]["type"] == "RuntimeError"
    tags = event["tags"]
    assert (
        tags["request_id"],
        tags["business_id"],
        tags["message_sid"],
        tags["call_sid"],
    ) == ("req-7f3a", "biz-123", "SM0001", "CA0002")
    sent = json.dumps(event)
    secrets = [
        kwargs["headers"]["X-Twilio-Signature"],
        "c2VjcmV0OnBhc3N3b3Jk",
        "sk_live_do_not_leak",
        "session=do-not-leak",
        "do-not-leak",
        CALLER,
        "15557654321",
        "door code",
    ]
    assert [secret for secret in secrets if secret in sent] == []


def test_log_breadcrumbs_keep_their_event_but_not_their_fields(
    sentry: tuple[CollectingTransport, LogCapture],
) -> None:
    import sentry_sdk

    from common.logs import get_logger

    transport, _ = sentry
    get_logger("tests.tracking").info("sms_received", "an SMS arrived", body=TEXT)

    sentry_sdk.capture_exception(RuntimeError(f"failed for {CALLER}"))
    tracking.flush()

    [event] = transport.events()
    sent = json.dumps(event)
    assert "sms_received" in sent
    assert TEXT not in sent
    assert CALLER not in sent


def test_without_dsn_sentry_stays_off(configure: Configure) -> None:
    settings, _ = configure()

    assert tracking.init(settings) is False
    assert tracking.enabled() is False
