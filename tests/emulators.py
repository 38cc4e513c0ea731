"""Google Cloud emulators started from `gcloud` for the length of a test run.

When `CI` is set a missing `gcloud` fails the run; elsewhere the tests that
need an emulator are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tools.serve import free_port

START_TIMEOUT_SECONDS = 90


def require_gcloud() -> str:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        reason = "gcloud is not installed, so the emulator cannot start"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run these tests")
        pytest.skip(reason)
    return gcloud


@contextmanager
def running_emulator(
    name: str, log_path: Path, release_track: str | None = None
) -> Iterator[str]:
    """Start `gcloud [TRACK] emulators NAME start` on a free port; yield host:port.

    The Pub/Sub emulator is only in the beta track (`release_track="beta"`).
    """
    gcloud = require_gcloud()
    host_port = f"127.0.0.1:{free_port()}"
    track = [release_track] if release_track else []
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [gcloud, *track, "emulators", name, "start", f"--host-port={host_port}"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_answering(host_port, process, log_path)
            yield host_port
        finally:
            _stop(process)


def _wait_until_answering(
    host_port: str, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited: {log_path.read_text()}")
        try:
            if requests.get(f"http://{host_port}/", timeout=1).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"emulator never answered: {log_path.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """gcloud runs the emulator as a child: stop the whole process group."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        return
