"""What only the SQLite backend promises: files, migrations, sweeping."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from common.settings import Settings
from common.store import Business, StoreError
from common.store import sqlite as sqlite_store
from common.store.sqlite import (
    MIGRATIONS,
    SCHEMA_VERSION,
    SqliteStore,
    connect,
    migrate,
    path_from_url,
    schema_version,
)
from tests.common.store.conftest import FakeClock
from tests.conftest import LogCapture


def test_a_relative_url_is_a_path_under_the_working_directory() -> None:
    assert path_from_url("sqlite:///.data/app.db") == Path(".data/app.db")
    assert path_from_url("sqlite:////var/lib/app.db") == Path("/var/lib/app.db")


@pytest.mark.parametrize("url", ["postgres://x", "sqlite:///", "sqlite:///:memory:"])
def test_an_unusable_url_is_refused_with_the_fix(url: str) -> None:
    with pytest.raises(StoreError, match="STORE="):
        path_from_url(url)


def test_opening_creates_the_folder_and_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "app.db"

    store = SqliteStore(path)

    assert schema_version(connect(path)) == SCHEMA_VERSION
    store.close()


def test_an_old_database_is_migrated_forward_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    connection = connect(path)
    migrate(connection, MIGRATIONS[:1])
    connection.execute(
        "INSERT INTO businesses (business_id, data) VALUES (?, ?)",
        ("biz-old", '{"business_id": "biz-old", "name": "Old Shop"}'),
    )
    connection.close()

    store = SqliteStore(path)

    assert schema_version(connect(path)) == SCHEMA_VERSION
    old = store.get_business("biz-old")
    assert old is not None
    assert old.name == "Old Shop"
    assert store.increment("new-table-works", 60) == 1
    store.close()


def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    SqliteStore(path).close()
    connection = connect(path)
    connection.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    connection.close()

    with pytest.raises(StoreError, match="deploy the newer code"):
        SqliteStore(path)


def test_two_instances_on_one_file_race_for_a_claim_and_one_wins(
    tmp_path: Path,
) -> None:
    instances = [SqliteStore(tmp_path / "app.db") for _ in range(4)]
    barrier = threading.Barrier(len(instances))
    outcomes: list[bool] = []

    def claim(store: SqliteStore) -> None:
        barrier.wait()
        outcomes.append(store.claim("stripe", "evt_1", ttl_seconds=60).won)

    threads = [threading.Thread(target=claim, args=(s,)) for s in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [False, False, False, True]
    for store in instances:
        store.close()


def test_expired_rows_are_swept_from_the_file(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SqliteStore(tmp_path / "app.db", clock=clock)
    store.put_document("call_state", "CA1", {"step": 1}, ttl_seconds=10)
    store.claim("twilio", "SM1", ttl_seconds=10)
    store.increment("ip:1.2.3.4", 10)

    clock.advance(3600)
    store.create_business(Business(business_id="biz-one", name="One"))

    raw = sqlite3.connect(tmp_path / "app.db")
    for table in ("documents", "claims", "counters"):
        assert raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,)  # noqa: S608
    raw.close()
    store.close()


def test_the_wal_is_copied_back_into_the_file_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_COMMITS", 20)
    store = SqliteStore(tmp_path / "app.db")
    empty_size = (tmp_path / "app.db").stat().st_size

    for index in range(20):
        store.put_document("replies", f"SM{index}", {"twiml": "x" * 2000}, None)
    assert store.pending_checkpoint is not None
    store.pending_checkpoint.result()

    assert (tmp_path / "app.db").stat().st_size > empty_size + 20 * 2000
    assert store.get_document("replies", "SM19") == {"twiml": "x" * 2000}
    store.close()


def test_a_failed_checkpoint_is_logged_not_raised(
    tmp_path: Path, configure: Callable[..., tuple[Settings, LogCapture]]
) -> None:
    _, logs = configure()

    sqlite_store.checkpoint(tmp_path / "missing" / "app.db")

    assert logs.one("store_checkpoint_failed")["path"].endswith("app.db")


def test_a_checkpoint_never_creates_a_database_that_was_removed(
    tmp_path: Path, configure: Callable[..., tuple[Settings, LogCapture]]
) -> None:
    configure()

    sqlite_store.checkpoint(tmp_path / "app.db")

    assert list(tmp_path.glob("app.db*")) == []
