"""The local outbox: what would have left the building, written to files.

In development and tests, outbound SMS, owner notifications and alerts are
appended as JSON lines to `<OUTBOX_DIR>/<channel>.jsonl` instead of reaching
a provider, so a developer can see them and tests can assert on them. Each
process keeps its files open and writes each line with one unbuffered
append, so a line is in the file as soon as `write` returns.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from common.settings import get_settings

_lock = threading.Lock()
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT
# Path to the descriptor this process appends to it with.
_open: dict[Path, int] = {}


def path_for(channel: str) -> Path:
    return _path(get_settings().outbox_dir, channel)


@lru_cache(maxsize=64)
def _path(directory: str, channel: str) -> Path:
    if not channel.replace("_", "").replace("-", "").isalnum():
        raise ValueError(
            f"outbox channel {channel!r} must be letters, digits, '-' or '_'"
        )
    return Path(directory) / f"{channel}.jsonl"


def write(channel: str, record: Mapping[str, Any]) -> None:
    """Append one record (with the time it was written) to the channel."""
    path = path_for(channel)
    line = json.dumps({"at": time.time(), **record}, default=str) + "\n"
    with _lock:
        # One write call per line with O_APPEND: lines from several
        # processes never interleave.
        os.write(_descriptor(path), line.encode())


def _descriptor(path: Path) -> int:
    """The process's open descriptor on `path`, opened on first use.

    Kept open between lines; opened again when the file was deleted
    meanwhile. Opening a file in another directory (the settings changed)
    closes the others.
    """
    descriptor = _open.get(path)
    if descriptor is not None and os.fstat(descriptor).st_nlink > 0:
        return descriptor

    if descriptor is not None:
        os.close(_open.pop(path))
    for other in [other for other in _open if other.parent != path.parent]:
        os.close(_open.pop(other))
    try:
        descriptor = os.open(path, _APPEND, 0o644)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, _APPEND, 0o644)
    _open[path] = descriptor
    return descriptor


def read(channel: str) -> list[dict[str, Any]]:
    """Every record of the channel, oldest first; empty when none was written."""
    path = path_for(channel)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
