"""The tenant store's records and the one interface both backends implement.

SQLite (`STORE=sqlite:///path`) is the embedded default; Firestore
(`STORE=firestore`) serves production. Everything that expires carries an
`expires_at`, which Firestore's TTL policies use and SQLite sweeps.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ServiceStatus = Literal["trialing", "active", "past_due", "suspended"]
SERVICE_STATUSES: tuple[ServiceStatus, ...] = (
    "trialing",
    "active",
    "past_due",
    "suspended",
)
ClaimState = Literal["claimed", "in_progress", "done", "failed"]
# Keys of `Business.opening_hours`, in calendar order.
WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


class StoreError(Exception):
    """The store could not do what was asked; the message says why."""


class NotFoundError(StoreError):
    """The named record does not exist."""


class ConflictError(StoreError):
    """The record already exists or belongs to someone else."""


@dataclass
class KnowledgeEntry:
    """One thing the business wants its receptionist to know.

    A question/answer pair (`question` set) or free text (`question` None).
    """

    answer: str
    question: str | None = None
    topic: str | None = None


@dataclass
class Business:
    business_id: str
    name: str
    status: ServiceStatus = "trialing"
    plan: str = "starter"
    time_zone: str = "UTC"
    # Weekday name in lower case ("monday") to a list of ["09:00", "17:00"] spans.
    opening_hours: dict[str, list[list[str]]] = field(default_factory=dict)
    greeting: str | None = None
    address: str | None = None
    help_text: str | None = None
    knowledge: list[KnowledgeEntry] = field(default_factory=list)
    transfer_number: str | None = None
    # Where owner notifications go: E.164 numbers for SMS.
    owner_contacts: list[str] = field(default_factory=list)
    widget_key: str | None = None
    allowed_origins: list[str] = field(default_factory=list)
    stripe_customer_id: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class ApiKey:
    """A server-to-server key; only its hash is stored, its prefix is shown."""

    key_id: str
    business_id: str
    prefix: str
    created_at: float
    revoked_at: float | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass
class Turn:
    role: Literal["customer", "assistant"]
    text: str
    at: float


@dataclass
class Conversation:
    """What was said with one party on one channel of one business."""

    business_id: str
    channel: str
    party: str
    turns: list[Turn] = field(default_factory=list)
    # Free-form per-conversation facts: opted out, notice sent, loop counters.
    state: dict[str, Any] = field(default_factory=dict)
    updated_at: float = 0.0


@dataclass
class Claim:
    """The result of claiming `(source, id)` for processing."""

    state: ClaimState
    result: dict[str, Any] | None = None

    @property
    def won(self) -> bool:
        """True only for the one caller that must now do the work."""
        return self.state == "claimed"


@dataclass(frozen=True)
class DocumentWrite:
    """A document put in the same transaction as a claim's completion."""

    collection: str
    key: str
    data: dict[str, Any]
    ttl_seconds: float | None


@dataclass
class Delivery:
    """A webhook delivery as received, kept for audit and replay."""

    request_id: str
    source: str
    event_id: str | None
    event_type: str | None
    verdict: str
    received_at: float
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    detail: str | None = None


