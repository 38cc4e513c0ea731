"""A short per-instance cache over the reads every webhook makes.

Resolving a tenant reads the business by number, by API key or by widget
key on every request. `CachedStore` keeps those answers (misses included)
for `STORE_CACHE_SECONDS` and forgets them all on any tenant write made
through it. Writes made by another instance (an operator revoking a key)
are seen once the entry ages out, so that delay bounds how long a revoked
key keeps working elsewhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from common.store import keys
from common.store.base import (
    ApiKey,
    Business,
    Claim,
    Conversation,
    Delivery,
    DocumentWrite,
    Store,
)

_T = TypeVar("_T")


class CachedStore(Store):
    def __init__(
        self,
        inner: Store,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[tuple[str, str], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _cached(self, kind: str, key: str, load: Callable[[], _T]) -> _T:
        now = self._clock()
        with self._lock:
            entry = self._entries.get((kind, key))
        if entry is not None and entry[0] > now:
            value: _T = entry[1]
            return value
        value = load()
        with self._lock:
            self._entries[(kind, key)] = (now + self.ttl_seconds, value)
        return value

    def forget(self) -> None:
        """Drop every cached answer."""
        with self._lock:
            self._entries.clear()

    # Cached reads.
    def get_business(self, business_id: str) -> Business | None:
        return self._cached(
            "business", business_id, lambda: self.inner.get_business(business_id)
        )

    def business_for_number(self, number: str) -> Business | None:
        return self._cached(
            "number", number, lambda: self.inner.business_for_number(number)
        )

    def business_for_widget_key(self, widget_key: str) -> Business | None:
        return self._cached(
            "widget", widget_key, lambda: self.inner.business_for_widget_key(widget_key)
        )

    def api_key_for_secret(self, secret: str) -> ApiKey | None:
        return self._cached(
            "api_key",
            keys.hash_secret(secret),
            lambda: self.inner.api_key_for_secret(secret),
        )

    # Tenant writes: pass through, then forget.
    def create_business(self, business: Business) -> Business:
        created = self.inner.create_business(business)
        self.forget()
        return created

    def update_business(self, business_id: str, **changes: Any) -> Business:
        try:
            return self.inner.update_business(business_id, **changes)
        finally:
            self.forget()

    def add_number(self, business_id: str, number: str) -> None:
        try:
            self.inner.add_number(business_id, number)
        finally:
            self.forget()

    def remove_number(self, number: str) -> None:
        try:
            self.inner.remove_number(number)
        finally:
            self.forget()

    def create_api_key(
        self, business_id: str, secret: str | None = None
    ) -> tuple[ApiKey, str]:
        try:
            return self.inner.create_api_key(business_id, secret)
        finally:
            self.forget()

    def revoke_api_key(self, key_id: str) -> ApiKey:
        try:
            return self.inner.revoke_api_key(key_id)
        finally:
            self.forget()

    # Everything else goes straight through.
    def list_businesses(self) -> list[Business]:
        return self.inner.list_businesses()

    def business_for_stripe_customer(self, customer_id: str) -> Business | None:
        return self.inner.business_for_stripe_customer(customer_id)

    def numbers_for(self, business_id: str) -> list[str]:
        return self.inner.numbers_for(business_id)

    def list_api_keys(self, business_id: str) -> list[ApiKey]:
        return self.inner.list_api_keys(business_id)

    def get_conversation(
        self, business_id: str, channel: str, party: str
    ) -> Conversation:
        return self.inner.get_conversation(business_id, channel, party)

    def save_conversation(self, conversation: Conversation, max_turns: int) -> None:
        self.inner.save_conversation(conversation, max_turns)

    def put_document(
        self, collection: str, key: str, data: dict[str, Any], ttl_seconds: float | None
    ) -> None:
        self.inner.put_document(collection, key, data, ttl_seconds)

    def get_document(self, collection: str, key: str) -> dict[str, Any] | None:
        return self.inner.get_document(collection, key)

    def delete_document(self, collection: str, key: str) -> None:
        self.inner.delete_document(collection, key)

    def list_documents(self, collection: str) -> dict[str, dict[str, Any]]:
        return self.inner.list_documents(collection)

    def claim(
        self,
        source: str,
        event_id: str,
        ttl_seconds: float,
        lease_seconds: float = 60.0,
    ) -> Claim:
        return self.inner.claim(source, event_id, ttl_seconds, lease_seconds)

    def complete_claim(
        self,
        source: str,
        event_id: str,
        result: dict[str, Any] | None = None,
        documents: Sequence[DocumentWrite] = (),
    ) -> None:
        self.inner.complete_claim(source, event_id, result, documents)

    def claim_done(
        self,
        source: str,
        event_id: str,
        ttl_seconds: float,
        result: dict[str, Any] | None,
        lease_seconds: float = 60.0,
        documents: Sequence[DocumentWrite] = (),
    ) -> Claim:
        return self.inner.claim_done(
            source, event_id, ttl_seconds, result, lease_seconds, documents
        )

    def release_claim(self, source: str, event_id: str) -> None:
        self.inner.release_claim(source, event_id)

    def save_delivery(self, delivery: Delivery) -> None:
        self.inner.save_delivery(delivery)

    def find_deliveries(self, reference: str) -> list[Delivery]:
        return self.inner.find_deliveries(reference)

    def list_deliveries(
        self, source: str | None = None, limit: int = 50
    ) -> list[Delivery]:
        return self.inner.list_deliveries(source, limit)

    def increment(self, key: str, window_seconds: int, amount: int = 1) -> int:
        return self.inner.increment(key, window_seconds, amount)

    def reset_counter(self, key: str) -> None:
        self.inner.reset_counter(key)

    def close(self) -> None:
        self.inner.close()
