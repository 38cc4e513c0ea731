"""The tenant store: one interface, SQLite embedded, Firestore in production.

`get_store()` returns the process's store for `STORE`; the Firestore backend
is imported only when named, so functions on SQLite never load it.
"""

from __future__ import annotations

from common.store.base import (
    SERVICE_STATUSES,
    ApiKey,
    Business,
    Claim,
    ConflictError,
    Conversation,
    Delivery,
    KnowledgeEntry,
    NotFoundError,
    ServiceStatus,
    Store,
    StoreError,
    Turn,
)

__all__ = [
    "SERVICE_STATUSES",
    "ApiKey",
    "Business",
    "Claim",
    "ConflictError",
    "Conversation",
    "Delivery",
    "KnowledgeEntry",
    "NotFoundError",
    "ServiceStatus",
    "Store",
    "StoreError",
    "Turn",
]
