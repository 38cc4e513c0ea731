"""The embedded store: one SQLite file, safe across threads and processes.

Each thread gets its own connection to the same file. WAL lets readers
carry on while one writer writes, the busy timeout makes a second writer
wait instead of failing, and every read-modify-write runs in `BEGIN
IMMEDIATE`, which takes the write lock up front: two processes racing to
claim one event serialise there and exactly one wins. Commits do not sync
(`synchronous = NORMAL`); checkpoints, which copy the WAL back into the
file and sync, run on a background thread every few hundred commits.

The schema carries a version; `MIGRATIONS` are applied forward, in order, on
open. Rows past their `expires_at` are ignored on read and swept on write.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from common.logs import get_logger
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

log = get_logger(__name__)

BUSY_TIMEOUT_MS = 10_000
SWEEP_INTERVAL_SECONDS = 300.0
# A checkpoint copies the WAL back into the database file and syncs both:
# on a busy store the sync, not the commit, is what costs. Writers ask a
# background thread for one every so many commits instead of doing it
# themselves; they checkpoint on their own only if the WAL still reaches
# this many pages (about 80 MB).
CHECKPOINT_EVERY_COMMITS = 500
WAL_AUTOCHECKPOINT_PAGES = 20_000

# Version N of the schema is reached by applying MIGRATIONS[N-1]. Append new
# steps; never edit a released one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: tenants.
    (
        """CREATE TABLE businesses (
            business_id TEXT PRIMARY KEY,
            widget_key TEXT UNIQUE,
            stripe_customer_id TEXT UNIQUE,
            data TEXT NOT NULL
        )""",
        """CREATE TABLE numbers (
            number TEXT PRIMARY KEY,
            business_id TEXT NOT NULL REFERENCES businesses(business_id)
        )""",
        "CREATE INDEX numbers_by_business ON numbers(business_id)",
        """CREATE TABLE api_keys (
            key_id TEXT PRIMARY KEY,
            key_hash TEXT NOT NULL UNIQUE,
            business_id TEXT NOT NULL REFERENCES businesses(business_id),
            prefix TEXT NOT NULL,
            created_at REAL NOT NULL,
            revoked_at REAL
        )""",
        "CREATE INDEX api_keys_by_business ON api_keys(business_id)",
    ),
    # 2: what the functions remember between requests.
    (
        """CREATE TABLE conversations (
            business_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            party TEXT NOT NULL,
            data TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (business_id, channel, party)
        )""",
        """CREATE TABLE documents (
            collection TEXT NOT NULL,
            key TEXT NOT NULL,
            data TEXT NOT NULL,
            expires_at REAL,
            PRIMARY KEY (collection, key)
        )""",
        """CREATE TABLE claims (
            source TEXT NOT NULL,
            event_id TEXT NOT NULL,
            state TEXT NOT NULL,
            result TEXT,
            claimed_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (source, event_id)
        )""",
        """CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            request_id TEXT NOT NULL,
            source TEXT NOT NULL,
            event_id TEXT,
            event_type TEXT,
            verdict TEXT NOT NULL,
            received_at REAL NOT NULL,
            body BLOB,
            headers TEXT NOT NULL,
            detail TEXT,
            expires_at REAL NOT NULL
        )""",
        "CREATE INDEX deliveries_by_request ON deliveries(request_id)",
        "CREATE INDEX deliveries_by_event ON deliveries(event_id)",
        "CREATE INDEX deliveries_by_source ON deliveries(source, received_at)",
        """CREATE TABLE counters (
            key TEXT NOT NULL,
            bucket INTEGER NOT NULL,
            count INTEGER NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (key, bucket)
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
_EXPIRING_TABLES = ("documents", "claims", "deliveries", "counters")


def path_from_url(url: str) -> Path:
    """`sqlite:///.data/app.db` is relative to the working directory;
    `sqlite:////var/lib/app.db` is absolute."""
    scheme = "sqlite:///"
    if not url.startswith(scheme) or len(url) == len(scheme):
        raise StoreError(
            f"STORE={url!r} is not a SQLite URL: use sqlite:///relative/path.db, "
            "sqlite:////absolute/path.db or firestore"
        )
    path = url[len(scheme) :]
    if path == ":memory:":
        raise StoreError(
            "STORE=sqlite:///:memory: cannot be shared between threads: "
            "name a file, e.g. sqlite:///.data/app.db"
        )
    return Path(path)


def migrate(
    connection: sqlite3.Connection,
    migrations: tuple[tuple[str, ...], ...] = MIGRATIONS,
) -> int:
    """Bring the schema up to `len(migrations)`; return the version reached."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
        )
        row = connection.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else 0
        if version > len(migrations):
            raise StoreError(
                f"the database is at schema version {version} but this code "
                f"knows only up to {len(migrations)}: deploy the newer code"
            )
        for step in migrations[version:]:
            for statement in step:
                connection.execute(statement)
        if row is None:
            connection.execute(
                "INSERT INTO schema_version (version) VALUES (?)", (len(migrations),)
            )
        else:
            connection.execute(
                "UPDATE schema_version SET version = ?", (len(migrations),)
            )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    if version < len(migrations):
        log.info(
            "store_migrated",
            f"schema version {version} -> {len(migrations)}",
            from_version=version,
            to_version=len(migrations),
        )
    return len(migrations)


def schema_version(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode; transactions are explicit."""
    connection = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    # With WAL, NORMAL syncs at checkpoints only: a crash of the machine can
    # lose the last commits but never corrupts the file.
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def checkpoint(path: Path) -> None:
    """Copy the WAL of `path` back into the database, without blocking anyone.

    Runs on the background checkpoint thread with a connection of its own;
    a failure is logged, and the next checkpoint tries again.
    """
    try:
        # mode=rw: a database deleted meanwhile is not created again.
        connection = sqlite3.connect(
            f"file:{quote(str(path))}?mode=rw",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()
    except sqlite3.Error as exc:
        log.warning(
            "store_checkpoint_failed",
            "the WAL was not copied back; the next checkpoint will retry",
            path=str(path),
            reason=str(exc),
        )


_checkpointer: tuple[int, ThreadPoolExecutor] | None = None
_checkpointer_lock = threading.Lock()


def _checkpoint_thread() -> ThreadPoolExecutor:
    """The process's one checkpoint thread, started on first use (and again
    in a forked child, which does not inherit the thread)."""
    global _checkpointer
    with _checkpointer_lock:
        if _checkpointer is None or _checkpointer[0] != os.getpid():
            executor = ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoint")
            _checkpointer = (os.getpid(), executor)
        return _checkpointer[1]


class SqliteStore(Store):
    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self._clock = clock
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._last_sweep = 0.0
        self._commits = 0
        self.pending_checkpoint: Future[None] | None = None

        self.path.parent.mkdir(parents=True, exist_ok=True)
        migrate(self._connection())
        self._sweep()

    @classmethod
    def from_url(cls, url: str, clock: Callable[[], float] = time.time) -> SqliteStore:
        return cls(path_from_url(url), clock=clock)

    # Connections and transactions.
    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect(self.path)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding the write lock from its first statement.

        Threads of this process queue on a lock of our own first: SQLite's
        busy handler would make them sleep in steps of milliseconds while
        another thread commits, which under load costs more than the write.
        Other processes still wait on SQLite's lock with the busy timeout.
        """
        connection = self._connection()
        with self._write_lock:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY_COMMITS == 0:
            self._request_checkpoint()
        self._maybe_sweep()

    def _request_checkpoint(self) -> None:
        pending = self.pending_checkpoint
        if pending is None or pending.done():
            self.pending_checkpoint = _checkpoint_thread().submit(checkpoint, self.path)

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        cursor = self._connection().execute(sql, params)
        return list(cursor.fetchall())

    def _maybe_sweep(self) -> None:
        if self._clock() - self._last_sweep >= SWEEP_INTERVAL_SECONDS:
            self._sweep()

    def _sweep(self) -> None:
        now = self._clock()
        self._last_sweep = now
        connection = self._connection()
        removed = 0
        for table in _EXPIRING_TABLES:
            cursor = connection.execute(
                f"DELETE FROM {table} WHERE expires_at IS NOT NULL "  # noqa: S608 (fixed names)
                "AND expires_at <= ?",
                (now,),
            )
            removed += max(cursor.rowcount, 0)
        if removed:
            log.info("store_swept", f"removed {removed} expired rows", rows=removed)

    def close(self) -> None:
        """Close every connection, once a checkpoint under way has finished."""
        pending = self.pending_checkpoint
        if pending is not None:
            pending.result()
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    # Businesses.
    def create_business(self, business: Business) -> Business:
        now = self._clock()
        business.created_at = business.created_at or now
        business.updated_at = now
        records.check_business(business)
        with self._write() as connection:
            exists = connection.execute(
                "SELECT 1 FROM businesses WHERE business_id = ?",
                (business.business_id,),
            ).fetchone()
            if exists:
                raise ConflictError(
                    f"business {business.business_id!r} already exists: "
                    "choose another id"
                )
            self._save_business(connection, business, insert=True)
        return business

    def _save_business(
        self, connection: sqlite3.Connection, business: Business, insert: bool
    ) -> None:
        values = (
            business.widget_key,
            business.stripe_customer_id,
            json.dumps(records.business_to_dict(business)),
            business.business_id,
        )
        try:
            if insert:
                connection.execute(
                    "INSERT INTO businesses "
                    "(widget_key, stripe_customer_id, data, business_id) "
                    "VALUES (?, ?, ?, ?)",
                    values,
                )
            else:
                connection.execute(
                    "UPDATE businesses SET widget_key = ?, stripe_customer_id = ?, "
                    "data = ? WHERE business_id = ?",
                    values,
                )
        except sqlite3.IntegrityError as exc:
            raise ConflictError(
                "another business already has this widget key or Stripe "
                f"customer id ({exc})"
            ) from exc

    def get_business(self, business_id: str) -> Business | None:
        return self._business_where("business_id = ?", business_id)

    def _business_where(self, condition: str, value: str) -> Business | None:
        rows = self._read(
            f"SELECT data FROM businesses WHERE {condition}",  # noqa: S608 (fixed)
            (value,),
        )
        return records.business_from_dict(json.loads(rows[0][0])) if rows else None

    def update_business(self, business_id: str, **changes: Any) -> Business:
        with self._write() as connection:
            row = connection.execute(
                "SELECT data FROM businesses WHERE business_id = ?", (business_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"no business {business_id!r}")
            current = records.business_from_dict(json.loads(row[0]))
            updated = records.apply_changes(current, changes, self._clock())
            self._save_business(connection, updated, insert=False)
        return updated

    def list_businesses(self) -> list[Business]:
        rows = self._read("SELECT data FROM businesses ORDER BY business_id")
        return [records.business_from_dict(json.loads(row[0])) for row in rows]

    def business_for_stripe_customer(self, customer_id: str) -> Business | None:
        return self._business_where("stripe_customer_id = ?", customer_id)

    def business_for_widget_key(self, widget_key: str) -> Business | None:
        return self._business_where("widget_key = ?", widget_key)

    # Phone numbers.
    def add_number(self, business_id: str, number: str) -> None:
        keys.check_e164(number)
        with self._write() as connection:
            self._require_business(connection, business_id)
            row = connection.execute(
                "SELECT business_id FROM numbers WHERE number = ?", (number,)
            ).fetchone()
            if row is not None and row[0] != business_id:
                raise ConflictError(
                    f"{number} already belongs to business {row[0]!r}: "
                    "remove it there first"
                )
            connection.execute(
                "INSERT OR IGNORE INTO numbers (number, business_id) VALUES (?, ?)",
                (number, business_id),
            )

    @staticmethod
    def _require_business(connection: sqlite3.Connection, business_id: str) -> None:
        row = connection.execute(
            "SELECT 1 FROM businesses WHERE business_id = ?", (business_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no business {business_id!r}")

    def remove_number(self, number: str) -> None:
        """Unmap a number; raises NotFoundError if it is not mapped."""
        with self._write() as connection:
            cursor = connection.execute(
                "DELETE FROM numbers WHERE number = ?", (number,)
            )
            if cursor.rowcount == 0:
                raise NotFoundError(f"{number} is not mapped to any business")

    def numbers_for(self, business_id: str) -> list[str]:
        rows = self._read(
            "SELECT number FROM numbers WHERE business_id = ? ORDER BY number",
            (business_id,),
        )
        return [row[0] for row in rows]

    def business_for_number(self, number: str) -> Business | None:
        rows = self._read(
            "SELECT b.data FROM numbers n JOIN businesses b "
            "ON b.business_id = n.business_id WHERE n.number = ?",
            (number,),
        )
        return records.business_from_dict(json.loads(rows[0][0])) if rows else None

    # API keys.
    def create_api_key(
        self, business_id: str, secret: str | None = None
    ) -> tuple[ApiKey, str]:
        secret = keys.new_api_secret() if secret is None else keys.check_secret(secret)
        api_key = ApiKey(
            key_id=keys.new_key_id(),
            business_id=business_id,
            prefix=keys.visible_prefix(secret),
            created_at=self._clock(),
        )
        with self._write() as connection:
            self._require_business(connection, business_id)
            try:
                connection.execute(
                    "INSERT INTO api_keys "
                    "(key_id, key_hash, business_id, prefix, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        api_key.key_id,
                        keys.hash_secret(secret),
                        business_id,
                        api_key.prefix,
                        api_key.created_at,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise ConflictError(
                    "this API key is already in use: choose another secret"
                ) from exc
        return api_key, secret

    def api_key_for_secret(self, secret: str) -> ApiKey | None:
        rows = self._read(
            "SELECT key_id, business_id, prefix, created_at, revoked_at "
            "FROM api_keys WHERE key_hash = ?",
            (keys.hash_secret(secret),),
        )
        return ApiKey(*rows[0]) if rows else None

    def revoke_api_key(self, key_id: str) -> ApiKey:
        with self._write() as connection:
            connection.execute(
                "UPDATE api_keys SET revoked_at = ? "
                "WHERE key_id = ? AND revoked_at IS NULL",
                (self._clock(), key_id),
            )
            row = connection.execute(
                "SELECT key_id, business_id, prefix, created_at, revoked_at "
                "FROM api_keys WHERE key_id = ?",
                (key_id,),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no API key {key_id!r}")
        return ApiKey(*row)

    def list_api_keys(self, business_id: str) -> list[ApiKey]:
        rows = self._read(
            "SELECT key_id, business_id, prefix, created_at, revoked_at "
            "FROM api_keys WHERE business_id = ? ORDER BY created_at, key_id",
            (business_id,),
        )
        return [ApiKey(*row) for row in rows]

    # Conversations.
    def get_conversation(
        self, business_id: str, channel: str, party: str
    ) -> Conversation:
        rows = self._read(
            "SELECT data, updated_at FROM conversations "
            "WHERE business_id = ? AND channel = ? AND party = ?",
            (business_id, channel, party),
        )
        if not rows:
            return Conversation(business_id=business_id, channel=channel, party=party)
        data = json.loads(rows[0][0])
        return Conversation(
            business_id=business_id,
            channel=channel,
            party=party,
            turns=records.turns_from_list(data["turns"]),
            state=data["state"],
            updated_at=rows[0][1],
        )

    def save_conversation(self, conversation: Conversation, max_turns: int) -> None:
        conversation.turns = conversation.turns[-max_turns:] if max_turns > 0 else []
        conversation.updated_at = self._clock()
        data = {
            "turns": records.turns_to_list(conversation.turns),
            "state": conversation.state,
        }
        with self._write() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO conversations "
                "(business_id, channel, party, data, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    conversation.business_id,
                    conversation.channel,
                    conversation.party,
                    json.dumps(data),
                    conversation.updated_at,
                ),
            )

    # Documents.
    def put_document(
        self, collection: str, key: str, data: dict[str, Any], ttl_seconds: float | None
    ) -> None:
        with self._write() as connection:
            self._put_documents(
                connection, (DocumentWrite(collection, key, data, ttl_seconds),)
            )

    def _put_documents(
        self, connection: sqlite3.Connection, documents: Sequence[DocumentWrite]
    ) -> None:
        now = self._clock()
        for document in documents:
            ttl = document.ttl_seconds
            connection.execute(
                "INSERT OR REPLACE INTO documents (collection, key, data, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (
                    document.collection,
                    document.key,
                    json.dumps(document.data),
                    None if ttl is None else now + ttl,
                ),
            )

    def get_document(self, collection: str, key: str) -> dict[str, Any] | None:
        rows = self._read(
            "SELECT data FROM documents WHERE collection = ? AND key = ? "
            "AND (expires_at IS NULL OR expires_at > ?)",
            (collection, key, self._clock()),
        )
        return dict(json.loads(rows[0][0])) if rows else None

    def delete_document(self, collection: str, key: str) -> None:
        with self._write() as connection:
            connection.execute(
                "DELETE FROM documents WHERE collection = ? AND key = ?",
                (collection, key),
            )

    def list_documents(self, collection: str) -> dict[str, dict[str, Any]]:
        rows = self._read(
            "SELECT key, data FROM documents WHERE collection = ? "
            "AND (expires_at IS NULL OR expires_at > ?) ORDER BY key",
            (collection, self._clock()),
        )
        return {row[0]: json.loads(row[1]) for row in rows}

    # Idempotency.
    def claim(
        self,
        source: str,
        event_id: str,
        ttl_seconds: float,
        lease_seconds: float = 60.0,
    ) -> Claim:
        with self._write() as connection:
            return self._take_claim(
                connection, source, event_id, ttl_seconds, lease_seconds
            )

    def claim_done(
        self,
        source: str,
        event_id: str,
        ttl_seconds: float,
        result: dict[str, Any] | None,
        lease_seconds: float = 60.0,
        documents: Sequence[DocumentWrite] = (),
    ) -> Claim:
        with self._write() as connection:
            claim = self._take_claim(
                connection, source, event_id, ttl_seconds, lease_seconds, "done", result
            )
            if claim.won:
                self._put_documents(connection, documents)
        return claim

    def _take_claim(
        self,
        connection: sqlite3.Connection,
        source: str,
        event_id: str,
        ttl_seconds: float,
        lease_seconds: float,
        state: ClaimState = "in_progress",
        result: dict[str, Any] | None = None,
    ) -> Claim:
        """Inside a write transaction: the live claim, or a new one in `state`."""
        now = self._clock()
        row = connection.execute(
            "SELECT state, result, claimed_at, expires_at FROM claims "
            "WHERE source = ? AND event_id = ?",
            (source, event_id),
        ).fetchone()
        if row is not None and row[3] > now:
            held, held_result, claimed_at = row[0], row[1], row[2]
            if held == "done":
                return Claim("done", json.loads(held_result) if held_result else None)
            if held == "in_progress" and claimed_at + lease_seconds > now:
                return Claim("in_progress")

        encoded = None if result is None else json.dumps(result)
        connection.execute(
            "INSERT OR REPLACE INTO claims "
            "(source, event_id, state, result, claimed_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (source, event_id, state, encoded, now, now + ttl_seconds),
        )
        return Claim("claimed")

    def complete_claim(
        self,
        source: str,
        event_id: str,
        result: dict[str, Any] | None = None,
        documents: Sequence[DocumentWrite] = (),
    ) -> None:
        self._finish_claim(source, event_id, "done", result, documents)

    def release_claim(self, source: str, event_id: str) -> None:
        self._finish_claim(source, event_id, "failed", None)

    def _finish_claim(
        self,
        source: str,
        event_id: str,
        state: str,
        result: dict[str, Any] | None,
        documents: Sequence[DocumentWrite] = (),
    ) -> None:
        encoded = None if result is None else json.dumps(result)
        with self._write() as connection:
            connection.execute(
                "UPDATE claims SET state = ?, result = ? "
                "WHERE source = ? AND event_id = ?",
                (state, encoded, source, event_id),
            )
            self._put_documents(connection, documents)

    # Webhook inbox.
    def save_delivery(self, delivery: Delivery) -> None:
        with self._write() as connection:
            connection.execute(
                "INSERT INTO deliveries (request_id, source, event_id, event_type, "
                "verdict, received_at, body, headers, detail, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    delivery.request_id,
                    delivery.source,
                    delivery.event_id,
                    delivery.event_type,
                    delivery.verdict,
                    delivery.received_at,
                    delivery.body,
                    json.dumps(delivery.headers),
                    delivery.detail,
                    delivery.received_at + records.DELIVERY_RETENTION_SECONDS,
                ),
            )

    _DELIVERY_COLUMNS = (
        "request_id, source, event_id, event_type, verdict, received_at, body, "
        "headers, detail"
    )

    @staticmethod
    def _delivery(row: sqlite3.Row | tuple[Any, ...]) -> Delivery:
        values = list(row)
        values[7] = json.loads(values[7])
        return Delivery(*values)

    def find_deliveries(self, reference: str) -> list[Delivery]:
        rows = self._read(
            f"SELECT {self._DELIVERY_COLUMNS} FROM deliveries "  # noqa: S608 (fixed)
            "WHERE (request_id = ? OR event_id = ?) AND expires_at > ? "
            "ORDER BY received_at DESC, id DESC",
            (reference, reference, self._clock()),
        )
        return [self._delivery(row) for row in rows]

    def list_deliveries(
        self, source: str | None = None, limit: int = 50
    ) -> list[Delivery]:
        rows = self._read(
            f"SELECT {self._DELIVERY_COLUMNS} FROM deliveries "  # noqa: S608 (fixed)
            "WHERE (? IS NULL OR source = ?) AND expires_at > ? "
            "ORDER BY received_at DESC, id DESC LIMIT ?",
            (source, source, self._clock(), limit),
        )
        return [self._delivery(row) for row in rows]

    # Counters.
    def increment(self, key: str, window_seconds: int, amount: int = 1) -> int:
        """Add to `key` and return its rolling count over `window_seconds`.

        The count is the sliding-window estimate of `records.rolling_count`.
        """
        now = self._clock()
        bucket = records.counter_bucket(now, window_seconds)
        with self._write() as connection:
            connection.execute(
                "INSERT INTO counters (key, bucket, count, expires_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (key, bucket) "
                "DO UPDATE SET count = count + excluded.count",
                (key, bucket, amount, (bucket + 2) * window_seconds),
            )
            rows = connection.execute(
                "SELECT bucket, count FROM counters WHERE key = ? AND bucket IN (?, ?)",
                (key, bucket, bucket - 1),
            ).fetchall()
        counts = {row[0]: row[1] for row in rows}
        return records.rolling_count(
            counts.get(bucket, 0), counts.get(bucket - 1, 0), now, window_seconds
        )

    def reset_counter(self, key: str) -> None:
        with self._write() as connection:
            connection.execute("DELETE FROM counters WHERE key = ?", (key,))
