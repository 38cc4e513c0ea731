"""One store per process, chosen by STORE, with a short read cache."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from common.settings import Settings
from common.store import Business, StoreError, get_store, open_store, reset_store
from common.store.cache import CachedStore
from common.store.firestore import FirestoreStore
from common.store.sqlite import SqliteStore
from tests.common.store.conftest import FakeClock, emulator_project
from tests.conftest import LogCapture

Configure = Callable[..., tuple[Settings, LogCapture]]


def test_the_same_store_serves_the_whole_process(configure: Configure) -> None:
    configure()

    assert get_store() is get_store()
    reset_store()


def test_a_relative_sqlite_url_creates_its_folder_under_the_working_directory(
    configure: Configure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    configure(STORE="sqlite:///.data/app.db", STORE_CACHE_SECONDS="0")

    store = get_store()

    assert isinstance(store, SqliteStore)
    assert (tmp_path / ".data" / "app.db").exists()
    reset_store()


def test_an_unknown_store_is_refused_naming_the_variable(
    configure: Configure,
) -> None:
    settings, _ = configure(STORE="mysql://db")

    with pytest.raises(StoreError, match="STORE='mysql://db'"):
        open_store(settings)


def test_lookups_are_cached_until_they_age_out(tmp_path: Path) -> None:
    inner = SqliteStore(tmp_path / "app.db")
    clock = FakeClock()
    cached = CachedStore(inner, ttl_seconds=30, clock=clock)
    cached.create_business(Business(business_id="biz-one", name="One"))
    cached.add_number("biz-one", "+15005550006")
    assert cached.business_for_number("+15005550006") is not None

    inner.remove_number("+15005550006")  # another instance's write
    stale = cached.business_for_number("+15005550006")
    clock.advance(31)
    fresh = cached.business_for_number("+15005550006")

    assert stale is not None
    assert fresh is None
    inner.close()


def test_a_revocation_through_the_cache_takes_effect_at_once(tmp_path: Path) -> None:
    cached = CachedStore(SqliteStore(tmp_path / "app.db"), ttl_seconds=30)
    cached.create_business(Business(business_id="biz-one", name="One"))
    api_key, secret = cached.create_api_key("biz-one")
    assert cached.api_key_for_secret(secret) == api_key

    cached.revoke_api_key(api_key.key_id)

    found = cached.api_key_for_secret(secret)
    assert found is not None
    assert found.revoked
    cached.close()


def test_a_process_on_sqlite_never_loads_the_firestore_client(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from common.store import get_store\n"
        "get_store().increment('x', 60)\n"
        "print(sorted(m for m in sys.modules if m.startswith('google.cloud.')))\n"
    )
    env = {**os.environ, "STORE": f"sqlite:///{tmp_path / 'app.db'}"}

    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.emulator
def test_store_firestore_opens_the_emulator_named_by_the_environment(
    configure: Configure, firestore_emulator: str
) -> None:
    configure(
        STORE="firestore",
        FIRESTORE_EMULATOR_HOST=firestore_emulator,
        GOOGLE_CLOUD_PROJECT=emulator_project(),
    )

    store = get_store()
    store.create_business(Business(business_id="biz-one", name="One"))

    assert isinstance(store, CachedStore)
    assert isinstance(store.inner, FirestoreStore)
    assert [b.business_id for b in store.list_businesses()] == ["biz-one"]
    reset_store()
