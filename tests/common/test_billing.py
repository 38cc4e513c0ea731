from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import responses

from common import billing, context, gating, outbox
from common.settings import Settings
from common.signatures import StripeSignatureRejected
from common.store import Business, Store, get_store
from tests.builders import stripe_event, stripe_fixture, stripe_headers
from tests.conftest import LogCapture
from tests.faults import fail_first_call

DEMO = "biz-demo"
CUSTOMER = "cus_Q1w2E3r4T5y6U7"
SUBSCRIPTION = "sub_1Q1w2E3r4T5y6U7i8"
CREATED = 1796292000

Booted = tuple[Settings, LogCapture, Store]


@pytest.fixture
def booted(configure: Callable[..., tuple[Settings, LogCapture]]) -> Booted:
    settings, logs = configure()
    store = get_store()
    store.create_business(
        Business(
            DEMO, "Demo Plumbing", status="trialing", owner_contacts=["+15555550101"]
        )
    )
    return settings, logs, store


def deliver(
    booted: Booted, payload: bytes, request_id: str = "req-1"
) -> billing.Outcome:
    settings, _, store = booted
    context.bind_request({"X-Request-ID": request_id})
    signature = stripe_headers(payload)["Stripe-Signature"]
    return billing.receive(payload, signature, store, settings)


def status(booted: Booted) -> str:
    business = booted[2].get_business(DEMO)
    assert business is not None
    return business.status


def subscription(status: str, created: int, event_id: str) -> bytes:
    return stripe_event(
        "customer-subscription-updated",
        {"status": status},
        id=event_id,
        created=created,
    )


def test_checkout_completed_links_customer_and_subscription(booted: Booted) -> None:
    outcome = deliver(booted, stripe_fixture("checkout-session-completed"))

    business = booted[2].business_for_stripe_customer(CUSTOMER)
    assert outcome.verdict == "accepted"
    assert business is not None
    assert business.business_id == DEMO
    link = booted[2].get_document(billing.SUBSCRIPTIONS, SUBSCRIPTION)
    assert link is not None
    assert link["business_id"] == DEMO


def test_checkout_completed_finds_business_by_metadata_alone(booted: Booted) -> None:
    payload = stripe_event("checkout-session-completed", {"client_reference_id": None})

    outcome = deliver(booted, payload)

    assert outcome.verdict == "accepted"
    assert outcome.business_id == DEMO


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("customer-subscription-updated", "active"),
        ("customer-subscription-past-due", "past_due"),
        ("customer-subscription-deleted", "suspended"),
        ("invoice-paid", "active"),
        ("invoice-payment-failed", "past_due"),
    ],
)
def test_each_billing_event_sets_the_service_status(
    booted: Booted, fixture: str, expected: str
) -> None:
    deliver(booted, stripe_fixture("checkout-session-completed"), "req-link")

    outcome = deliver(booted, stripe_fixture(fixture))

    assert outcome.verdict == "accepted"
    assert status(booted) == expected


@pytest.mark.parametrize(
    ("stripe_status", "expected"),
    [
        ("trialing", "trialing"),
        ("active", "active"),
        ("past_due", "past_due"),
        ("unpaid", "suspended"),
        ("canceled", "suspended"),
        ("incomplete_expired", "suspended"),
    ],
)
def test_subscription_status_maps_to_service_status(
    booted: Booted, stripe_status: str, expected: str
) -> None:
    booted[2].update_business(DEMO, status="active")

    deliver(booted, subscription(stripe_status, CREATED, "evt_map"))

    assert status(booted) == expected


def test_incomplete_subscription_leaves_the_status_alone(booted: Booted) -> None:
    outcome = deliver(booted, stripe_fixture("customer-subscription-created"))

    assert outcome.verdict == "accepted"
    assert status(booted) == "trialing"


def test_subscription_event_resolves_business_by_metadata_and_links_customer(
    booted: Booted,
) -> None:
    deliver(booted, stripe_fixture("customer-subscription-updated"))

    business = booted[2].get_business(DEMO)
    assert business is not None
    assert business.stripe_customer_id == CUSTOMER
    assert business.status == "active"


