"""The production store on Firestore (`STORE=firestore`).

Imported only when `STORE=firestore`, so functions on SQLite never load
`google.cloud`. The project comes from `GOOGLE_CLOUD_PROJECT` (or the
runtime's own); `FIRESTORE_EMULATOR_HOST` points the client at an emulator.

Layout, one collection per record kind:

| collection | document id | notes |
| --- | --- | --- |
| `businesses` | business id | `data` holds the record as JSON |
| `numbers` | E.164 number | `business_id` |
| `api_keys` | SHA-256 of the secret | prefix, owner, revocation |
| `conversations` | business:channel:party | turns and state as JSON |
| `documents` | collection:key | `expires_at` |
| `claims` | source:event id | `expires_at`, updated in transactions |
| `deliveries` | automatic | `expires_at`; see below |
| `counters` | key:bucket | `expires_at`, counted with server-side increments |

Listing deliveries of one source needs the composite index (`source`,
`received_at` descending). Payloads are kept as JSON text because Firestore
arrays cannot hold arrays (opening hours are lists of spans). Every
collection in `TTL_COLLECTIONS` carries a Timestamp `expires_at` for
Firestore's TTL policy; reads ignore what has expired but not yet been
deleted.

A claim is won by creating its document, which succeeds for exactly one
caller; an existing claim (finished, released or stale) is decided in a
transaction. A counter is added to with Firestore's
atomic increment, whose result comes back in the same write, so concurrent
increments never contend or retry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from google.api_core import exceptions as google_errors
from google.cloud import firestore

from common.settings import Settings
from common.store import keys, records
from common.store.base import (
    ApiKey,
    Business,
    Claim,
    ClaimState,
    ConflictError,
    Conversation,
    Delivery,
    DocumentWrite,
    NotFoundError,
    Store,
    StoreError,
)

_T = TypeVar("_T")

TTL_FIELD = "expires_at"
TTL_COLLECTIONS = ("documents", "claims", "deliveries", "counters")
# Contended transactions (many instances claiming one event) are retried.
TRANSACTION_ATTEMPTS = 20


def document_id(*parts: str) -> str:
    """One Firestore-safe id from several parts (slashes and colons escaped)."""
    return ":".join(quote(part, safe="+-_.@") for part in parts)


def _timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _fields(snapshot: Any) -> dict[str, Any]:
    """A snapshot's fields; empty for a document that does not exist."""
    data: dict[str, Any] | None = snapshot.to_dict()
    return data or {}


