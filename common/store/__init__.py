"""The tenant store: one interface, SQLite embedded, Firestore in production.

`get_store()` returns the process's store for `STORE`; the Firestore backend
is imported only when named, so functions on SQLite never load it.
"""

from __future__ import annotations

import threading

from common.settings import Settings, get_settings
from common.store.base import (
    SERVICE_STATUSES,
    ApiKey,
    Business,
    Claim,
    ConflictError,
    Conversation,
    Delivery,
    DocumentWrite,
    KnowledgeEntry,
    NotFoundError,
    ServiceStatus,
    Store,
    StoreError,
    Turn,
)
from common.store.cache import CachedStore

__all__ = [
    "SERVICE_STATUSES",
    "ApiKey",
    "Business",
    "Claim",
    "ConflictError",
    "Conversation",
    "Delivery",
    "DocumentWrite",
    "KnowledgeEntry",
    "NotFoundError",
    "ServiceStatus",
    "Store",
    "StoreError",
    "Turn",
    "get_store",
    "open_store",
    "reset_store",
]

_store: Store | None = None
_store_for: tuple[str, float] | None = None
_lock = threading.Lock()


def open_store(settings: Settings) -> Store:
    """A new store for `STORE`, behind the read cache unless it is disabled."""
    url = settings.store
    store: Store
    if url == "firestore":
        from common.store.firestore import FirestoreStore

        store = FirestoreStore.from_settings(settings)
    elif url.startswith("sqlite:"):
        from common.store.sqlite import SqliteStore

        store = SqliteStore.from_url(url)
    else:
        raise StoreError(
            f"STORE={url!r} is not understood: use sqlite:///path/to/file.db "
            "or firestore"
        )
    if settings.store_cache_seconds > 0:
        store = CachedStore(store, settings.store_cache_seconds)
    return store


def get_store() -> Store:
    """The process's store, opened on first use.

    It is reopened when the settings name another store (a test re-booting
    with a fresh `STORE`).
    """
    global _store, _store_for
    settings = get_settings()
    wanted = (settings.store, settings.store_cache_seconds)
    with _lock:
        if _store is None or _store_for != wanted:
            if _store is not None:
                _store.close()
            _store = open_store(settings)
            _store_for = wanted
        return _store


def reset_store() -> None:
    """Close the process's store; the next `get_store()` opens it again."""
    global _store, _store_for
    with _lock:
        if _store is not None:
            _store.close()
        _store = None
        _store_for = None
