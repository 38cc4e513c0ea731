from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
from werkzeug.test import Client, TestResponse

from common import gating
from common.settings import Settings, get_settings
from common.store import Business, get_store
from common.store.demo import seed_demo
from common.store.sqlite import SqliteStore
from tests.builders import (
    TwilioRequest,
    stripe_event,
    stripe_fixture,
    stripe_headers,
)
from tests.conftest import LogCapture
from tests.faults import fail_first_call
from tests.runtime import local_client, running_server

PATH = "/v1/billing/webhook"
DEMO = "biz-demo"
DELETED_EVENT = "evt_1Q1w2E3r4T5y6U7iEe"
ALL_FIXTURES = (
    "checkout-session-completed",
    "customer-subscription-created",
    "customer-subscription-updated",
    "customer-subscription-past-due",
    "customer-subscription-deleted",
    "invoice-paid",
    "invoice-payment-failed",
)

Configure = Callable[..., tuple[Settings, LogCapture]]


def demo_business(status: str = "active") -> Business:
    """The demo business the local runtime seeds, with the given status."""
    store = get_store()
    seed_demo(store, get_settings())
    return store.update_business(DEMO, status=status)


def post(
    client: Client,
    payload: bytes,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
) -> TestResponse:
    sent = dict(headers if headers is not None else stripe_headers(payload))
    if request_id:
        sent["X-Request-ID"] = request_id
    return client.post(PATH, data=payload, headers=sent)


def current_status() -> str:
    business = get_store().get_business(DEMO)
    assert business is not None
    return business.status


def test_signed_deletion_suspends_the_demo_business(configure: Configure) -> None:
    configure()
    demo_business("active")

    response = post(local_client(), stripe_fixture("customer-subscription-deleted"))

    assert response.status_code == 200
    assert response.json == {
        "received": True,
        "verdict": "accepted",
        "event_id": DELETED_EVENT,
    }
    business = get_store().get_business(DEMO)
    assert business is not None
    assert business.status == "suspended"
    assert gating.service_decision(business) == "suspend"
    assert business.name in gating.suspended_notice(business, "sms")


def test_suspended_demo_business_answers_its_next_sms_with_the_notice(
    configure: Configure,
) -> None:
    configure()
    demo_business("active")
    client = local_client()
    sms = TwilioRequest.from_fixture("/twilio/sms", "sms-inbound").signed()

    billing = post(client, stripe_fixture("customer-subscription-deleted"))
    reply = client.post("/twilio/sms", **sms.kwargs())

    business = get_store().get_business(DEMO)
    assert business is not None
    assert billing.status_code == 200
    assert reply.status_code == 200
    message = ElementTree.fromstring(reply.get_data()).find("Message")
    assert message is not None
    assert message.text == gating.suspended_notice(business, "sms")


@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_every_handled_event_type_is_accepted(
    configure: Configure, fixture: str
) -> None:
    _, logs = configure()
    demo_business("trialing")
    client = local_client()
    post(client, stripe_fixture("checkout-session-completed"), request_id="req-link")

    response = post(client, stripe_fixture(fixture), request_id="req-event")

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["verdict"] in ("accepted", "duplicate")
    completed = logs.events("request_completed")[-1]
    assert (completed["request_id"], completed["business_id"]) == ("req-event", DEMO)


def test_bad_signature_is_refused_with_400(configure: Configure) -> None:
    _, logs = configure()
    demo_business("active")
    payload = stripe_fixture("customer-subscription-deleted")

    response = post(
        local_client(), payload, stripe_headers(payload, secret="whsec_wrong")
    )

    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"]["code"] == "invalid_signature"
    assert logs.one("stripe_signature_rejected")["reason"] == (
        "no v1 signature matches any configured secret"
    )
    assert current_status() == "active"


def test_missing_signature_is_refused_with_400(configure: Configure) -> None:
    configure()
    payload = stripe_fixture("invoice-paid")

    response = post(local_client(), payload, {"Content-Type": "application/json"})

    assert response.status_code == 400


def test_reserialised_body_is_refused(configure: Configure) -> None:
    configure()
    demo_business("active")
    payload = stripe_fixture("customer-subscription-deleted")
    headers = stripe_headers(payload)
    compact = json.dumps(json.loads(payload), separators=(",", ":")).encode()

    response = post(local_client(), compact, headers)

    assert response.status_code == 400
    assert current_status() == "active"


@pytest.mark.parametrize(
    ("age_seconds", "expected"),
    [(0, 200), (290, 200), (-290, 200), (310, 400), (-310, 400)],
    ids=["now", "old-inside", "ahead-inside", "too-old", "too-far-ahead"],
)
def test_signature_timestamp_tolerance_edges(
    configure: Configure, age_seconds: int, expected: int
) -> None:
    configure()
    payload = stripe_fixture("invoice-paid")
    timestamp = int(time.time()) - age_seconds

    response = post(
        local_client(), payload, stripe_headers(payload, timestamp=timestamp)
    )

    assert response.status_code == expected


def test_tolerance_follows_its_setting(configure: Configure) -> None:
    configure(STRIPE_WEBHOOK_TOLERANCE_SECONDS="30")
    payload = stripe_fixture("invoice-paid")
    headers = stripe_headers(payload, timestamp=int(time.time()) - 60)

    response = post(local_client(), payload, headers)

    assert response.status_code == 400


