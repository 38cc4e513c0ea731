"""The router's decisions: page once, resolve once, survive a failing
destination, ignore redeliveries and poison messages."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
import responses

from common import outbox
from common.alerts import router
from common.alerts.router import AlertDeliveryFailed, handle_alert, handle_message
from common.settings import Settings
from tests.common.alerts.conftest import (
    PAGERDUTY_URL,
    SLACK_URL,
    as_bytes,
    incident,
    make_alert,
    pagerduty_ok,
    sent_to,
    slack_ok,
)
from tests.conftest import LogCapture

Configure = Callable[..., tuple[Settings, LogCapture]]


def test_p0_from_a_drill_pages_pagerduty_and_slack_once_with_its_runbook(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    pagerduty_ok(http)
    slack_ok(http)
    alert = make_alert()

    handle_message(alert.to_message(), {}, "msg-1")
    handle_message(alert.to_message(), {}, "msg-2")

    [page] = sent_to(http, PAGERDUTY_URL)
    [post] = sent_to(http, SLACK_URL)
    assert page["event_action"] == "trigger"
    assert page["dedup_key"] == "twilio_webhook_failure:/twilio/sms"
    assert {"href": "wiki/Runbooks#twilio-webhook-failure", "text": "Runbook"} in page[
        "links"
    ]
    assert "wiki/Runbooks#twilio-webhook-failure" in str(post["blocks"])
    assert {line["destination"] for line in logs.events("alert_sent")} == {
        "pagerduty",
        "slack",
    }
    assert logs.one("alert_suppressed")["reason"] == "repeat_interval"


def test_monitoring_incident_opened_twice_then_closed_gives_one_trigger_one_resolve(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    pagerduty_ok(http)
    slack_ok(http)

    handle_message(as_bytes(incident("open")), {}, "m-open-1")
    handle_message(as_bytes(incident("open")), {}, "m-open-2")
    handle_message(as_bytes(incident("closed")), {}, "m-closed-1")
    handle_message(as_bytes(incident("closed")), {}, "m-closed-2")

    actions = [event["event_action"] for event in sent_to(http, PAGERDUTY_URL)]
    assert actions == ["trigger", "resolve"]
    assert {event["dedup_key"] for event in sent_to(http, PAGERDUTY_URL)} == {
        "0.n8k2j4x9vq1a"
    }
    assert [body["text"][:20] for body in sent_to(http, SLACK_URL)] == [
        "[P0 FIRING] twilio_w",
        "[P0 RESOLVED] twilio",
    ]
    reasons = [line["reason"] for line in logs.events("alert_suppressed")]
    assert reasons == ["repeat_interval", "already_resolved"]


def test_destination_failing_throughout_raises_notification_failure_through_the_other(
    staging: Configure, http: responses.RequestsMock, sleeps: list[float]
) -> None:
    _, logs = staging()
    http.post(PAGERDUTY_URL, status=500, body="upstream unavailable")
    slack_ok(http)

    with pytest.raises(AlertDeliveryFailed, match="pagerduty"):
        handle_message(make_alert().to_message(), {}, "msg-1")

    failed = logs.one("notification_failed")
    assert failed["destination"] == "pagerduty"
    assert failed["kind"] == "alert"
    assert failed["retryable"] is True
    texts = [body["text"] for body in sent_to(http, SLACK_URL)]
    assert len(texts) == 2
    assert texts[0].startswith("[P0 FIRING] twilio_webhook_failure")
    assert texts[1].startswith("[P1 FIRING] notification_failure")
    assert "pagerduty" in texts[1]
    assert len(sent_to(http, PAGERDUTY_URL)) == 4
    assert len(sleeps) == 3


def test_redelivery_after_a_failure_resends_only_to_the_destination_that_failed(
    staging: Configure, http: responses.RequestsMock
) -> None:
    staging()
    failing = http.post(PAGERDUTY_URL, status=503)
    slack_ok(http)
    alert = make_alert()
    with pytest.raises(AlertDeliveryFailed):
        handle_message(alert.to_message(), {}, "msg-1")
    http.remove(failing)
    pagerduty_ok(http)

    handle_message(alert.to_message(), {}, "msg-1")

    assert [body["event_action"] for body in sent_to(http, PAGERDUTY_URL)][-1] == (
        "trigger"
    )
    slack_texts = [body["text"] for body in sent_to(http, SLACK_URL)]
    assert sum(text.startswith("[P0 FIRING]") for text in slack_texts) == 1


def test_redelivery_of_a_handled_message_does_nothing(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    pagerduty_ok(http)
    slack_ok(http)
    data = make_alert().to_message()

    handle_message(data, {}, "msg-1")
    handle_message(data, {}, "msg-1")

    assert len(http.calls) == 2
    suppressed = logs.one("alert_suppressed")
    assert (suppressed["reason"], suppressed["message_id"]) == ("redelivery", "msg-1")


def test_refused_request_is_not_retried_and_the_message_is_acknowledged(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    http.post(PAGERDUTY_URL, status=400, json={"message": "Invalid routing key"})
    slack_ok(http)

    handle_message(make_alert().to_message(), {}, "msg-1")

    assert len(sent_to(http, PAGERDUTY_URL)) == 1
    assert logs.one("notification_failed")["retryable"] is False
    assert "notification_failure" in sent_to(http, SLACK_URL)[1]["text"]


def test_notification_failure_is_sent_once_per_repeat_interval(
    staging: Configure, http: responses.RequestsMock
) -> None:
    staging()
    http.post(PAGERDUTY_URL, status=400)
    slack_ok(http)

    handle_message(make_alert(dedup_key="a").to_message(), {}, "msg-1")
    handle_message(make_alert(dedup_key="b").to_message(), {}, "msg-2")

    texts = [body["text"] for body in sent_to(http, SLACK_URL)]
    assert sum("notification_failure" in text for text in texts) == 1


def test_notice_that_fails_too_is_only_logged(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    http.post(PAGERDUTY_URL, status=400)
    slack_ok(http)
    http.post(SLACK_URL, status=404, body="no_service")

    handle_message(make_alert().to_message(), {}, "msg-1")

    failed = [
        (line["alert"], line["destination"])
        for line in logs.events("notification_failed")
    ]
    assert failed == [
        ("twilio_webhook_failure", "pagerduty"),
        ("notification_failure", "slack"),
    ]
    assert len(http.calls) == 3


def test_every_destination_failing_is_logged_with_nobody_left_to_tell(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    http.post(PAGERDUTY_URL, status=400)
    http.post(SLACK_URL, status=404, body="no_service")

    handle_message(make_alert().to_message(), {}, "msg-1")

    unsent = logs.events("notification_failure_unsent")
    assert [line["destination"] for line in unsent] == ["pagerduty", "slack"]


def test_p1_goes_to_slack_only(
    staging: Configure, http: responses.RequestsMock
) -> None:
    staging()
    slack_ok(http)

    handle_message(
        make_alert(
            name="error_rate_spike", severity="P1", dedup_key="spike"
        ).to_message(),
        {},
        "msg-1",
    )

    assert sent_to(http, PAGERDUTY_URL) == []
    assert sent_to(http, SLACK_URL)[0]["text"].startswith("[P1 FIRING]")


def test_resolution_goes_out_once_and_the_next_firing_pages_again(
    staging: Configure, http: responses.RequestsMock
) -> None:
    staging()
    pagerduty_ok(http)
    slack_ok(http)
    firing = make_alert()
    resolved = make_alert(state="resolved", ended_at=1_796_292_900.0)

    for index, alert in enumerate((firing, resolved, resolved, firing)):
        handle_message(alert.to_message(), {}, f"msg-{index}")

    actions = [event["event_action"] for event in sent_to(http, PAGERDUTY_URL)]
    assert actions == ["trigger", "resolve", "trigger"]


def test_resolution_for_a_never_seen_key_goes_out_once(
    staging: Configure, http: responses.RequestsMock
) -> None:
    staging()
    pagerduty_ok(http)
    slack_ok(http)
    resolved = make_alert(state="resolved", dedup_key="never-fired")

    handle_message(resolved.to_message(), {}, "msg-1")
    handle_message(resolved.to_message(), {}, "msg-2")

    assert [event["event_action"] for event in sent_to(http, PAGERDUTY_URL)] == [
        "resolve"
    ]


def test_monitoring_test_notification_pages_nobody(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    payload = incident("open", state="OPEN")
    payload["version"] = "test"

    handle_message(as_bytes(payload), {}, "msg-test")

    assert len(http.calls) == 0
    assert logs.one("alert_test_received")["dedup_key"] == "0.n8k2j4x9vq1a"
    [record] = outbox.read("alerts")
    assert record["destination"] == "test"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe not json", "not JSON"),
        (b"[1, 2]", "not an object"),
        (b'{"hello": "world"}', "unknown shape"),
        (b'{"schema": "ai-telephony-alert/1", "name": "x"}', "do not match"),
        (
            as_bytes({**incident("open"), "incident": {"state": "acknowledged"}}),
            "neither open nor closed",
        ),
    ],
)
def test_unreadable_message_is_logged_and_acknowledged(
    staging: Configure, http: responses.RequestsMock, data: bytes, reason: str
) -> None:
    _, logs = staging()

    handle_message(data, {"origin": "test"}, "poison-1")

    line = logs.one("alert_unreadable")
    assert reason in line["reason"]
    assert line["message_id"] == "poison-1"
    assert len(http.calls) == 0


def test_bad_base64_in_the_event_is_logged_and_acknowledged(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()

    router.handle_event({"message": {"data": "%%% not base64", "messageId": "m-9"}})

    assert "not base64" in logs.one("alert_unreadable")["reason"]
    assert len(http.calls) == 0


def test_event_envelope_is_decoded_and_routed(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    slack_ok(http)
    pagerduty_ok(http)
    data = base64.b64encode(make_alert().to_message()).decode()

    router.handle_event({"message": {"data": data, "messageId": "9001"}})

    assert len(http.calls) == 2
    assert logs.events("alert_sent")[0]["request_id"] == "9001"


def test_in_process_alert_in_dev_goes_to_the_outbox_and_never_raises(
    configure: Configure,
) -> None:
    _, logs = configure(ENVIRONMENT="dev")

    handle_alert(make_alert())

    records = outbox.read("alerts")
    assert [record["destination"] for record in records] == ["pagerduty", "slack"]
    assert all(line["via"] == "outbox" for line in logs.events("alert_sent"))
    assert "routing_key" not in records[0]["payload"]


def test_in_process_failure_is_logged_not_raised(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    http.post(PAGERDUTY_URL, status=502)
    slack_ok(http)

    handle_alert(make_alert())

    assert logs.one("notification_failed")["destination"] == "pagerduty"
    assert len(sent_to(http, SLACK_URL)) == 2


def test_unconfigured_destination_outside_dev_warns_that_only_the_outbox_has_it(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging(ALERT_PAGERDUTY_ROUTING_KEY="")
    slack_ok(http)

    handle_alert(make_alert())

    sent = {line["destination"]: line for line in logs.events("alert_sent")}
    assert (sent["pagerduty"]["via"], sent["pagerduty"]["severity"]) == (
        "outbox",
        "WARNING",
    )
    assert (sent["slack"]["via"], sent["slack"]["severity"]) == ("http", "INFO")
    assert sent["slack"]["alert_severity"] == "P0"
    assert [record["destination"] for record in outbox.read("alerts")] == ["pagerduty"]


def test_in_dev_a_redelivered_or_repeated_alert_adds_nothing_to_the_outbox(
    configure: Configure,
) -> None:
    _, logs = configure(ENVIRONMENT="dev")
    data = make_alert().to_message()

    handle_message(data, {}, "msg-1")
    handle_message(data, {}, "msg-1")
    handle_message(data, {}, "msg-2")

    destinations = [record["destination"] for record in outbox.read("alerts")]
    assert destinations == ["pagerduty", "slack"]
    reasons = [line["reason"] for line in logs.events("alert_suppressed")]
    assert reasons == ["redelivery", "repeat_interval"]


def test_in_dev_a_resolution_closes_the_key_that_paged_through_the_outbox(
    configure: Configure,
) -> None:
    configure(ENVIRONMENT="dev")

    handle_message(make_alert().to_message(), {}, "msg-1")
    handle_message(as_bytes(incident("closed")), {}, "msg-2")

    pagerduty = [
        (record["action"], record["payload"]["dedup_key"])
        for record in outbox.read("alerts")
        if record["destination"] == "pagerduty"
    ]
    assert pagerduty == [
        ("firing", "twilio_webhook_failure:/twilio/sms"),
        ("resolved", "twilio_webhook_failure:/twilio/sms"),
    ]
