"""Warm throughput of a signed SMS webhook beside a bare TwiML view.

Both are served the way production serves them (functions-framework on
gunicorn, one worker) and loaded by wrk on loopback with the same connection
count and duration. Every request ours gets is a distinct, correctly signed
inbound SMS to the demo business, so each does the whole job: signature,
tenancy, idempotency claim, assistant, conversation memory, reply.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.processes import ROOT, Probe, free_port, send, start, stop
from bench.targets import BASELINE_TWIML, FUNCTIONS, deployed, prepare_store, signed_sms

_LUA = Path(__file__).with_name("replay.lua")


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def _parse_wrk(output: str) -> LoadResult:
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if found is None:
        raise RuntimeError(f"wrk printed no request rate:\n{output}")
    rate = float(found.group(1))
    percentiles = {}
    for label, value, unit in re.findall(
        r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M
    ):
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
        percentiles[label] = float(value) * scale
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return LoadResult(
        rate, percentiles.get("50", 0.0), percentiles.get("99", 0.0), errors
    )


def _load(port: int, requests_file: Path, seconds: int, connections: int) -> LoadResult:
    env = {**os.environ, "REQUESTS_FILE": str(requests_file)}
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(_LUA),
            f"http://127.0.0.1:{port}/twilio/sms",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return _parse_wrk(output)


def measure(
    rounds: int = 3, seconds: int = 8, connections: int = 8
) -> dict[str, LoadResult]:
    """Median over interleaved rounds of ours and the baseline."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    ours_runs: list[LoadResult] = []
    base_runs: list[LoadResult] = []
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        env = prepare_store(workdir)
        sms_target = deployed(FUNCTIONS[:1], workdir)[0]
        for round_number in range(rounds):
            # Ours: a fresh process and fresh message ids each round.
            port = free_port()
            process = start(sms_target, port, env)
            try:
                _wait(port, Probe(method="GET", path="/twilio/sms"))
                requests_file = workdir / f"requests-{round_number}.tsv"
                lines = signed_sms(
                    f"http://127.0.0.1:{port}/twilio/sms", 20_000, round_number
                )
                requests_file.write_text("\n".join(lines) + "\n")
                _load(port, requests_file, 1, connections)  # warm-up
                ours_runs.append(_load(port, requests_file, seconds, connections))
            finally:
                stop(process)

            port = free_port()
            process = start(BASELINE_TWIML, port, {})
            try:
                _wait(port, Probe(method="POST", path="/twilio/sms"))
                _load(port, requests_file, 1, connections)
                base_runs.append(_load(port, requests_file, seconds, connections))
            finally:
                stop(process)
    return {"ours": _median(ours_runs), "baseline": _median(base_runs)}


def _wait(port: int, probe: Probe) -> None:
    import time

    for _ in range(3000):
        try:
            send(port, probe, timeout=5)
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("server did not come up")


def _median(runs: list[LoadResult]) -> LoadResult:
    return LoadResult(
        requests_per_second=statistics.median(r.requests_per_second for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
    )


__all__ = ["ROOT", "LoadResult", "measure"]
