"""The demo business a fresh `make run` offers to talk to."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from common.settings import Settings
from common.store import Business, StoreError, get_store
from common.store.demo import seed_demo
from tests.conftest import LogCapture

Configure = Callable[..., tuple[Settings, LogCapture]]
DEMO_KEY = "sk_live_demo_key_for_local_runs_only"


def test_an_empty_store_gets_the_demo_business_with_hours_and_prices(
    configure: Configure,
) -> None:
    settings, _ = configure(DEMO_PHONE_NUMBER="+15005550009")
    store = get_store()

    demo = seed_demo(store, settings)

    assert demo is not None
    business = store.business_for_number("+15005550009")
    assert business is not None
    assert business.business_id == "biz-demo"
    assert business.opening_hours["saturday"] == [["10:00", "16:00"]]
    assert business.address is not None
    assert any("tune-up $60" in entry.answer for entry in business.knowledge)
    assert business.transfer_number is not None
    assert business.owner_contacts
    assert business.allowed_origins == [
        "http://localhost:8080",
        "http://127.0.0.1:8080",
    ]
    assert store.business_for_widget_key(demo.widget_key) == business
    assert demo.new_api_key is not None
    assert store.api_key_for_secret(demo.new_api_key) is not None


def test_the_demo_key_comes_from_the_environment_and_is_not_shown(
    configure: Configure,
) -> None:
    settings, _ = configure(DEMO_API_KEY=DEMO_KEY)
    store = get_store()

    demo = seed_demo(store, settings)

    assert demo is not None
    assert demo.new_api_key is None
    found = store.api_key_for_secret(DEMO_KEY)
    assert found is not None
    assert found.business_id == "biz-demo"


def test_a_store_with_any_business_is_left_alone(configure: Configure) -> None:
    settings, _ = configure()
    store = get_store()
    store.create_business(Business(business_id="biz-real", name="Real"))

    assert seed_demo(store, settings) is None
    assert [b.business_id for b in store.list_businesses()] == ["biz-real"]


def test_a_new_demo_key_on_a_seeded_store_opens_the_demo_business(
    configure: Configure,
) -> None:
    settings, _ = configure()
    seed_demo(get_store(), settings)
    settings, logs = configure(DEMO_API_KEY=DEMO_KEY)
    store = get_store()

    assert seed_demo(store, settings) is None
    seed_demo(store, settings)  # a second start adds nothing

    found = store.api_key_for_secret(DEMO_KEY)
    assert found is not None
    assert found.business_id == "biz-demo"
    assert len(store.list_api_keys("biz-demo")) == 2
    added = logs.one("demo_key_added")
    assert added["key_id"] == found.key_id
    assert DEMO_KEY not in logs.stream.getvalue()


def test_a_demo_key_revoked_on_a_seeded_store_is_not_revived(
    configure: Configure,
) -> None:
    settings, _ = configure(DEMO_API_KEY=DEMO_KEY)
    store = get_store()
    seed_demo(store, settings)
    found = store.api_key_for_secret(DEMO_KEY)
    assert found is not None
    store.revoke_api_key(found.key_id)

    with pytest.raises(StoreError, match="DEMO_API_KEY is the revoked key"):
        seed_demo(store, settings)


def test_a_demo_key_of_another_business_is_refused(configure: Configure) -> None:
    settings, _ = configure()
    seed_demo(get_store(), settings)
    get_store().create_business(Business(business_id="biz-real", name="Real"))
    get_store().create_api_key("biz-real", DEMO_KEY)
    settings, _ = configure(DEMO_API_KEY=DEMO_KEY)

    with pytest.raises(StoreError, match="DEMO_API_KEY is already a key of biz-real"):
        seed_demo(get_store(), settings)
