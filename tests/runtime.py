"""The local runtime under test: in-process client and a real process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.test import Client

from tools.serve import ROOT, build_app, free_port, load_functions, local_runtime

__all__ = ["ROOT", "free_port", "local_client", "running_server"]


def local_client() -> Client:
    """Every HTTP function behind one WSGI app, as `make run` serves them."""
    return Client(build_app(load_functions()))


@contextmanager
def running_server(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """The local runtime as a real process, with this environment on top of
    the test's own; yields its base URL."""
    with local_runtime({**os.environ, **env}, log_path) as base_url:
        yield base_url
