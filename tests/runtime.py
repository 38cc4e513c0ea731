"""The local runtime under test: in-process client and a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from werkzeug.test import Client

from tools.serve import build_app, load_functions

ROOT = Path(__file__).resolve().parent.parent


def local_client() -> Client:
    """Every HTTP function behind one WSGI app, as `make run` serves them."""
    return Client(build_app(load_functions()))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Start `python -m tools.serve` on a free port; yield its base URL."""
    port = free_port()
    full_env = {**os.environ, **env, "PORT": str(port)}
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.serve", "--port", str(port)],
            cwd=ROOT,
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base_url, process, log_path)
            yield base_url
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_healthy(
    base_url: str, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local runtime exited: {log_path.read_text()}")
        try:
            if requests.get(base_url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"local runtime never became healthy: {log_path.read_text()}")
