"""The demo business a fresh `make run` offers to talk to."""

from __future__ import annotations

from collections.abc import Callable

from common.settings import Settings
from common.store import Business, get_store
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
