"""Start a function the way Cloud Functions does and watch it come up."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Probe:
    """The request that must answer 2xx to count the function as up."""

    method: str = "GET"
    path: str = "/"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    name: str
    source: str
    target: str
    signature_type: str = "http"
    env: dict[str, str] = field(default_factory=dict)
    # Where the process runs; a deployed archive runs from its own folder.
    cwd: Path = ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    target: Target, port: int, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`functions-framework --target ... --source ...`: gunicorn, as in production."""
    env = {**os.environ, **target.env, **(extra_env or {})}
    argv = [
        sys.executable,
        "-m",
        "functions_framework",
        f"--target={target.target}",
        f"--source={ROOT / target.source}",
        f"--signature-type={target.signature_type}",
        "--host=127.0.0.1",
        f"--port={port}",
    ]
    return subprocess.Popen(
        argv,
        cwd=target.cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def send(port: int, probe: Probe, timeout: float = 10.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(
            probe.method, probe.path, body=probe.body, headers=probe.headers
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def time_to_first_2xx(
    target: Target, probe_for: Callable[[int], Probe], env: dict[str, str] | None = None
) -> tuple[float, int]:
    """Seconds from process start to the first 2xx answer, and idle RSS in KiB.

    The probe is built before the clock starts (signing is not the
    function's cost); connection refusals are retried every 2 ms.
    """
    port = free_port()
    probe = probe_for(port)
    started = time.perf_counter()
    process = start(target, port, env)
    try:
        deadline = started + 60
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{target.name} exited with {process.returncode}")
            try:
                status, body = send(port, probe, timeout=5)
            except OSError:
                time.sleep(0.002)
                continue
            elapsed = time.perf_counter() - started
            if 200 <= status < 300:
                time.sleep(0.5)  # let the instance settle to idle before reading memory
                return elapsed, rss_kib(process.pid)
            raise RuntimeError(f"{target.name} answered {status}: {body[:300]!r}")
        raise RuntimeError(f"{target.name} never answered")
    finally:
        stop(process)


def rss_kib(pid: int) -> int:
    """Resident memory of the process and its children (gunicorn's worker)."""
    total = 0
    for each in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
            found.extend(_children(int(entry.name)))
    return found


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
