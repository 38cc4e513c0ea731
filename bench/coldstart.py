"""Cold start and idle memory of each function beside a bare hello-world.

Runs are interleaved (baseline, every function, baseline, ...) so that the
machine's drift touches all of them alike; the figure is the median.
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.processes import time_to_first_2xx
from bench.targets import BASELINE_HELLO, FUNCTIONS, first_request, prepare_store


@dataclass
class ColdStart:
    seconds: float
    rss_kib: int


def measure(rounds: int = 7) -> dict[str, ColdStart]:
    samples: dict[str, list[tuple[float, int]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        env = prepare_store(Path(scratch))
        targets = [BASELINE_HELLO, *FUNCTIONS]
        for _ in range(rounds):
            for target in targets:
                result = time_to_first_2xx(
                    target, lambda port, t=target: first_request(t, port), env
                )
                samples.setdefault(target.name, []).append(result)
    return {
        name: ColdStart(
            seconds=statistics.median(s for s, _ in runs),
            rss_kib=int(statistics.median(r for _, r in runs)),
        )
        for name, runs in samples.items()
    }
