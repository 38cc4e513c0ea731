"""The contract every store backend keeps, run against each one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from common.store import (
    Business,
    ConflictError,
    Conversation,
    Delivery,
    DocumentWrite,
    KnowledgeEntry,
    NotFoundError,
    Store,
    StoreError,
    Turn,
)
from tests.common.store.conftest import FakeClock

_T = TypeVar("_T")


def race(count: int, work: Callable[[], _T]) -> list[_T]:
    """Run `work` on `count` threads released at the same moment."""
    barrier = threading.Barrier(count)

    def start() -> _T:
        barrier.wait()
        return work()

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(start) for _ in range(count)]
        return [future.result() for future in futures]


def make_business(
    store: Store, business_id: str = "biz-one", **fields: Any
) -> Business:
    return store.create_business(
        Business(business_id=business_id, name=f"Shop {business_id}", **fields)
    )


# Businesses.


def test_created_business_reads_back_with_its_knowledge(store: Store) -> None:
    make_business(
        store,
        time_zone="Europe/Paris",
        opening_hours={"monday": [["09:00", "17:00"]]},
        knowledge=[
            KnowledgeEntry(answer="We fix boilers.", question="What do you do?")
        ],
        owner_contacts=["+15551230000"],
    )

    business = store.get_business("biz-one")

    assert business is not None
    assert business.time_zone == "Europe/Paris"
    assert business.opening_hours == {"monday": [["09:00", "17:00"]]}
    assert business.knowledge == [
        KnowledgeEntry(answer="We fix boilers.", question="What do you do?")
    ]
    assert business.created_at > 0


def test_creating_an_existing_business_id_is_a_conflict(store: Store) -> None:
    make_business(store)

    with pytest.raises(ConflictError, match="biz-one"):
        make_business(store)


def test_update_changes_named_fields_and_keeps_the_rest(
    store: Store, clock: FakeClock
) -> None:
    make_business(store, greeting="Hello")
    clock.advance(10)

    updated = store.update_business("biz-one", status="active", plan="pro")

    assert (updated.status, updated.plan, updated.greeting) == (
        "active",
        "pro",
        "Hello",
    )
    assert updated.updated_at > updated.created_at
    assert store.get_business("biz-one") == updated


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"colour": "red"}, "unknown business field"),
        ({"status": "asleep"}, "status 'asleep'"),
        ({"time_zone": "Mars/Olympus"}, "time zone"),
        ({"transfer_number": "555-1234"}, "E.164"),
        ({"opening_hours": {"funday": []}}, "weekday"),
        ({"opening_hours": {"monday": [["17:00", "09:00"]]}}, "opening before"),
        ({"allowed_origins": ["https://example.com/page"]}, "origin"),
        ({"created_at": 1.0}, "cannot be changed"),
    ],
)
def test_update_with_a_bad_value_is_refused_and_changes_nothing(
    store: Store, changes: dict[str, object], message: str
) -> None:
    before = make_business(store)

    with pytest.raises(StoreError, match=message):
        store.update_business("biz-one", **changes)

    assert store.get_business("biz-one") == before


def test_allowed_origins_are_stored_in_one_spelling(store: Store) -> None:
    make_business(store)

    updated = store.update_business(
        "biz-one",
        allowed_origins=["HTTPS://Shop.Example.com:443", "https://shop.example.com"],
    )

    assert updated.allowed_origins == ["https://shop.example.com"]
    stored = store.get_business("biz-one")
    assert stored is not None
    assert stored.allowed_origins == ["https://shop.example.com"]


def test_updating_an_unknown_business_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="biz-nobody"):
        store.update_business("biz-nobody", plan="pro")


def test_businesses_are_found_by_stripe_customer_and_widget_key(store: Store) -> None:
    make_business(store, stripe_customer_id="cus_123", widget_key="pk_live_abc")
    make_business(store, "biz-two")

    by_customer = store.business_for_stripe_customer("cus_123")
    by_widget = store.business_for_widget_key("pk_live_abc")

    assert by_customer is not None
    assert by_customer.business_id == "biz-one"
    assert by_widget is not None
    assert by_widget.business_id == "biz-one"
    assert store.business_for_stripe_customer("cus_999") is None
    assert [b.business_id for b in store.list_businesses()] == ["biz-one", "biz-two"]


def test_two_businesses_cannot_share_a_widget_key(store: Store) -> None:
    make_business(store, widget_key="pk_live_abc")
    make_business(store, "biz-two")

    with pytest.raises(ConflictError):
        store.update_business("biz-two", widget_key="pk_live_abc")


# Phone numbers.


def test_a_number_resolves_to_its_business_until_removed(store: Store) -> None:
    make_business(store)
    store.add_number("biz-one", "+15005550006")

    found = store.business_for_number("+15005550006")
    assert found is not None
    assert found.business_id == "biz-one"
    assert store.numbers_for("biz-one") == ["+15005550006"]

    store.remove_number("+15005550006")
    assert store.business_for_number("+15005550006") is None
    assert store.numbers_for("biz-one") == []


def test_a_number_of_one_business_cannot_be_taken_by_another(store: Store) -> None:
    make_business(store)
    make_business(store, "biz-two")
    store.add_number("biz-one", "+15005550006")

    with pytest.raises(ConflictError, match="biz-one"):
        store.add_number("biz-two", "+15005550006")

    store.add_number("biz-one", "+15005550006")
    assert store.numbers_for("biz-two") == []


def test_numbers_must_be_e164_and_belong_to_a_known_business(store: Store) -> None:
    make_business(store)

    with pytest.raises(StoreError, match=r"E\.164"):
        store.add_number("biz-one", "5005550006")
    with pytest.raises(NotFoundError, match="biz-nobody"):
        store.add_number("biz-nobody", "+15005550006")
    with pytest.raises(NotFoundError):
        store.remove_number("+15005550006")


# API keys.


def test_an_api_key_is_found_by_its_secret_and_stored_only_as_prefix(
    store: Store,
) -> None:
    make_business(store)

    api_key, secret = store.create_api_key("biz-one")

    assert secret.startswith("sk_live_")
    assert len(secret) > 30
    assert secret.startswith(api_key.prefix)
    assert len(api_key.prefix) < 16
    assert store.api_key_for_secret(secret) == api_key
    assert store.api_key_for_secret(secret + "x") is None
    assert store.list_api_keys("biz-one") == [api_key]


def test_a_revoked_key_is_still_found_but_marked_revoked(store: Store) -> None:
    make_business(store)
    api_key, secret = store.create_api_key("biz-one")

    revoked = store.revoke_api_key(api_key.key_id)

    found = store.api_key_for_secret(secret)
    assert revoked.revoked
    assert found is not None
    assert found.revoked


def test_a_chosen_api_key_must_be_long_enough(store: Store) -> None:
    make_business(store)

    with pytest.raises(StoreError, match="at least"):
        store.create_api_key("biz-one", secret="short")
    api_key, secret = store.create_api_key("biz-one", secret="sk_live_" + "d" * 24)

    assert store.api_key_for_secret(secret) == api_key


def test_keys_are_listed_only_for_their_own_business(store: Store) -> None:
    make_business(store)
    make_business(store, "biz-two")
    mine, _ = store.create_api_key("biz-one")
    theirs, _ = store.create_api_key("biz-two")

    assert store.list_api_keys("biz-one") == [mine]
    assert store.list_api_keys("biz-two") == [theirs]
    with pytest.raises(NotFoundError):
        store.create_api_key("biz-nobody")
    with pytest.raises(NotFoundError):
        store.revoke_api_key("key_missing")


# Conversations.


def test_a_conversation_keeps_only_its_last_turns(store: Store) -> None:
    conversation = store.get_conversation("biz-one", "sms", "+15551230000")
    assert conversation.turns == []

    conversation.turns = [Turn("customer", f"message {i}", float(i)) for i in range(5)]
    conversation.state["opted_out"] = False
    store.save_conversation(conversation, max_turns=3)

    again = store.get_conversation("biz-one", "sms", "+15551230000")
    assert [turn.text for turn in again.turns] == [
        "message 2",
        "message 3",
        "message 4",
    ]
    assert again.state == {"opted_out": False}


def test_conversations_of_two_businesses_with_one_caller_stay_apart(
    store: Store,
) -> None:
    mine = Conversation("biz-one", "sms", "+15551230000", [Turn("customer", "hi", 1.0)])
    store.save_conversation(mine, max_turns=10)

    theirs = store.get_conversation("biz-two", "sms", "+15551230000")

    assert theirs.turns == []


# Documents.


def test_a_document_disappears_after_its_ttl(store: Store, clock: FakeClock) -> None:
    store.put_document("call_state", "CA1", {"step": 2}, ttl_seconds=60)
    store.put_document("call_state", "CA2", {"step": 1}, ttl_seconds=None)
    assert store.get_document("call_state", "CA1") == {"step": 2}

    clock.advance(61)

    assert store.get_document("call_state", "CA1") is None
    assert store.list_documents("call_state") == {"CA2": {"step": 1}}


def test_a_deleted_document_is_gone(store: Store) -> None:
    store.put_document("silences", "x", {"until": 5}, ttl_seconds=60)

    store.delete_document("silences", "x")

    assert store.get_document("silences", "x") is None
    assert store.list_documents("silences") == {}


# Idempotency.


def test_a_claim_is_won_once_then_reports_progress_then_the_result(
    store: Store,
) -> None:
    first = store.claim("stripe", "evt_1", ttl_seconds=3600)
    second = store.claim("stripe", "evt_1", ttl_seconds=3600)
    store.complete_claim("stripe", "evt_1", {"status": "applied"})
    third = store.claim("stripe", "evt_1", ttl_seconds=3600)

    assert first.won
    assert first.state == "claimed"
    assert second.state == "in_progress"
    assert not second.won
    assert third.state == "done"
    assert third.result == {"status": "applied"}


def test_claims_racing_from_many_threads_have_exactly_one_winner(
    store: Store,
) -> None:
    claims = race(8, lambda: store.claim("twilio", "SM1", ttl_seconds=3600))

    assert sum(claim.won for claim in claims) == 1
    assert {claim.state for claim in claims if not claim.won} == {"in_progress"}


def test_a_released_claim_can_be_won_again(store: Store) -> None:
    store.claim("stripe", "evt_1", ttl_seconds=3600)

    store.release_claim("stripe", "evt_1")

    assert store.claim("stripe", "evt_1", ttl_seconds=3600).won


def test_a_claim_whose_holder_died_is_won_after_the_lease(
    store: Store, clock: FakeClock
) -> None:
    store.claim("stripe", "evt_1", ttl_seconds=3600, lease_seconds=30)

    clock.advance(10)
    assert store.claim("stripe", "evt_1", 3600, lease_seconds=30).state == (
        "in_progress"
    )
    clock.advance(25)
    assert store.claim("stripe", "evt_1", 3600, lease_seconds=30).won


def test_a_finished_claim_expires_after_its_ttl(store: Store, clock: FakeClock) -> None:
    store.claim("stripe", "evt_1", ttl_seconds=100)
    store.complete_claim("stripe", "evt_1")

    clock.advance(101)

    assert store.claim("stripe", "evt_1", ttl_seconds=100).won


def test_completing_a_claim_puts_its_documents_with_it(store: Store) -> None:
    store.claim("alerts", "problem#0", ttl_seconds=3600)

    store.complete_claim(
        "alerts",
        "problem#0",
        {"dedup_key": "incident-1"},
        documents=[DocumentWrite("episodes", "problem", {"status": "firing"}, 3600)],
    )

    assert store.claim("alerts", "problem#0", 3600).result == {
        "dedup_key": "incident-1"
    }
    assert store.get_document("episodes", "problem") == {"status": "firing"}


def test_documents_of_an_expired_claim_are_still_put(
    store: Store, clock: FakeClock
) -> None:
    store.claim("alerts", "problem#0", ttl_seconds=10)
    clock.advance(11)

    store.complete_claim(
        "alerts",
        "problem#0",
        documents=[DocumentWrite("episodes", "problem", {"status": "firing"}, None)],
    )

    assert store.get_document("episodes", "problem") == {"status": "firing"}


def test_a_claim_taken_done_reports_its_result_at_once(store: Store) -> None:
    first = store.claim_done(
        "alerts",
        "problem#0",
        ttl_seconds=3600,
        result={"message_id": "m-1"},
        documents=[DocumentWrite("episodes", "problem", {"generation": 0}, 3600)],
    )
    second = store.claim_done("alerts", "problem#0", 3600, {"message_id": "m-2"})
    third = store.claim("alerts", "problem#0", ttl_seconds=3600)

    assert first.won
    assert (second.state, second.result) == ("done", {"message_id": "m-1"})
    assert (third.state, third.result) == ("done", {"message_id": "m-1"})
    assert store.get_document("episodes", "problem") == {"generation": 0}


def test_a_claim_taken_done_racing_has_one_winner_whose_documents_alone_land(
    store: Store,
) -> None:
    def take(index: int) -> bool:
        document = DocumentWrite("episodes", "problem", {"winner": index}, 3600)
        return store.claim_done(
            "alerts", "problem#0", 3600, {"winner": index}, documents=[document]
        ).won

    counter = iter(range(8))
    lock = threading.Lock()

    def next_take() -> tuple[int, bool]:
        with lock:
            index = next(counter)
        return index, take(index)

    outcomes = race(8, next_take)

    [winner] = [index for index, won in outcomes if won]
    assert store.get_document("episodes", "problem") == {"winner": winner}


def test_a_claim_taken_done_waits_for_one_in_progress(store: Store) -> None:
    store.claim("alerts", "problem#0", ttl_seconds=3600)

    taken = store.claim_done("alerts", "problem#0", 3600, {"message_id": "m-2"})

    assert taken.state == "in_progress"


# Webhook inbox.


def test_deliveries_are_found_by_request_or_event_id_newest_first(
    store: Store, clock: FakeClock
) -> None:
    for index, source in enumerate(["stripe", "twilio", "stripe"]):
        store.save_delivery(
            Delivery(
                request_id=f"req-{index}",
                source=source,
                event_id="evt_1" if source == "stripe" else None,
                event_type="invoice.paid",
                verdict="bad_signature",
                received_at=clock() + index,
                body=b'{"id": "evt_1"}',
                headers={"Stripe-Signature": "t=1,v1=abc"},
            )
        )

    by_request = store.find_delivery("req-1")
    by_event = store.find_delivery("evt_1")

    assert by_request is not None
    assert by_request.source == "twilio"
    assert by_event is not None
    assert by_event.request_id == "req-2"
    assert by_event.body == b'{"id": "evt_1"}'
    assert by_event.headers == {"Stripe-Signature": "t=1,v1=abc"}
    assert [d.request_id for d in store.list_deliveries("stripe")] == [
        "req-2",
        "req-0",
    ]
    assert len(store.list_deliveries(limit=2)) == 2
    assert store.find_delivery("req-404") is None


def test_every_delivery_sharing_a_reference_is_found_newest_first(
    store: Store, clock: FakeClock
) -> None:
    for index, (request_id, event_id) in enumerate(
        [("req-shared", "evt_a"), ("req-shared", "evt_b"), ("evt_a", "evt_a")]
    ):
        store.save_delivery(
            Delivery(
                request_id=request_id,
                source="stripe",
                event_id=event_id,
                event_type="invoice.paid",
                verdict="failed",
                received_at=clock() + index,
            )
        )

    shared = store.find_deliveries("req-shared")
    by_event = store.find_deliveries("evt_a")

    assert [d.event_id for d in shared] == ["evt_b", "evt_a"]
    assert [d.request_id for d in by_event] == ["evt_a", "req-shared"]
    assert store.find_deliveries("req-404") == []


# Counters.


def test_increments_count_up_within_a_window(store: Store, clock: FakeClock) -> None:
    clock.now = 6000.0

    counts = [store.increment("sms:biz-one", 60) for _ in range(3)]

    assert counts == [1, 2, 3]
    assert store.increment("sms:biz-two", 60, amount=5) == 5


def test_concurrent_increments_are_all_counted(store: Store) -> None:
    counts = race(8, lambda: store.increment("chat:biz-one", 3600))

    assert sorted(counts) == list(range(1, 9))


def test_the_window_rolls_instead_of_resetting_at_a_boundary(
    store: Store, clock: FakeClock
) -> None:
    clock.now = 6000.0 + 50  # late in the window [6000, 6060)
    for _ in range(10):
        store.increment("ip:1.2.3.4", 60)

    clock.now = 6060.0 + 15  # a quarter into the next window
    rolled = store.increment("ip:1.2.3.4", 60)

    assert rolled == 1 + 7  # three quarters of the previous window still count
    clock.now = 6120.0 + 30
    assert store.increment("ip:1.2.3.4", 60) == 1 + 0


def test_a_counter_starts_over_when_reset(store: Store) -> None:
    store.increment("route:/v1/chat", 300, amount=4)

    store.reset_counter("route:/v1/chat")

    assert store.increment("route:/v1/chat", 300) == 1