class Store(abc.ABC):
    """Everything the functions remember, behind one interface."""

    # Businesses.
    @abc.abstractmethod
    def create_business(self, business: Business) -> Business: ...

    @abc.abstractmethod
    def get_business(self, business_id: str) -> Business | None: ...

    @abc.abstractmethod
    def update_business(self, business_id: str, **changes: Any) -> Business:
        """Change the named fields; raises NotFoundError."""

    @abc.abstractmethod
    def list_businesses(self) -> list[Business]: ...

    @abc.abstractmethod
    def business_for_stripe_customer(self, customer_id: str) -> Business | None: ...

    @abc.abstractmethod
    def business_for_widget_key(self, widget_key: str) -> Business | None: ...

    # Phone numbers.
    @abc.abstractmethod
    def add_number(self, business_id: str, number: str) -> None:
        """Map an E.164 number; raises ConflictError if another business has it."""

    @abc.abstractmethod
    def remove_number(self, number: str) -> None: ...

    @abc.abstractmethod
    def numbers_for(self, business_id: str) -> list[str]: ...

    @abc.abstractmethod
    def business_for_number(self, number: str) -> Business | None: ...

    # API keys.
    @abc.abstractmethod
    def create_api_key(
        self, business_id: str, secret: str | None = None
    ) -> tuple[ApiKey, str]:
        """Create a key; returns it and the secret, which is never stored."""

    @abc.abstractmethod
    def api_key_for_secret(self, secret: str) -> ApiKey | None:
        """The key this secret belongs to (revoked or not), by its hash."""

    @abc.abstractmethod
    def revoke_api_key(self, key_id: str) -> ApiKey: ...

    @abc.abstractmethod
    def list_api_keys(self, business_id: str) -> list[ApiKey]: ...

    # Conversations.
    @abc.abstractmethod
    def get_conversation(
        self, business_id: str, channel: str, party: str
    ) -> Conversation: ...

    @abc.abstractmethod
    def save_conversation(self, conversation: Conversation, max_turns: int) -> None:
        """Store it, keeping only the last `max_turns` turns."""

    # Small documents with an expiry (call turn state, reply caches, silences).
    @abc.abstractmethod
    def put_document(
        self, collection: str, key: str, data: dict[str, Any], ttl_seconds: float | None
    ) -> None: ...

    @abc.abstractmethod
    def get_document(self, collection: str, key: str) -> dict[str, Any] | None: ...

    @abc.abstractmethod
    def delete_document(self, collection: str, key: str) -> None: ...

    @abc.abstractmethod
    def list_documents(self, collection: str) -> dict[str, dict[str, Any]]: ...

    # Idempotency.
    @abc.abstractmethod
    def claim(
        self,
        source: str,
        event_id: str,
        ttl_seconds: float,
        lease_seconds: float = 60.0,
    ) -> Claim:
        """Claim `(source, event_id)`: exactly one concurrent caller gets `claimed`.

        Others see `in_progress` (someone holds a live claim) or `done` (with
        the stored result). A released claim, or one held past
        `lease_seconds` without completion (its holder died), can be claimed
        again. Records expire after `ttl_seconds`.
        """

    @abc.abstractmethod
    def complete_claim(
        self,
        source: str,
        event_id: str,
        result: dict[str, Any] | None = None,
        documents: Sequence[DocumentWrite] = (),
    ) -> None:
        """Mark the claim done with `result`; `documents` are put in the same
        transaction (and put even when the claim has expired meanwhile)."""

    @abc.abstractmethod
    def claim_done(
        self,
        source: str,
        event_id: str,
        ttl_seconds: float,
        result: dict[str, Any] | None,
        lease_seconds: float = 60.0,
        documents: Sequence[DocumentWrite] = (),
    ) -> Claim:
        """Claim `(source, event_id)` and complete it at once, in one transaction.

        For work whose outcome is known before it is done (it cannot fail in
        a way a retry would mend): the winner gets `claimed`, its `result`
        and `documents` are already recorded, and it does the work with no
        second round trip. Everyone else sees what `claim` would tell them.
        """

    @abc.abstractmethod
    def release_claim(self, source: str, event_id: str) -> None:
        """Give a claim up after a failure so that a retry can claim it."""

    # Webhook inbox.
    @abc.abstractmethod
    def save_delivery(self, delivery: Delivery) -> None: ...

    @abc.abstractmethod
    def find_deliveries(self, reference: str) -> list[Delivery]:
        """Every delivery whose request id or event id is `reference`, newest
        first. Several share a request id when a caller reused its
        `X-Request-ID` or trace, and an event id when Stripe retried."""

    def find_delivery(self, reference: str) -> Delivery | None:
        """The latest delivery whose request id or event id is `reference`."""
        found = self.find_deliveries(reference)
        return found[0] if found else None

    @abc.abstractmethod
    def list_deliveries(
        self, source: str | None = None, limit: int = 50
    ) -> list[Delivery]: ...

    # Counters in time windows.
    @abc.abstractmethod
    def increment(self, key: str, window_seconds: int, amount: int = 1) -> int:
        """Atomically add to the count of `key` in its current window; return it."""

    @abc.abstractmethod
    def reset_counter(self, key: str) -> None: ...

    def close(self) -> None:  # noqa: B027 (optional for backends without resources)
        """Release connections."""
