from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs

import pytest
import requests
import responses

from common import notify, outbox
from common.settings import Settings
from common.store import Business, get_store
from tests.conftest import LogCapture

ACCOUNT_SID = "AC" + "0" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
OWNER = "+15555550199"
BUSINESS_NUMBER = "+15005550006"
STAGING = {
    "ENVIRONMENT": "staging",
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": "staging-auth-token",
}
TEXT = "Message from Ana Ruiz (+15555550123): please call back about Friday."


def business(**changes: object) -> Business:
    record = Business(
        business_id="biz-notify",
        name="Maple Street Barbers",
        owner_contacts=[OWNER],
    )
    for name, value in changes.items():
        setattr(record, name, value)
    return record


def created(sid: str = "SM" + "1" * 32) -> dict[str, object]:
    return {"sid": sid, "status": "queued", "to": OWNER, "from": BUSINESS_NUMBER}


def twilio_error(status: int, code: int, message: str) -> dict[str, object]:
    return {"code": code, "message": message, "status": status}


@pytest.fixture
def production(
    configure: Callable[..., tuple[Settings, LogCapture]],
    monkeypatch: pytest.MonkeyPatch,
) -> LogCapture:
    """Twilio credentials in staging: notifications go out through the REST API."""
    _, logs = configure(**STAGING)
    monkeypatch.setattr(notify, "RETRY_WAIT_SECONDS", 0)
    store = get_store()
    store.create_business(business())
    store.add_number("biz-notify", BUSINESS_NUMBER)
    return logs


@pytest.fixture
def twilio() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def test_in_dev_the_notification_lands_in_the_outbox(
    configure: Callable[..., tuple[Settings, LogCapture]],
) -> None:
    _, logs = configure()

    sent = notify.notify_owner(
        business(), "message_taken", TEXT, details={"caller": "+15555550123"}
    )

    assert sent is True
    (record,) = outbox.read("owner-notifications")
    assert record["kind"] == "message_taken"
    assert record["business_id"] == "biz-notify"
    assert record["to"] == [OWNER]
    assert record["text"] == TEXT
    assert record["details"] == {"caller": "+15555550123"}
    line = logs.one("owner_notified")
    assert (line["kind"], line["via"]) == ("message_taken", "outbox")
    assert "Ana" not in json.dumps(logs.lines)


def test_business_without_owner_contacts_is_skipped_and_logged(
    configure: Callable[..., tuple[Settings, LogCapture]],
) -> None:
    _, logs = configure()

    sent = notify.notify_owner(business(owner_contacts=[]), "new_lead", TEXT)

    assert sent is False
    assert outbox.read("owner-notifications") == []
    assert logs.one("owner_notification_skipped")["reason"] == "no_owner_contacts"


def test_in_production_the_owner_gets_an_sms_from_the_business_number(
    production: LogCapture, twilio: responses.RequestsMock
) -> None:
    twilio.post(MESSAGES_URL, status=201, json=created())

    sent = notify.notify_owner(business(), "message_taken", TEXT)

    assert sent is True
    form = parse_qs(str(twilio.calls[0].request.body))
    assert form == {"To": [OWNER], "From": [BUSINESS_NUMBER], "Body": [TEXT]}
    line = production.one("owner_notified")
    assert (line["via"], line["attempts"]) == ("twilio", 1)
    assert line["destination"] == "+1******0199"
    assert outbox.read("owner-notifications") == []


def test_twilio_500_then_success_is_retried_and_sent(
    production: LogCapture, twilio: responses.RequestsMock
) -> None:
    twilio.post(MESSAGES_URL, status=500, json=twilio_error(500, 20500, "oops"))
    twilio.post(MESSAGES_URL, status=201, json=created())

    sent = notify.notify_owner(business(), "missed_transfer", TEXT)

    assert sent is True
    assert len(twilio.calls) == 2
    assert production.one("owner_notified")["attempts"] == 2
    assert production.events("notification_failed") == []