def test_event_for_unknown_business_is_ignored(booted: Booted) -> None:
    payload = stripe_event(
        "customer-subscription-deleted",
        {"customer": "cus_someone_else", "metadata": {}},
    )

    outcome = deliver(booted, payload)

    assert outcome.verdict == "ignored"
    assert status(booted) == "trialing"


def test_business_id_of_the_event_is_set_in_the_log_context(booted: Booted) -> None:
    _, logs, _ = booted

    deliver(booted, stripe_fixture("customer-subscription-deleted"))

    assert logs.one("business_status_changed")["business_id"] == DEMO


def test_deleted_then_older_update_stays_suspended(booted: Booted) -> None:
    _, logs, store = booted
    deleted = stripe_fixture("customer-subscription-deleted")
    older = subscription("active", CREATED - 60, "evt_older")

    deliver(booted, deleted, "req-deleted")
    outcome = deliver(booted, older, "req-older")

    assert outcome.verdict == "ignored"
    assert status(booted) == "suspended"
    delivery = store.find_delivery("req-older")
    assert delivery is not None
    assert delivery.verdict == "ignored"
    assert len(logs.events("business_status_changed")) == 1


def test_canceled_subscription_never_comes_back(booted: Booted) -> None:
    deliver(booted, stripe_fixture("customer-subscription-deleted"), "req-deleted")

    later = deliver(booted, subscription("active", CREATED + 60, "evt_later"))
    paid = deliver(booted, stripe_fixture("invoice-paid"), "req-paid")

    assert later.verdict == "ignored"
    assert paid.verdict == "ignored"
    assert status(booted) == "suspended"


def test_older_active_update_does_not_undo_past_due(booted: Booted) -> None:
    deliver(booted, subscription("past_due", CREATED, "evt_past_due"))

    older = deliver(booted, subscription("active", CREATED - 1, "evt_older"))
    newer = deliver(booted, subscription("active", CREATED + 1, "evt_newer"))

    assert older.verdict == "ignored"
    assert newer.verdict == "accepted"
    assert status(booted) == "active"


def test_same_event_twice_changes_state_once(booted: Booted) -> None:
    _, logs, store = booted
    payload = stripe_fixture("customer-subscription-deleted")

    first = deliver(booted, payload, "req-first")
    store.update_business(DEMO, status="active")
    second = deliver(booted, payload, "req-second")

    assert (first.verdict, second.verdict) == ("accepted", "duplicate")
    assert status(booted) == "active"
    assert len(logs.events("business_status_changed")) == 1
    assert logs.one("stripe_event_duplicate")["event_id"] == "evt_1Q1w2E3r4T5y6U7iEe"


@pytest.mark.parametrize(
    "payload",
    [
        stripe_event("invoice-paid", id="evt_unknown", type="customer.created"),
        json.dumps(
            {
                "id": "evt_thin",
                "object": "v2.core.event",
                "type": "v1.billing.meter.error_report_triggered",
                "created": "2026-12-01T00:00:00.000Z",
                "related_object": {"id": "mtr_1", "type": "billing.meter"},
            },
            indent=2,
        ).encode(),
    ],
    ids=["unknown-type", "thin-event"],
)
def test_unknown_and_thin_events_are_acknowledged_and_logged(
    booted: Booted, payload: bytes
) -> None:
    _, logs, store = booted

    outcome = deliver(booted, payload, "req-other")

    assert outcome.verdict == "ignored"
    assert logs.one("stripe_event_ignored")["event_id"] == outcome.event_id
    delivery = store.find_delivery("req-other")
    assert delivery is not None
    assert delivery.verdict == "ignored"
    assert status(booted) == "trialing"


