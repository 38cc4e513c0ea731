"""The store under test, once per backend, on a clock the test moves."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.store import Store
from common.store.sqlite import SqliteStore


class FakeClock:
    """Wall-clock seconds that move only when the test says so."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def emulator_project() -> str:
    """A project of its own per test: the emulator keeps projects apart."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(
    params=["sqlite", pytest.param("firestore", marks=pytest.mark.emulator)]
)
def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Store]:
    backend: Store
    if request.param == "sqlite":
        backend = SqliteStore(tmp_path / "store.db", clock=clock)
    else:
        host_port = request.getfixturevalue("firestore_emulator")
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", host_port)
        from common.store.firestore import FirestoreStore

        backend = FirestoreStore(project=emulator_project(), clock=clock)
    yield backend
    backend.close()
