"""The demo business the local runtime seeds into an empty store.

`make run` on a fresh checkout gets `biz-demo`: the number from
`DEMO_PHONE_NUMBER`, an API key (`DEMO_API_KEY`, else a new one shown
once), a widget key allowed on the local runtime's own origins, and the
profile and knowledge base of `demo.yaml`, read like any `kb load` file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.logs import get_logger
from common.settings import Settings
from common.store.base import Business, ConflictError, Store, StoreError
from common.store.business_file import read_business_file
from common.store.keys import check_secret, new_widget_key

log = get_logger(__name__)

DEMO_BUSINESS_ID = "biz-demo"
DEMO_FILE = Path(__file__).with_name("demo.yaml")
DEMO_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")


@dataclass(frozen=True)
class DemoTenant:
    business_id: str
    phone_number: str
    widget_key: str
    # Set only when the key was generated: it is shown once and never again.
    new_api_key: str | None


def seed_demo(store: Store, settings: Settings) -> DemoTenant | None:
    """Create the demo business if the store holds no business at all."""
    if store.list_businesses():
        return None

    try:
        if settings.demo_api_key is not None:
            check_secret(settings.demo_api_key)
    except StoreError as exc:
        raise StoreError(f"DEMO_API_KEY: {exc}") from exc
    profile = read_business_file(DEMO_FILE)
    business = Business(
        business_id=DEMO_BUSINESS_ID,
        name=profile.pop("name"),
        status="active",
        widget_key=new_widget_key(),
        allowed_origins=list(DEMO_ORIGINS),
    )
    try:
        store.create_business(business)
    except ConflictError:
        return None  # another process seeded it a moment ago
    store.update_business(DEMO_BUSINESS_ID, **profile)
    store.add_number(DEMO_BUSINESS_ID, settings.demo_phone_number)
    _, secret = store.create_api_key(DEMO_BUSINESS_ID, settings.demo_api_key)

    log.info(
        "demo_seeded",
        f"created the demo business {DEMO_BUSINESS_ID}",
        number=settings.demo_phone_number,
    )
    return DemoTenant(
        business_id=DEMO_BUSINESS_ID,
        phone_number=settings.demo_phone_number,
        widget_key=str(business.widget_key),
        new_api_key=None if settings.demo_api_key else secret,
    )
