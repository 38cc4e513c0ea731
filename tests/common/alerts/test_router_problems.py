"""One problem, one page: the functions' alert and the Cloud Monitoring
incident about the same problem page once, and the incident's end resolves
whichever of them paged."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import responses

from common.alerts import router
from common.alerts.normalize import parse_alert
from common.alerts.router import handle_message
from common.settings import Settings
from common.store.sqlite import SqliteStore
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
from tests.common.store.conftest import FakeClock
from tests.conftest import LogCapture

Configure = Callable[..., tuple[Settings, LogCapture]]
INCIDENT_ID = "0.n8k2j4x9vq1a"
PROBLEM = "twilio_webhook_failure:/twilio/sms"


def _pagerduty(http: responses.RequestsMock) -> list[tuple[str, str]]:
    return [
        (event["event_action"], event["dedup_key"])
        for event in sent_to(http, PAGERDUTY_URL)
    ]


def _slack_headings(http: responses.RequestsMock) -> list[str]:
    return [body["text"].split(":")[0] for body in sent_to(http, SLACK_URL)]


def test_incident_after_the_functions_paged_is_suppressed_and_resolves_their_page(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    pagerduty_ok(http)
    slack_ok(http)

    handle_message(make_alert().to_message(), {}, "m-functions")
    handle_message(as_bytes(incident("open")), {}, "m-open")
    handle_message(as_bytes(incident("closed")), {}, "m-closed")

    assert _pagerduty(http) == [("trigger", PROBLEM), ("resolve", PROBLEM)]
    assert _slack_headings(http) == [
        "[P0 FIRING] twilio_webhook_failure",
        "[P0 RESOLVED] twilio_webhook_failure",
    ]
    suppressed = logs.one("alert_suppressed")
    assert suppressed["reason"] == "same_problem"
    assert suppressed["dedup_key"] == INCIDENT_ID
    assert suppressed["problem_key"] == PROBLEM
    assert suppressed["paged_dedup_key"] == PROBLEM


def test_functions_alert_after_the_incident_paged_is_suppressed(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    pagerduty_ok(http)
    slack_ok(http)

    handle_message(as_bytes(incident("open")), {}, "m-open")
    handle_message(make_alert().to_message(), {}, "m-functions")
    handle_message(as_bytes(incident("closed")), {}, "m-closed")

    assert _pagerduty(http) == [("trigger", INCIDENT_ID), ("resolve", INCIDENT_ID)]
    suppressed = logs.one("alert_suppressed")
    assert (suppressed["reason"], suppressed["dedup_key"]) == ("same_problem", PROBLEM)


def test_same_alert_on_another_route_is_another_problem(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    pagerduty_ok(http)
    slack_ok(http)
    other_route = make_alert(
        dedup_key="twilio_webhook_failure:/v1/voice",
        labels={"route": "/v1/voice", "function": "twilio_voice"},
    )

    handle_message(as_bytes(incident("open")), {}, "m-open")
    handle_message(other_route.to_message(), {}, "m-voice")

    assert _pagerduty(http) == [
        ("trigger", INCIDENT_ID),
        ("trigger", "twilio_webhook_failure:/v1/voice"),
    ]
    assert logs.events("alert_suppressed") == []


def test_incident_without_the_group_label_is_told_apart_by_its_own_key(
    staging: Configure, http: responses.RequestsMock
) -> None:
    staging()
    pagerduty_ok(http)
    slack_ok(http)
    unlabelled = incident("open")
    unlabelled["incident"]["metric"]["labels"] = {}

    handle_message(make_alert().to_message(), {}, "m-functions")
    handle_message(as_bytes(unlabelled), {}, "m-open")

    assert _pagerduty(http) == [("trigger", PROBLEM), ("trigger", INCIDENT_ID)]


def test_repeat_after_the_interval_pages_under_the_key_that_first_paged(
    staging: Configure, http: responses.RequestsMock, tmp_path: Path
) -> None:
    settings, _ = staging()
    pagerduty_ok(http)
    slack_ok(http)
    clock = FakeClock(time.time())
    store = SqliteStore(tmp_path / "clocked.db", clock=clock)

    def route(data: bytes, message_id: str) -> None:
        alert = parse_alert(data, settings.runbook_base_url)
        router.route(alert, store, settings, time.monotonic() + 5, message_id)

    route(as_bytes(incident("open")), "m-open")
    clock.advance(settings.alert_repeat_interval_seconds + 1)
    route(make_alert().to_message(), "m-functions")
    route(as_bytes(incident("closed")), "m-closed")
    store.close()

    assert _pagerduty(http) == [
        ("trigger", INCIDENT_ID),
        ("trigger", INCIDENT_ID),
        ("resolve", INCIDENT_ID),
    ]
    repeat = sent_to(http, PAGERDUTY_URL)[1]
    assert repeat["payload"]["custom_details"]["details"]["reported_dedup_key"] == (
        PROBLEM
    )


def test_incident_on_a_failure_the_router_announced_sends_no_second_notice(
    staging: Configure, http: responses.RequestsMock
) -> None:
    _, logs = staging()
    http.post(PAGERDUTY_URL, status=400, json={"message": "Invalid routing key"})
    slack_ok(http)
    failure_incident = incident(
        "open",
        incident_id="0.notif",
        metric={
            "type": "logging.googleapis.com/user/notification_failures",
            "labels": {"kind": "alert", "destination": "pagerduty"},
        },
        policy_user_labels={"alert": "notification_failure", "priority": "p1"},
    )
    failure_closed = incident(
        "closed",
        incident_id="0.notif",
        metric=failure_incident["incident"]["metric"],
        policy_user_labels=failure_incident["incident"]["policy_user_labels"],
    )

    handle_message(make_alert().to_message(), {}, "m-functions")
    handle_message(as_bytes(failure_incident), {}, "m-notif-open")
    handle_message(as_bytes(failure_closed), {}, "m-notif-closed")

    assert _slack_headings(http) == [
        "[P0 FIRING] twilio_webhook_failure",
        "[P1 FIRING] notification_failure",
        "[P1 RESOLVED] notification_failure",
    ]
    suppressed = logs.one("alert_suppressed")
    assert (suppressed["reason"], suppressed["paged_dedup_key"]) == (
        "same_problem",
        "notification_failure:alert:pagerduty",
    )
    resolved = [
        line for line in logs.events("alert_sent") if line["state"] == "resolved"
    ]
    assert {line["dedup_key"] for line in resolved} == {
        "notification_failure:alert:pagerduty"
    }