def test_any_of_several_v1_signatures_may_match(configure: Configure) -> None:
    configure()
    payload = stripe_fixture("invoice-paid")
    header = stripe_headers(payload)["Stripe-Signature"]
    timestamp, good = header.split(",")
    forged = "v1=" + "0" * 64
    several = {
        "Stripe-Signature": f"{timestamp},{forged},{good},v0=ignored",
        "Content-Type": "application/json",
    }
    only_forged = {**several, "Stripe-Signature": f"{timestamp},{forged},{forged}"}

    accepted = post(local_client(), payload, several)
    refused = post(local_client(), payload, only_forged)

    assert (accepted.status_code, refused.status_code) == (200, 400)


def test_both_secrets_work_while_rotating(configure: Configure) -> None:
    configure(STRIPE_WEBHOOK_SECRET="whsec_new_secret,whsec_old_secret")
    payload = stripe_fixture("invoice-paid")
    client = local_client()

    old = post(client, payload, stripe_headers(payload, secret="whsec_old_secret"))
    new = post(client, payload, stripe_headers(payload, secret="whsec_new_secret"))
    retired = post(client, payload, stripe_headers(payload, secret="whsec_dev_secret"))

    assert (old.status_code, new.status_code, retired.status_code) == (200, 200, 400)


def test_malformed_json_after_a_valid_signature_is_400(configure: Configure) -> None:
    configure()
    payload = b'{\n  "id": "evt_broken",\n'

    response = post(local_client(), payload, request_id="req-broken")

    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"] == {
        "code": "malformed_json",
        "message": "The body is not valid JSON",
        "request_id": "req-broken",
    }
    delivery = get_store().find_delivery("req-broken")
    assert delivery is not None
    assert delivery.verdict == "malformed"


def test_a_verified_event_with_a_malformed_field_is_400_not_retried(
    configure: Configure,
) -> None:
    _, logs = configure()
    demo_business("active")
    payload = stripe_event("customer-subscription-deleted", created="yesterday")

    response = post(local_client(), payload, request_id="req-yesterday")

    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"]["code"] == "malformed_event"
    assert "'created'" in response.json["error"]["message"]
    assert logs.one("stripe_event_malformed")["event_id"] == DELETED_EVENT
    assert logs.events("stripe_event_failed") == []
    assert demo_business("active").status == "active"


def test_unknown_event_type_is_acknowledged(configure: Configure) -> None:
    _, logs = configure()
    payload = stripe_event("invoice-paid", id="evt_other", type="payout.paid")

    response = post(local_client(), payload)

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["verdict"] == "ignored"
    assert logs.one("stripe_event_ignored")["event_type"] == "payout.paid"


def test_same_event_twice_changes_state_once(configure: Configure) -> None:
    _, logs = configure()
    demo_business("active")
    client = local_client()
    payload = stripe_fixture("customer-subscription-deleted")

    first = post(client, payload, request_id="req-first")
    demo_business("active")  # an operator turns the business back on
    second = post(client, payload, request_id="req-second")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json is not None
    assert second.json["verdict"] == "duplicate"
    assert current_status() == "active"
    assert len(logs.events("business_status_changed")) == 1


def test_concurrent_duplicates_are_applied_once(configure: Configure) -> None:
    _, logs = configure()
    demo_business("active")
    payload = stripe_fixture("customer-subscription-deleted")
    headers = stripe_headers(payload)
    start = threading.Barrier(8)
    verdicts: list[str] = []

    def deliver() -> None:
        client = local_client()
        start.wait()
        response = post(client, payload, headers)
        assert response.json is not None
        verdicts.append(response.json["verdict"])

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(verdicts) == ["accepted"] + ["duplicate"] * 7
    assert len(logs.events("business_status_changed")) == 1
    assert current_status() == "suspended"


def test_real_server_suspends_the_seeded_demo_business_once_under_concurrent_duplicates(
    tmp_path: Path,
) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    env = {
        "LOG_FORMAT": "json",
        "STORE": store_url,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    payload = stripe_fixture("customer-subscription-deleted")
    headers = stripe_headers(payload)
    statuses: list[tuple[int, str]] = []
    start = threading.Barrier(6)

    def deliver(base_url: str) -> None:
        start.wait()
        response = requests.post(
            base_url + PATH, data=payload, headers=headers, timeout=10
        )
        statuses.append((response.status_code, response.json()["verdict"]))

    with running_server(env, tmp_path / "server.log") as base_url:
        threads = [threading.Thread(target=deliver, args=(base_url,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(statuses) == [(200, "accepted")] + [(200, "duplicate")] * 5
    reopened = SqliteStore.from_url(store_url)
    business = reopened.get_business(DEMO)
    reopened.close()
    assert business is not None
    assert business.status == "suspended"


def test_handler_error_answers_500_then_the_retry_succeeds(
    configure: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, logs = configure()
    demo_business("active")
    store = get_store()
    fail_first_call(
        monkeypatch, store, "update_business", OSError("database is locked")
    )
    client = local_client()
    payload = stripe_fixture("customer-subscription-deleted")

    failed = post(client, payload, request_id="req-attempt-1")
    retried = post(client, payload, request_id="req-attempt-2")

    assert failed.status_code == 500
    assert failed.json is not None
    assert failed.json["error"]["code"] == "billing_event_failed"
    assert logs.one("stripe_event_failed")["event_id"] == DELETED_EVENT
    assert retried.status_code == 200
    assert current_status() == "suspended"
    attempts = {d.request_id: d.verdict for d in store.list_deliveries("stripe")}
    assert attempts == {"req-attempt-1": "failed", "req-attempt-2": "accepted"}