def test_network_failure_is_retried_and_then_sent(
    production: LogCapture, twilio: responses.RequestsMock
) -> None:
    twilio.post(MESSAGES_URL, body=requests.ConnectionError("connection reset"))
    twilio.post(MESSAGES_URL, status=201, json=created())

    assert notify.notify_owner(business(), "new_lead", TEXT) is True
    assert production.one("owner_notified")["attempts"] == 2


def test_persistent_500_gives_up_and_logs_what_was_lost(
    production: LogCapture, twilio: responses.RequestsMock
) -> None:
    twilio.post(MESSAGES_URL, status=503, json=twilio_error(503, 20503, "down"))

    sent = notify.notify_owner(business(), "message_taken", TEXT)

    assert sent is False
    assert len(twilio.calls) == notify.MAX_ATTEMPTS
    failed = production.one("notification_failed")
    assert failed["severity"] == "ERROR"
    assert failed["kind"] == "message_taken"
    assert failed["destination"] == "+1******0199"
    assert failed["reason"] == "http_503"
    assert failed["lost_chars"] == len(TEXT)
    assert "Ana" not in json.dumps(production.lines)


def test_sending_stops_when_the_time_for_it_has_run_out(
    production: LogCapture,
    twilio: responses.RequestsMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notify, "TOTAL_SEND_SECONDS", 0)

    assert notify.notify_owner(business(), "message_taken", TEXT) is False
    assert len(twilio.calls) == 0
    assert production.one("notification_failed")["reason"] == "out_of_time"


def test_a_caller_past_its_deadline_waits_for_no_send(
    production: LogCapture, twilio: responses.RequestsMock
) -> None:
    sent = notify.notify_owner(
        business(), "new_lead", TEXT, deadline=time.monotonic() - 0.1
    )

    assert sent is False
    assert len(twilio.calls) == 0
    assert production.one("notification_failed")["reason"] == "out_of_time"


def test_each_attempt_waits_no_longer_than_the_caller_has_left(
    production: LogCapture, twilio: responses.RequestsMock
) -> None:
    twilio.post(MESSAGES_URL, status=201, json=created())

    sent = notify.notify_owner(
        business(), "new_lead", TEXT, deadline=time.monotonic() + 1.0
    )

    assert sent is True
    timeout = twilio.calls[0].request.req_kwargs["timeout"]
    assert 0 < timeout <= 1.0


def test_opted_out_owner_is_not_retried(
    production: LogCapture, twilio: responses.RequestsMock
) -> None:
    twilio.post(
        MESSAGES_URL,
        status=400,
        json=twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"),
    )

    sent = notify.notify_owner(business(), "new_lead", TEXT)

    assert sent is False
    assert len(twilio.calls) == 1
    failed = production.one("notification_failed")
    assert (failed["reason"], failed["error_code"]) == ("recipient_opted_out", 21610)


def test_each_owner_contact_is_sent_to_and_one_failure_is_reported(
    production: LogCapture, twilio: responses.RequestsMock
) -> None:
    second = "+15555550188"
    twilio.post(MESSAGES_URL, status=201, json=created())
    twilio.post(MESSAGES_URL, status=400, json=twilio_error(400, 21211, "bad To"))

    sent = notify.notify_owner(
        business(owner_contacts=[OWNER, second]), "billing", TEXT
    )

    assert sent is False
    assert len(production.events("owner_notified")) == 1
    assert production.one("notification_failed")["destination"] == "+1******0188"


def test_business_without_a_number_sends_from_the_configured_sender(
    configure: Callable[..., tuple[Settings, LogCapture]],
    twilio: responses.RequestsMock,
) -> None:
    configure(**STAGING, TWILIO_FROM_NUMBER="+15005550001")
    twilio.post(MESSAGES_URL, status=201, json=created())

    assert notify.notify_owner(business(), "billing", TEXT) is True
    assert parse_qs(str(twilio.calls[0].request.body))["From"] == ["+15005550001"]


def test_no_sender_at_all_is_a_failed_notification(
    configure: Callable[..., tuple[Settings, LogCapture]],
    twilio: responses.RequestsMock,
) -> None:
    _, logs = configure(**STAGING)

    assert notify.notify_owner(business(), "billing", TEXT) is False
    assert logs.one("notification_failed")["reason"] == "no_from_number"