def test_rejected_signature_keeps_the_body_but_trusts_no_event_id(
    booted: Booted,
) -> None:
    settings, logs, store = booted
    payload = stripe_fixture("customer-subscription-deleted")
    context.bind_request({"X-Request-ID": "req-forged"})

    with pytest.raises(StripeSignatureRejected):
        billing.receive(payload, "t=1,v1=00", store, settings)

    delivery = store.find_delivery("req-forged")
    assert delivery is not None
    assert (delivery.verdict, delivery.event_id, delivery.body) == (
        "rejected",
        None,
        payload,
    )
    assert store.find_delivery("evt_1Q1w2E3r4T5y6U7iEe") is None
    assert logs.one("stripe_signature_rejected")["reason"]
    assert status(booted) == "trialing"


def test_malformed_json_with_a_valid_signature_is_recorded(booted: Booted) -> None:
    _, logs, store = booted

    with pytest.raises(billing.MalformedEvent):
        deliver(booted, b'{"id": "evt_broken", ', "req-broken")

    delivery = store.find_delivery("req-broken")
    assert delivery is not None
    assert delivery.verdict == "malformed"
    assert delivery.body == b'{"id": "evt_broken", '
    assert "malformed JSON" in logs.one("stripe_event_malformed")["reason"]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (stripe_event("invoice-paid", created="yesterday"), "'created'"),
        (stripe_event("invoice-paid", created=True), "'created'"),
        (stripe_event("invoice-paid", data={"object": "in_1"}), "'data.object'"),
        (stripe_event("invoice-paid", data=[]), "'data.object'"),
        (stripe_event("invoice-paid", {"metadata": "x"}), "'data.object.metadata'"),
        (
            stripe_event("invoice-paid", {"parent": {"subscription_details": 5}}),
            "'data.object.parent.subscription_details'",
        ),
    ],
)
def test_a_malformed_field_is_refused_for_good_and_kept(
    booted: Booted, payload: bytes, reason: str
) -> None:
    settings, logs, store = booted

    with pytest.raises(billing.MalformedEvent) as refused:
        deliver(booted, payload, "req-malformed")
    with pytest.raises(billing.MalformedEvent) as again:
        deliver(booted, payload, "req-2")
    with pytest.raises(billing.ReplayError) as replayed:
        billing.replay("req-malformed", store, settings)

    assert refused.value.status == 400
    line = logs.events("stripe_event_malformed")[0]
    assert (line["event_id"], line["event_type"]) == (
        "evt_1Q1w2E3r4T5y6U7iGg",
        "invoice.paid",
    )
    assert reason in line["reason"]
    delivery = store.find_delivery("req-malformed")
    assert delivery is not None
    assert (delivery.verdict, delivery.body) == ("malformed", payload)
    assert again.value.code == "malformed_event"
    assert "no replay can apply it" in str(replayed.value)
    assert logs.events("stripe_event_failed") == []
    assert status(booted) == "trialing"


