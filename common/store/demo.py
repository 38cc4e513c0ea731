"""The demo business the local runtime seeds into an empty store.

`make run` on a fresh checkout gets `biz-demo`: the number from
`DEMO_PHONE_NUMBER`, an API key (`DEMO_API_KEY`, else a new one shown
once), a widget key allowed on the local runtime's own origins, and the
profile and knowledge base of `demo.yaml`, read like any `kb load` file.
A `DEMO_API_KEY` set on a later start is added to the demo business.
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
    """Create the demo business if the store holds no business at all.

    On a store seeded before, `DEMO_API_KEY` still opens the demo business:
    the key is added to it when it has no key with that secret yet.
    """
    try:
        if settings.demo_api_key is not None:
            check_secret(settings.demo_api_key)
    except StoreError as exc:
        raise StoreError(f"DEMO_API_KEY: {exc}") from exc
    if store.list_businesses():
        _add_demo_key(store, settings.demo_api_key)
        return None

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
        widget_key=str(business.widget_key),
    )
    return DemoTenant(
        business_id=DEMO_BUSINESS_ID,
        phone_number=settings.demo_phone_number,
        widget_key=str(business.widget_key),
        new_api_key=None if settings.demo_api_key else secret,
    )


def _add_demo_key(store: Store, secret: str | None) -> None:
    """Give the existing demo business the key `DEMO_API_KEY` names."""
    if secret is None or store.get_business(DEMO_BUSINESS_ID) is None:
        return

    existing = store.api_key_for_secret(secret)
    if existing is not None and existing.business_id != DEMO_BUSINESS_ID:
        raise StoreError(
            f"DEMO_API_KEY is already a key of {existing.business_id}: choose "
            f"another secret for {DEMO_BUSINESS_ID}"
        )
    if existing is not None and existing.revoked:
        raise StoreError(
            f"DEMO_API_KEY is the revoked key {existing.key_id} of "
            f"{DEMO_BUSINESS_ID}: choose another secret or unset it"
        )
    if existing is not None:
        return

    try:
        api_key, _ = store.create_api_key(DEMO_BUSINESS_ID, secret)
    except ConflictError:
        return  # another process added it a moment ago
    log.info(
        "demo_key_added",
        f"DEMO_API_KEY now opens the demo business {DEMO_BUSINESS_ID}",
        key_id=api_key.key_id,
    )
