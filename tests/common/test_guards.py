"""Guards: rate limits per IP and per business, and fault injection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import pytest

from common import errors, guards
from common.settings import Settings, SettingsError, load_settings
from common.store import get_store
from common.store.demo import seed_demo
from tests.builders import TwilioRequest
from tests.conftest import LogCapture
from tests.runtime import local_client

Configure = Callable[..., tuple[Settings, LogCapture]]


def _chat(client: Any, ip: str = "198.51.100.7", **headers: str) -> Any:
    return client.post(
        "/v1/chat",
        json={"message": "What are your hours?"},
        headers=headers,
        environ_base={"REMOTE_ADDR": ip},
    )


def test_api_client_over_its_ip_limit_gets_429_with_retry_after(
    configure: Configure,
) -> None:
    _, logs = configure(RATE_LIMIT_CHAT_PER_IP="2", RATE_LIMIT_WINDOW_SECONDS="60")
    client = local_client()

    answers = [_chat(client) for _ in range(3)]

    assert 429 not in [answer.status_code for answer in answers[:2]]
    refused = answers[2]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.get_json()["error"]["code"] == "rate_limited"
    triggered = logs.one("rate_limit_triggered")
    assert (triggered["scope"], triggered["key"], triggered["route"]) == (
        "ip",
        "198.51.100.7",
        "/v1/chat",
    )


def test_other_ips_are_not_held_back_by_one_busy_ip(configure: Configure) -> None:
    configure(RATE_LIMIT_CHAT_PER_IP="1")
    client = local_client()

    _chat(client, ip="198.51.100.7")
    busy = _chat(client, ip="198.51.100.7")
    other = _chat(client, ip="203.0.113.9")

    assert busy.status_code == 429
    assert other.status_code != 429


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(
    configure: Configure,
) -> None:
    _, logs = configure(RATE_LIMIT_CHAT_PER_IP="1")
    client = local_client()

    _chat(client, **{"X-Forwarded-For": "192.0.2.1"})
    refused = _chat(client, **{"X-Forwarded-For": "192.0.2.2"})

    assert refused.status_code == 429
    assert logs.one("rate_limit_triggered")["key"] == "198.51.100.7"


def test_trusted_proxy_forwarded_for_names_the_client(configure: Configure) -> None:
    _, logs = configure(RATE_LIMIT_CHAT_PER_IP="1", TRUSTED_PROXY_COUNT="1")
    client = local_client()

    _chat(client, **{"X-Forwarded-For": "192.0.2.1"})
    _chat(client, **{"X-Forwarded-For": "192.0.2.1"})

    assert logs.one("rate_limit_triggered")["key"] == "192.0.2.1"


def test_twilio_sms_over_the_limit_gets_an_empty_response_with_200(
    configure: Configure,
) -> None:
    configure(RATE_LIMIT_SMS_PER_IP="1")
    client = local_client()
    sms = TwilioRequest.from_fixture("/twilio/sms", "sms-inbound").signed()

    client.post(sms.path, **sms.kwargs())
    refused = client.post(sms.path, **sms.kwargs())

    assert refused.status_code == 200
    assert refused.mimetype == "text/xml"
    document = ElementTree.fromstring(refused.data)
    assert document.tag == "Response"
    assert list(document) == []


def test_call_over_the_limit_is_told_sorry_and_hung_up_with_200(
    configure: Configure,
) -> None:
    configure(RATE_LIMIT_VOICE_PER_IP="1")
    client = local_client()
    call = TwilioRequest.from_fixture("/v1/voice", "voice-inbound").signed()

    client.post(call.path, **call.kwargs())
    refused = client.post(call.path, **call.kwargs())

    assert refused.status_code == 200
    verbs = [element.tag for element in ElementTree.fromstring(refused.data)]
    assert verbs == ["Say", "Hangup"]


def test_burst_over_the_ip_limit_logs_each_refusal_and_fires_one_anomaly(
    configure: Configure,
) -> None:
    _, logs = configure(RATE_LIMIT_CHAT_PER_IP="1", RATE_LIMIT_ANOMALY_THRESHOLD_IP="3")
    client = local_client()

    answers = [_chat(client) for _ in range(6)]

    assert [answer.status_code for answer in answers].count(429) == 5
    assert len(logs.events("rate_limit_triggered")) == 5
    fired = logs.one("alert_fired")
    assert fired["alert"] == "rate_limit_ip_anomaly"
    assert fired["alert_severity"] == "P1"
    assert fired["dedup_key"] == "rate_limit_ip_anomaly:198.51.100.7"
    assert fired["runbook_url"] == "wiki/Runbooks#rate-limit-anomaly"


def test_business_over_its_limit_is_refused_and_fires_its_anomaly(
    configure: Configure,
) -> None:
    _, logs = configure(
        RATE_LIMIT_SMS_PER_BUSINESS="2", RATE_LIMIT_ANOMALY_THRESHOLD_BUSINESS="1"
    )

    guards.check_business("biz-123", "sms", "/twilio/sms")
    guards.check_business("biz-123", "sms", "/twilio/sms")
    with pytest.raises(errors.TooManyRequests) as refused:
        guards.check_business("biz-123", "sms", "/twilio/sms")

    assert refused.value.status == 200
    triggered = logs.one("rate_limit_triggered")
    assert (triggered["scope"], triggered["key"]) == ("business", "biz-123")
    fired = logs.one("alert_fired")
    assert fired["alert"] == "rate_limit_business_anomaly"
    assert fired["dedup_key"] == "rate_limit_business_anomaly:biz-123"


def test_sms_to_a_business_over_its_limit_gets_no_reply(configure: Configure) -> None:
    settings, logs = configure(RATE_LIMIT_SMS_PER_BUSINESS="1")
    seed_demo(get_store(), settings)
    client = local_client()
    first = TwilioRequest.from_fixture(
        "/twilio/sms", "sms-inbound", MessageSid="SM" + "1" * 32
    )
    second = TwilioRequest.from_fixture(
        "/twilio/sms", "sms-inbound", MessageSid="SM" + "2" * 32
    )

    answered = client.post(first.path, **first.signed().kwargs())
    refused = client.post(second.path, **second.signed().kwargs())

    assert len(ElementTree.fromstring(answered.data)) == 1
    assert refused.status_code == 200
    assert list(ElementTree.fromstring(refused.data)) == []
    triggered = logs.one("rate_limit_triggered")
    assert (triggered["scope"], triggered["key"]) == ("business", "biz-demo")


def test_new_call_to_a_business_over_its_limit_is_told_sorry(
    configure: Configure,
) -> None:
    settings, logs = configure(RATE_LIMIT_VOICE_PER_BUSINESS="1")
    seed_demo(get_store(), settings)
    client = local_client()
    first = TwilioRequest.from_fixture("/v1/voice", "voice-inbound", CallSid="CA1")
    second = TwilioRequest.from_fixture("/v1/voice", "voice-inbound", CallSid="CA2")

    client.post(first.path, **first.signed().kwargs())
    refused = client.post(second.path, **second.signed().kwargs())

    assert refused.status_code == 200
    verbs = [element.tag for element in ElementTree.fromstring(refused.data)]
    assert verbs == ["Say", "Hangup"]
    assert logs.one("rate_limit_triggered")["scope"] == "business"


def test_business_limit_for_the_api_answers_429(configure: Configure) -> None:
    configure(RATE_LIMIT_CHAT_PER_BUSINESS="1")

    guards.check_business("biz-123", "chat", "/v1/chat")
    with pytest.raises(errors.TooManyRequests) as refused:
        guards.check_business("biz-123", "chat", "/v1/chat")

    assert refused.value.status == 429
    assert refused.value.headers["Retry-After"] == "60"


def test_limit_of_zero_disables_it(configure: Configure) -> None:
    _, logs = configure(RATE_LIMIT_CHAT_PER_IP="0")
    client = local_client()

    answers = [_chat(client) for _ in range(5)]

    assert 429 not in [answer.status_code for answer in answers]
    assert logs.events("rate_limit_triggered") == []


def test_store_failure_lets_the_request_through_and_says_so(
    configure: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, logs = configure(RATE_LIMIT_CHAT_PER_IP="1")

    def unreachable() -> Any:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(guards, "get_store", unreachable)
    answers = [_chat(local_client()) for _ in range(3)]

    assert 429 not in [answer.status_code for answer in answers]
    assert len(logs.events("rate_limit_unavailable")) == 3


def test_fault_injection_fails_the_named_route_in_the_callers_format(
    configure: Configure,
) -> None:
    _, logs = configure(FAULT_INJECTION_ROUTES="/v1/chat")
    client = local_client()

    failed = _chat(client)
    spared = client.post("/v1/billing/webhook", json={})

    assert failed.status_code == 500
    assert failed.get_json()["error"]["code"] == "internal_error"
    assert spared.status_code != 500
    assert logs.one("fault_injected")["route"] == "/v1/chat"


def test_fault_injection_on_a_twilio_route_answers_twiml(configure: Configure) -> None:
    configure(FAULT_INJECTION_ROUTES="/twilio/sms")
    sms = TwilioRequest.from_fixture("/twilio/sms", "sms-inbound").signed()

    failed = local_client().post(sms.path, **sms.kwargs())

    assert failed.status_code == 500
    assert ElementTree.fromstring(failed.data).tag == "Response"


def test_fault_injection_is_refused_in_prod() -> None:
    with pytest.raises(SettingsError, match="FAULT_INJECTION_ROUTES"):
        load_settings(
            {
                "ENVIRONMENT": "prod",
                "FAULT_INJECTION_ROUTES": "/v1/chat",
                "TWILIO_AUTH_TOKEN": "token",
                "STRIPE_WEBHOOK_SECRET": "whsec_live",
            }
        )
