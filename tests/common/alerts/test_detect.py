"""Detection: the staging drills and the counting rules behind them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from common import context, notify, outbox
from common.alerts import detect
from common.settings import Settings
from common.store import Business
from tests.builders import TwilioRequest
from tests.conftest import LogCapture
from tests.runtime import local_client
from tools.drills import DRILL_API_KEY, DRILLS, Drill

Configure = Callable[..., tuple[Settings, LogCapture]]
ANCHORS = {
    "twilio_webhook_failure": "twilio-webhook-failure",
    "billing_webhook_failure": "billing-webhook-failure",
    "latency_slo_breach": "latency-slo-breach",
    "error_rate_spike": "error-rate-spike",
}


def _play(drill: Drill) -> int:
    response = local_client().post(
        drill.path, data=drill.body, headers=dict(drill.headers)
    )
    return response.status_code


def _fired(logs: LogCapture) -> list[tuple[str, str, str]]:
    return [
        (line["alert"], line["alert_severity"], line["runbook_url"])
        for line in logs.events("alert_fired")
    ]


@pytest.mark.parametrize("drill", DRILLS, ids=lambda drill: drill.name)
def test_drill_fires_exactly_its_alert_and_routes_it_in_process(
    configure: Configure, slow_requests: None, drill: Drill
) -> None:
    _, logs = configure(**drill.env, DEMO_API_KEY=DRILL_API_KEY)

    _play(drill)

    runbook = f"wiki/Runbooks#{ANCHORS[drill.alert]}"
    assert _fired(logs) == [(drill.alert, drill.severity, runbook)]
    routed = outbox.read("alerts")
    assert routed, "the router wrote nothing to the alerts outbox"
    assert {(item["alert"], item["severity"]) for item in routed} == {
        (drill.alert, drill.severity)
    }
    assert len({item["dedup_key"] for item in routed}) == 1
    assert all(runbook in json.dumps(item["payload"]) for item in routed)
    assert logs.events("alert_publish_failed") == []


def test_alert_fired_line_carries_dedup_key_and_tipping_request_ids(
    configure: Configure,
) -> None:
    _, logs = configure(TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD="1")

    local_client().post(
        "/twilio/sms", data={"MessageSid": "SM1"}, headers={"X-Request-ID": "req-42"}
    )

    fired = logs.one("alert_fired")
    assert fired["dedup_key"] == "twilio_webhook_failure:/twilio/sms"
    assert fired["request_id"] == "req-42"
    assert fired["severity"] == "ERROR"
    assert fired["route"] == "/twilio/sms"
    assert fired["count"] == 1


def test_twilio_errors_fire_when_they_reach_the_threshold_then_count_again(
    configure: Configure,
) -> None:
    _, logs = configure(TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD="3")
    client = local_client()

    for _ in range(2):
        client.post("/twilio/sms", data={"MessageSid": "SM1"})
    assert logs.events("alert_fired") == []

    client.post("/twilio/sms", data={"MessageSid": "SM1"})
    assert len(logs.events("alert_fired")) == 1

    for _ in range(2):
        client.post("/twilio/sms", data={"MessageSid": "SM1"})
    assert len(logs.events("alert_fired")) == 1
    assert logs.events("alert_held") == []


def test_any_5xx_on_a_twilio_route_fires_at_once(configure: Configure) -> None:
    _, logs = configure(
        TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD="50", FAULT_INJECTION_ROUTES="/v1/voice"
    )
    call = TwilioRequest.from_fixture("/v1/voice", "voice-inbound").signed()

    response = local_client().post(call.path, **call.kwargs())

    assert response.status_code == 500
    fired = logs.one("alert_fired")
    assert (fired["alert"], fired["alert_severity"]) == ("twilio_webhook_failure", "P0")
    assert fired["fired_at_once"] is True


def test_unset_threshold_disables_its_alert(configure: Configure) -> None:
    _, logs = configure(FAULT_INJECTION_ROUTES="/v1/chat")

    local_client().post("/twilio/sms", data={"MessageSid": "SM1"})
    local_client().post("/v1/chat", json={"message": "hi"})

    assert logs.events("alert_fired") == []


def test_latency_alert_ignores_paths_outside_latency_alert_paths(
    configure: Configure,
) -> None:
    _, logs = configure(LATENCY_ALERT_THRESHOLD_MS="1", LATENCY_ALERT_PATHS="/v1/voice")

    local_client().post("/v1/chat", json={"message": "hi"})

    assert logs.events("alert_fired") == []


def test_5xx_are_counted_per_route(configure: Configure) -> None:
    _, logs = configure(
        RATE_LIMIT_ANOMALY_THRESHOLD_5XX="2",
        FAULT_INJECTION_ROUTES="/v1/chat,/v1/billing/webhook",
    )
    client = local_client()

    client.post("/v1/chat", json={"message": "hi"})
    client.post("/v1/billing/webhook", json={})
    assert logs.events("alert_fired") == []

    client.post("/v1/chat", json={"message": "hi"})
    fired = logs.one("alert_fired")
    assert fired["dedup_key"] == "error_rate_spike:/v1/chat"
    assert fired["alert_severity"] == "P1"


def test_notification_failed_fires_p1_notification_failure_each_time(
    configure: Configure,
) -> None:
    _, logs = configure()

    detect.record_event(
        "notification_failed", kind="owner_sms", destination="sms", reason="21610"
    )

    fired = logs.one("alert_fired")
    assert fired["alert"] == "notification_failure"
    assert fired["alert_severity"] == "P1"
    assert fired["dedup_key"] == "notification_failure:owner_sms:sms"
    assert fired["summary"] == (
        "A owner_sms notification to sms could not be sent: 21610"
    )


def test_detection_failure_is_logged_and_never_raises(
    configure: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, logs = configure(RATE_LIMIT_ANOMALY_THRESHOLD_IP="1")

    def broken_store() -> Any:
        raise RuntimeError("store unreachable")

    monkeypatch.setattr(detect, "get_store", broken_store)
    detect.record_event("rate_limit_triggered", scope="ip", client_ip="192.0.2.1")

    assert logs.one("alert_detection_failed")["severity"] == "ERROR"
    context.clear()


def test_owner_notification_that_cannot_be_sent_fires_notification_failure(
    configure: Configure,
) -> None:
    _, logs = configure(
        ENVIRONMENT="staging",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="staging-auth-token",
    )
    owner = Business(
        business_id="biz-9", name="Maple Street", owner_contacts=["+15555550199"]
    )

    notify.notify_owner(owner, "message_taken", "Please call Ana back")

    fired = logs.one("alert_fired")
    assert (fired["alert"], fired["alert_severity"]) == ("notification_failure", "P1")
    assert fired["runbook_url"] == "wiki/Runbooks#notification-failure"
    assert fired["dedup_key"] == "notification_failure:message_taken:+1******0199"


def test_repeat_of_a_fired_alert_in_the_same_window_is_held_back(
    configure: Configure, slow_requests: None
) -> None:
    _, logs = configure(LATENCY_ALERT_THRESHOLD_MS="1")
    client = local_client()

    for _ in range(3):
        client.post("/v1/chat", json={"message": "hi"})

    assert len(logs.events("alert_fired")) == 1
    assert len(logs.events("alert_held")) == 2
    assert len({item["dedup_key"] for item in outbox.read("alerts")}) == 1