class FirestoreStore(Store):
    def __init__(
        self,
        project: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = firestore.Client(project=project)
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> FirestoreStore:
        return cls(project=settings.google_cloud_project)

    def close(self) -> None:
        # The library leaves `close` untyped.
        self._db.close()  # type: ignore[no-untyped-call]

    def _in_transaction(self, work: Callable[[Any], _T]) -> _T:
        """Run `work(transaction)`, retried by the library while contended."""
        transaction = self._db.transaction(max_attempts=TRANSACTION_ATTEMPTS)
        try:
            result: _T = firestore.transactional(work)(transaction)
        except ValueError as exc:
            if "Failed to commit transaction" not in str(exc):
                raise
            raise StoreError(
                f"Firestore transaction still contended after "
                f"{TRANSACTION_ATTEMPTS} attempts: retry the request"
            ) from exc
        return result

    def _now(self) -> tuple[float, datetime]:
        now = self._clock()
        return now, _timestamp(now)

    def _live(self, data: dict[str, Any] | None, now: datetime) -> bool:
        if data is None:
            return False
        expires_at = data.get(TTL_FIELD)
        return expires_at is None or expires_at > now

    # Businesses.
    def _business_ref(self, business_id: str) -> Any:
        return self._db.collection("businesses").document(business_id)

    @staticmethod
    def _business_fields(business: Business) -> dict[str, Any]:
        return {
            "business_id": business.business_id,
            "name": business.name,
            "status": business.status,
            "widget_key": business.widget_key,
            "stripe_customer_id": business.stripe_customer_id,
            "data": json.dumps(records.business_to_dict(business)),
        }

    @staticmethod
    def _business(snapshot: Any) -> Business | None:
        if not snapshot.exists:
            return None
        return records.business_from_dict(json.loads(snapshot.get("data")))

    def _check_unique(
        self, transaction: Any, business: Business, field: str, value: str | None
    ) -> None:
        if value is None:
            return
        query = self._db.collection("businesses").where(
            filter=firestore.FieldFilter(field, "==", value)
        )
        for snapshot in transaction.get(query):
            if snapshot.id != business.business_id:
                raise ConflictError(
                    f"business {snapshot.id!r} already has this {field}; "
                    "each business needs its own"
                )

    def create_business(self, business: Business) -> Business:
        now = self._clock()
        business.created_at = business.created_at or now
        business.updated_at = now
        records.check_business(business)
        ref = self._business_ref(business.business_id)

        def create(transaction: Any) -> None:
            if ref.get(transaction=transaction).exists:
                raise ConflictError(
                    f"business {business.business_id!r} already exists: "
                    "choose another id"
                )
            self._check_unique(transaction, business, "widget_key", business.widget_key)
            self._check_unique(
                transaction,
                business,
                "stripe_customer_id",
                business.stripe_customer_id,
            )
            transaction.set(ref, self._business_fields(business))

        self._in_transaction(create)
        return business

    def get_business(self, business_id: str) -> Business | None:
        return self._business(self._business_ref(business_id).get())

    def update_business(self, business_id: str, **changes: Any) -> Business:
        ref = self._business_ref(business_id)

        def update(transaction: Any) -> Business:
            current = self._business(ref.get(transaction=transaction))
            if current is None:
                raise NotFoundError(f"no business {business_id!r}")
            updated = records.apply_changes(current, changes, self._clock())
            self._check_unique(transaction, updated, "widget_key", updated.widget_key)
            self._check_unique(
                transaction, updated, "stripe_customer_id", updated.stripe_customer_id
            )
            transaction.set(ref, self._business_fields(updated))
            return updated

        return self._in_transaction(update)

    def list_businesses(self) -> list[Business]:
        snapshots = self._db.collection("businesses").stream()
        found = [self._business(snapshot) for snapshot in snapshots]
        return sorted(
            (business for business in found if business is not None),
            key=lambda business: business.business_id,
        )

    def _business_by(self, field: str, value: str) -> Business | None:
        query = (
            self._db.collection("businesses")
            .where(filter=firestore.FieldFilter(field, "==", value))
            .limit(1)
        )
        for snapshot in query.stream():
            return self._business(snapshot)
        return None

    def business_for_stripe_customer(self, customer_id: str) -> Business | None:
        return self._business_by("stripe_customer_id", customer_id)

    def business_for_widget_key(self, widget_key: str) -> Business | None:
        return self._business_by("widget_key", widget_key)

    # Phone numbers.
    def add_number(self, business_id: str, number: str) -> None:
        keys.check_e164(number)
        number_ref = self._db.collection("numbers").document(number)
        business_ref = self._business_ref(business_id)

        def add(transaction: Any) -> None:
            if not business_ref.get(transaction=transaction).exists:
                raise NotFoundError(f"no business {business_id!r}")
            existing = number_ref.get(transaction=transaction)
            if existing.exists:
                owner = existing.get("business_id")
                if owner != business_id:
                    raise ConflictError(
                        f"{number} already belongs to business {owner!r}: "
                        "remove it there first"
                    )
                return
            transaction.set(number_ref, {"business_id": business_id, "number": number})

        self._in_transaction(add)

    def remove_number(self, number: str) -> None:
        """Unmap a number; raises NotFoundError if it is not mapped."""
        ref = self._db.collection("numbers").document(number)

        def remove(transaction: Any) -> None:
            if not ref.get(transaction=transaction).exists:
                raise NotFoundError(f"{number} is not mapped to any business")
            transaction.delete(ref)

        self._in_transaction(remove)

    def numbers_for(self, business_id: str) -> list[str]:
        query = self._db.collection("numbers").where(
            filter=firestore.FieldFilter("business_id", "==", business_id)
        )
        return sorted(snapshot.id for snapshot in query.stream())

    def business_for_number(self, number: str) -> Business | None:
        mapping = self._db.collection("numbers").document(number).get()
        if not mapping.exists:
            return None
        return self.get_business(mapping.get("business_id"))

    # API keys.
    @staticmethod
    def _api_key(data: dict[str, Any]) -> ApiKey:
        return ApiKey(
            key_id=data["key_id"],
            business_id=data["business_id"],
            prefix=data["prefix"],
            created_at=data["created_at"],
            revoked_at=data.get("revoked_at"),
        )

    def create_api_key(
        self, business_id: str, secret: str | None = None
    ) -> tuple[ApiKey, str]:
        secret = keys.new_api_secret() if secret is None else keys.check_secret(secret)
        if not self._business_ref(business_id).get().exists:
            raise NotFoundError(f"no business {business_id!r}")
        api_key = ApiKey(
            key_id=keys.new_key_id(),
            business_id=business_id,
            prefix=keys.visible_prefix(secret),
            created_at=self._clock(),
        )
        ref = self._db.collection("api_keys").document(keys.hash_secret(secret))
        try:
            ref.create(
                {
                    "key_id": api_key.key_id,
                    "business_id": business_id,
                    "prefix": api_key.prefix,
                    "created_at": api_key.created_at,
                    "revoked_at": None,
                }
            )
        except google_errors.AlreadyExists as exc:
            raise ConflictError(
                "this API key is already in use: choose another secret"
            ) from exc
        return api_key, secret

    def api_key_for_secret(self, secret: str) -> ApiKey | None:
        snapshot = self._db.collection("api_keys").document(keys.hash_secret(secret))
        found = snapshot.get()
        return self._api_key(_fields(found)) if found.exists else None

    def revoke_api_key(self, key_id: str) -> ApiKey:
        query = self._db.collection("api_keys").where(
            filter=firestore.FieldFilter("key_id", "==", key_id)
        )
        for snapshot in query.stream():
            data = _fields(snapshot)
            if data.get("revoked_at") is None:
                data["revoked_at"] = self._clock()
                snapshot.reference.update({"revoked_at": data["revoked_at"]})
            return self._api_key(data)
        raise NotFoundError(f"no API key {key_id!r}")

    def list_api_keys(self, business_id: str) -> list[ApiKey]:
        query = self._db.collection("api_keys").where(
            filter=firestore.FieldFilter("business_id", "==", business_id)
        )
        found = [self._api_key(_fields(snapshot)) for snapshot in query.stream()]
        return sorted(found, key=lambda key: (key.created_at, key.key_id))

    # Conversations.
    def _conversation_ref(self, business_id: str, channel: str, party: str) -> Any:
        return self._db.collection("conversations").document(
            document_id(business_id, channel, party)
        )

    def get_conversation(
        self, business_id: str, channel: str, party: str
    ) -> Conversation:
        snapshot = self._conversation_ref(business_id, channel, party).get()
        conversation = Conversation(
            business_id=business_id, channel=channel, party=party
        )
        if snapshot.exists:
            data = json.loads(snapshot.get("data"))
            conversation.turns = records.turns_from_list(data["turns"])
            conversation.state = data["state"]
            conversation.updated_at = snapshot.get("updated_at")
        return conversation

    def save_conversation(self, conversation: Conversation, max_turns: int) -> None:
        conversation.turns = conversation.turns[-max_turns:] if max_turns > 0 else []
        conversation.updated_at = self._clock()
        data = {
            "turns": records.turns_to_list(conversation.turns),
            "state": conversation.state,
        }
        ref = self._conversation_ref(
            conversation.business_id, conversation.channel, conversation.party
        )
        ref.set(
            {
                "business_id": conversation.business_id,
                "channel": conversation.channel,
                "party": conversation.party,
                "data": json.dumps(data),
                "updated_at": conversation.updated_at,
            }
        )

    # Documents.
    def _document_ref(self, collection: str, key: str) -> Any:
        return self._db.collection("documents").document(document_id(collection, key))

    def put_document(
        self, collection: str, key: str, data: dict[str, Any], ttl_seconds: float | None
    ) -> None:
        document = DocumentWrite(collection, key, data, ttl_seconds)
        self._document_ref(collection, key).set(self._document_fields(document))

    def _document_fields(self, document: DocumentWrite) -> dict[str, Any]:
        ttl = document.ttl_seconds
        return {
            "collection": document.collection,
            "key": document.key,
            "data": json.dumps(document.data),
            TTL_FIELD: None if ttl is None else _timestamp(self._clock() + ttl),
        }

    def _put_documents(self, writer: Any, documents: Sequence[DocumentWrite]) -> None:
        """Add the documents to a batch or a transaction."""
        for document in documents:
            ref = self._document_ref(document.collection, document.key)
            writer.set(ref, self._document_fields(document))

    def get_document(self, collection: str, key: str) -> dict[str, Any] | None:
        snapshot = self._document_ref(collection, key).get()
        data = _fields(snapshot) if snapshot.exists else None
        if data is None or not self._live(data, self._now()[1]):
            return None
        return dict(json.loads(data["data"]))

    def delete_document(self, collection: str, key: str) -> None:
        self._document_ref(collection, key).delete()

    def list_documents(self, collection: str) -> dict[str, dict[str, Any]]:
        now = self._now()[1]
        query = self._db.collection("documents").where(
            filter=firestore.FieldFilter("collection", "==", collection)
        )
        found = {}
        for snapshot in query.stream():
            data = _fields(snapshot)
            if self._live(data, now):
                found[data["key"]] = json.loads(data["data"])
        return dict(sorted(found.items()))

    # Idempotency.
    def _claim_ref(self, source: str, event_id: str) -> Any:
        return self._db.collection("claims").document(document_id(source, event_id))

    def claim(
        self,
        source: str,
        event_id: str,
        ttl_seconds: float,
        lease_seconds: float = 60.0,
    ) -> Claim:
        return self._take_claim(source, event_id, ttl_seconds, lease_seconds)

    def claim_done(
        self,
        source: str,
        event_id: str,
        ttl_seconds: float,
        result: dict[str, Any] | None,
        lease_seconds: float = 60.0,
        documents: Sequence[DocumentWrite] = (),
    ) -> Claim:
        return self._take_claim(
            source, event_id, ttl_seconds, lease_seconds, "done", result, documents
        )

    def _take_claim(
        self,
        source: str,
        event_id: str,
        ttl_seconds: float,
        lease_seconds: float,
        state: ClaimState = "in_progress",
        result: dict[str, Any] | None = None,
        documents: Sequence[DocumentWrite] = (),
    ) -> Claim:
        ref = self._claim_ref(source, event_id)
        now, now_at = self._now()
        fresh = {
            "source": source,
            "event_id": event_id,
            "state": state,
            "result": None if result is None else json.dumps(result),
            "claimed_at": now,
            TTL_FIELD: _timestamp(now + ttl_seconds),
        }

        # The common case, a first delivery, needs no transaction: creating
        # the document succeeds for exactly one caller, and a batch writes
        # the documents with it or not at all.
        batch = self._db.batch()
        batch.create(ref, fresh)
        self._put_documents(batch, documents)
        try:
            batch.commit()
            return Claim("claimed")
        except google_errors.AlreadyExists:
            pass

        def attempt(transaction: Any) -> Claim:
            snapshot = ref.get(transaction=transaction)
            data = _fields(snapshot) if snapshot.exists else None
            if data is not None and self._live(data, now_at):
                if data["state"] == "done":
                    held = data.get("result")
                    return Claim("done", json.loads(held) if held else None)
                live_lease = data["claimed_at"] + lease_seconds > now
                if data["state"] == "in_progress" and live_lease:
                    return Claim("in_progress")
            transaction.set(ref, fresh)
            self._put_documents(transaction, documents)
            return Claim("claimed")

        return self._in_transaction(attempt)

    def complete_claim(
        self,
        source: str,
        event_id: str,
        result: dict[str, Any] | None = None,
        documents: Sequence[DocumentWrite] = (),
    ) -> None:
        encoded = None if result is None else json.dumps(result)
        fields = {"state": "done", "result": encoded}
        batch = self._db.batch()
        batch.update(self._claim_ref(source, event_id), fields)
        self._put_documents(batch, documents)
        try:
            batch.commit()
        except google_errors.NotFound:
            # The claim expired and was deleted: only the documents are left
            # to write.
            if documents:
                batch = self._db.batch()
                self._put_documents(batch, documents)
                batch.commit()

    def release_claim(self, source: str, event_id: str) -> None:
        self._finish_claim(source, event_id, {"state": "failed", "result": None})

    def _finish_claim(self, source: str, event_id: str, fields: dict[str, Any]) -> None:
        try:
            self._claim_ref(source, event_id).update(fields)
        except google_errors.NotFound:
            # The claim expired and was deleted; nothing is left to mark.
            return

    # Webhook inbox.
    def save_delivery(self, delivery: Delivery) -> None:
        data = records.delivery_to_dict(delivery)
        data[TTL_FIELD] = _timestamp(
            delivery.received_at + records.DELIVERY_RETENTION_SECONDS
        )
        self._db.collection("deliveries").add(data)

    def _deliveries(self, query: Any) -> list[Delivery]:
        now = self._now()[1]
        found = [_fields(snapshot) for snapshot in query.stream()]
        return [
            records.delivery_from_dict(
                {name: value for name, value in data.items() if name != TTL_FIELD}
            )
            for data in found
            if self._live(data, now)
        ]

    def find_deliveries(self, reference: str) -> list[Delivery]:
        found: list[Delivery] = []
        for field in ("request_id", "event_id"):
            query = self._db.collection("deliveries").where(
                filter=firestore.FieldFilter(field, "==", reference)
            )
            # One delivery may match on both fields; it is listed once.
            found += [d for d in self._deliveries(query) if d not in found]
        return sorted(found, key=lambda delivery: delivery.received_at, reverse=True)

    def list_deliveries(
        self, source: str | None = None, limit: int = 50
    ) -> list[Delivery]:
        query: Any = self._db.collection("deliveries")
        if source is not None:
            query = query.where(filter=firestore.FieldFilter("source", "==", source))
        query = query.order_by(
            "received_at", direction=firestore.Query.DESCENDING
        ).limit(limit)
        return self._deliveries(query)

    # Counters.
    def _counter_ref(self, key: str, bucket: int) -> Any:
        return self._db.collection("counters").document(document_id(key, str(bucket)))

    def increment(self, key: str, window_seconds: int, amount: int = 1) -> int:
        """Add to `key` and return its rolling count over `window_seconds`.

        The count is the sliding-window estimate of `records.rolling_count`.
        """
        now = self._clock()
        bucket = records.counter_bucket(now, window_seconds)
        write = self._counter_ref(key, bucket).set(
            {
                "key": key,
                "bucket": bucket,
                "count": firestore.Increment(amount),
                TTL_FIELD: _timestamp((bucket + 2) * window_seconds),
            },
            merge=True,
        )
        current = int(write.transform_results[0].integer_value)

        previous_snapshot = self._counter_ref(key, bucket - 1).get()
        previous = 0
        if previous_snapshot.exists:
            previous = int(previous_snapshot.get("count"))
        return records.rolling_count(current, previous, now, window_seconds)

    def reset_counter(self, key: str) -> None:
        query = self._db.collection("counters").where(
            filter=firestore.FieldFilter("key", "==", key)
        )
        for snapshot in query.stream():
            snapshot.reference.delete()
