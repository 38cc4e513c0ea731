"""Every request is tied to the business that proved it, and only that one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from common import context, errors, tenancy
from common.settings import Settings
from common.store import Business, Store, get_store
from tests.conftest import LogCapture
from tests.functions.chat.tenants import create_tenant
from tests.runtime import local_client

Configure = Callable[..., tuple[Settings, LogCapture]]
SHOP_A = "https://a.example.com"


def request(
    headers: dict[str, str] | None = None, form: dict[str, str] | None = None
) -> Request:
    builder = EnvironBuilder(method="POST", headers=headers or {}, data=form)
    return Request(builder.get_environ())


@pytest.fixture
def store(configure: Configure) -> Store:
    configure()
    store = get_store()
    for business_id in ("biz-a", "biz-b"):
        store.create_business(
            Business(
                business_id=business_id,
                name=business_id,
                widget_key=f"pk_live_{business_id}",
                allowed_origins=[f"https://{business_id[-1]}.example.com"],
                stripe_customer_id=f"cus_{business_id}",
            )
        )
    store.add_number("biz-a", "+15005550006")
    return store


def test_twilio_resolves_by_the_number_called_and_sets_the_context(
    store: Store,
) -> None:
    business = tenancy.business_for_twilio(request(form={"To": "+15005550006"}))

    assert business is not None
    assert business.business_id == "biz-a"
    assert context.current().business_id == "biz-a"


def test_twilio_to_an_unknown_number_resolves_to_nobody_and_says_so(
    configure: Configure,
) -> None:
    _, logs = configure()

    business = tenancy.business_for_twilio(request(form={"To": "+15559990000"}))

    assert business is None
    assert context.current().business_id == "-"
    assert logs.one("tenant_unresolved")["source"] == "twilio"


def test_an_api_key_resolves_to_its_own_business(store: Store) -> None:
    _, secret = store.create_api_key("biz-a")

    business = tenancy.business_for_api_key(request({"X-API-Key": secret}))

    assert business.business_id == "biz-a"
    assert context.current().business_id == "biz-a"


def test_a_matching_business_header_is_accepted(store: Store) -> None:
    _, secret = store.create_api_key("biz-a")

    business = tenancy.business_for_api_key(
        request({"X-API-Key": secret, "X-Business-ID": "biz-a"})
    )

    assert business.business_id == "biz-a"


def test_one_business_key_cannot_reach_another_business(store: Store) -> None:
    _, secret_a = store.create_api_key("biz-a")

    with pytest.raises(errors.Forbidden) as refused:
        tenancy.business_for_api_key(
            request({"X-API-Key": secret_a, "X-Business-ID": "biz-b"})
        )

    assert refused.value.code == "business_mismatch"
    assert context.current().business_id == "-"


def test_a_business_header_without_a_key_grants_nothing(store: Store) -> None:
    with pytest.raises(errors.Unauthorized) as refused:
        tenancy.business_for_api_key(request({"X-Business-ID": "biz-a"}))

    assert refused.value.code == "missing_api_key"


def test_an_unknown_key_is_401_and_a_revoked_key_is_403(store: Store) -> None:
    api_key, secret = store.create_api_key("biz-a")

    with pytest.raises(errors.Unauthorized) as unknown:
        tenancy.business_for_api_key(request({"X-API-Key": "sk_live_" + "x" * 32}))
    store.revoke_api_key(api_key.key_id)
    with pytest.raises(errors.Forbidden) as revoked:
        tenancy.business_for_api_key(request({"X-API-Key": secret}))

    assert unknown.value.code == "invalid_api_key"
    assert revoked.value.code == "api_key_revoked"
    assert secret not in revoked.value.message


def test_the_widget_resolves_by_publishable_key_from_an_allowed_origin(
    store: Store,
) -> None:
    business = tenancy.business_for_widget(
        request({"X-Widget-Key": "pk_live_biz-a", "Origin": SHOP_A})
    )

    assert business.business_id == "biz-a"
    assert context.current().business_id == "biz-a"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Origin": SHOP_A}, "missing_widget_key"),
        ({"X-Widget-Key": "pk_live_nobody", "Origin": SHOP_A}, "invalid_widget_key"),
        ({"X-Widget-Key": "pk_live_biz-a"}, "origin_not_allowed"),
        (
            {"X-Widget-Key": "pk_live_biz-a", "Origin": "https://b.example.com"},
            "origin_not_allowed",
        ),
        (
            {
                "X-Widget-Key": "pk_live_biz-a",
                "Origin": SHOP_A,
                "X-Business-ID": "biz-b",
            },
            "business_mismatch",
        ),
    ],
)
def test_the_widget_is_refused_without_key_origin_and_matching_business(
    store: Store, headers: dict[str, str], code: str
) -> None:
    with pytest.raises(errors.HttpError) as refused:
        tenancy.business_for_widget(request(headers))

    assert refused.value.code == code
    assert refused.value.status in (401, 403)


def test_the_widget_key_may_come_from_the_caller(store: Store) -> None:
    business = tenancy.business_for_widget(
        request({"Origin": "https://b.example.com"}), widget_key="pk_live_biz-b"
    )

    assert business.business_id == "biz-b"


def test_stripe_resolves_by_customer_then_by_client_reference(store: Store) -> None:
    by_customer = tenancy.business_for_stripe(
        {"customer": "cus_biz-b", "client_reference_id": "biz-a"}
    )
    by_reference = tenancy.business_for_stripe({"client_reference_id": "biz-a"})
    unknown = tenancy.business_for_stripe({"customer": "cus_nobody"})

    assert by_customer is not None
    assert by_customer.business_id == "biz-b"
    assert by_reference is not None
    assert by_reference.business_id == "biz-a"
    assert unknown is None


def test_stripe_resolves_by_subscription_link_then_by_metadata(store: Store) -> None:
    store.create_business(Business(business_id="biz-new", name="New"))
    store.put_document(
        tenancy.STRIPE_SUBSCRIPTIONS, "sub_a", {"business_id": "biz-a"}, None
    )

    by_link = tenancy.business_for_stripe({"customer": "cus_unknown"}, "sub_a")
    by_metadata = tenancy.business_for_stripe(
        {"customer": "cus_first", "metadata": {"business_id": "biz-new"}}
    )

    assert by_link is not None
    assert by_link.business_id == "biz-a"
    assert by_metadata is not None
    assert by_metadata.stripe_customer_id == "cus_first"
    assert store.business_for_stripe_customer("cus_first") == by_metadata


def test_stripe_object_naming_a_business_of_another_customer_resolves_to_nobody(
    configure: Configure,
) -> None:
    _, logs = configure()
    store = get_store()
    store.create_business(
        Business(business_id="biz-a", name="A", stripe_customer_id="cus_real")
    )

    business = tenancy.business_for_stripe(
        {"customer": "cus_intruder", "client_reference_id": "biz-a"}
    )

    assert business is None
    assert context.current().business_id == "-"
    mismatch = logs.one("stripe_customer_mismatch")
    assert mismatch["linked_customer_id"] == "cus_real"
    assert store.business_for_stripe_customer("cus_real") is not None


def test_one_business_key_can_neither_read_nor_change_another_business_chat(
    configure: Configure,
) -> None:
    configure()
    mine = create_tenant("biz-mine")
    theirs = create_tenant("biz-theirs")
    client = local_client()
    session = {"session_id": "shared-session-1"}

    def post(api_key: str, headers: dict[str, str], message: str) -> int:
        response = client.post(
            "/v1/chat",
            json={"message": message, **session},
            headers={"X-API-Key": api_key, **headers},
        )
        return response.status_code

    theirs_said = post(theirs.api_key, {}, "What are your hours?")
    crossed = post(mine.api_key, {"X-Business-ID": theirs.business_id}, "Hijack")
    mine_said = post(mine.api_key, {}, "Do you rent e-bikes?")

    store = get_store()
    their_turns = store.get_conversation("biz-theirs", "chat", "shared-session-1").turns
    my_turns = store.get_conversation("biz-mine", "chat", "shared-session-1").turns
    assert (theirs_said, crossed, mine_said) == (200, 403, 200)
    assert [t.text for t in their_turns if t.role == "customer"] == [
        "What are your hours?"
    ]
    assert [t.text for t in my_turns if t.role == "customer"] == [
        "Do you rent e-bikes?"
    ]