def test_handler_error_fails_loudly_and_the_retry_succeeds(
    booted: Booted, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, logs, store = booted
    payload = stripe_fixture("customer-subscription-deleted")
    fail_first_call(monkeypatch, store, "update_business", OSError("disk I/O error"))

    with pytest.raises(billing.EventFailed) as failed:
        deliver(booted, payload, "req-attempt-1")
    retried = deliver(booted, payload, "req-attempt-2")

    assert failed.value.status == 500
    line = logs.one("stripe_event_failed")
    assert line["event_id"] == "evt_1Q1w2E3r4T5y6U7iEe"
    assert "disk I/O error" in line["reason"]
    delivery = store.find_delivery("req-attempt-1")
    assert delivery is not None
    assert (delivery.verdict, delivery.body) == ("failed", payload)
    assert retried.verdict == "accepted"
    assert status(booted) == "suspended"


def test_failed_delivery_replays_by_request_id(
    booted: Booted, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _, store = booted
    deliver(booted, stripe_fixture("checkout-session-completed"), "req-link")
    fail_first_call(monkeypatch, store, "update_business", OSError("disk I/O error"))
    with pytest.raises(billing.EventFailed):
        deliver(booted, stripe_fixture("invoice-payment-failed"), "req-failed")

    outcome = billing.replay("req-failed", store, settings)

    assert outcome.verdict == "accepted"
    assert status(booted) == "past_due"
    latest = store.find_delivery("evt_1Q1w2E3r4T5y6U7iFf")
    assert latest is not None
    assert latest.verdict == "accepted"
    assert latest.detail is not None
    assert latest.detail.startswith("replay of req-failed")


def test_replay_refuses_a_rejected_delivery(booted: Booted) -> None:
    settings, _, store = booted
    context.bind_request({"X-Request-ID": "req-forged"})
    with pytest.raises(StripeSignatureRejected):
        billing.receive(b"{}", "t=1,v1=00", store, settings)

    with pytest.raises(billing.ReplayError, match="never verified"):
        billing.replay("req-forged", store, settings)


@responses.activate
def test_with_an_api_key_the_subscription_is_read_fresh(
    configure: Callable[..., tuple[Settings, LogCapture]],
) -> None:
    settings, _ = configure(STRIPE_API_KEY="sk_test_fresh")
    store = get_store()
    store.create_business(Business(DEMO, "Demo Plumbing", status="active"))
    responses.get(
        f"https://api.stripe.com/v1/subscriptions/{SUBSCRIPTION}",
        json={"id": SUBSCRIPTION, "object": "subscription", "status": "canceled"},
    )
    # An "active" update that Stripe has since overtaken with a cancellation.
    payload = stripe_fixture("customer-subscription-updated")

    context.bind_request({"X-Request-ID": "req-fresh"})
    outcome = billing.receive(
        payload, stripe_headers(payload)["Stripe-Signature"], store, settings
    )

    assert outcome.verdict == "accepted"
    business = store.get_business(DEMO)
    assert business is not None
    assert business.status == "suspended"
    assert gating.service_decision(business) == "suspend"
    assert len(responses.calls) == 1


def owner_notices() -> list[str]:
    """The billing events the owner was told about, oldest first."""
    return [
        record["details"]["billing_event"]
        for record in outbox.read("owner-notifications")
        if record["kind"] == "billing"
    ]


def test_owner_is_told_about_each_payment(booted: Booted) -> None:
    deliver(booted, stripe_fixture("checkout-session-completed"), "req-link")

    deliver(booted, stripe_fixture("invoice-payment-failed"), "req-failed")
    deliver(booted, stripe_fixture("invoice-paid"), "req-paid")

    assert owner_notices() == ["payment_failed", "payment_received"]
    record = outbox.read("owner-notifications")[0]
    assert record["to"] == ["+15555550101"]
    assert "did not go through" in record["text"]


def test_owner_is_warned_once_when_the_subscription_falls_behind(
    booted: Booted,
) -> None:
    payload = stripe_fixture("customer-subscription-past-due")

    deliver(booted, payload, "req-first")
    deliver(booted, payload, "req-duplicate")
    deliver(booted, subscription("past_due", CREATED + 1, "evt_still"), "req-again")

    assert status(booted) == "past_due"
    business = booted[2].get_business(DEMO)
    assert business is not None
    assert gating.service_decision(business) == "warn"
    assert owner_notices() == ["past_due"]


def test_owner_is_told_when_the_receptionist_is_paused(booted: Booted) -> None:
    deliver(booted, stripe_fixture("customer-subscription-deleted"))

    assert owner_notices() == ["suspended"]


def test_stale_events_tell_the_owner_nothing(booted: Booted) -> None:
    deliver(booted, stripe_fixture("customer-subscription-deleted"), "req-deleted")

    deliver(booted, stripe_fixture("invoice-paid"), "req-paid")

    assert owner_notices() == ["suspended"]


def test_event_naming_a_business_linked_to_another_customer_is_not_applied(
    booted: Booted,
) -> None:
    _, logs, store = booted
    store.update_business(DEMO, stripe_customer_id="cus_the_real_one")
    payload = stripe_event(
        "customer-subscription-deleted",
        {"customer": "cus_someone_else", "id": "sub_someone_else"},
    )

    outcome = deliver(booted, payload)

    assert outcome.verdict == "ignored"
    assert status(booted) == "trialing"
    assert logs.one("stripe_customer_mismatch")["linked_customer_id"] == (
        "cus_the_real_one"
    )
