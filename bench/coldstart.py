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
from bench.targets import (
    BASELINE_HELLO,
    FUNCTIONS,
    deployed,
    first_request,
    prepare_store,
)


@dataclass
class ColdStart:
    seconds: float
    rss_kib: int
    error: str | None = None


def measure(rounds: int = 7) -> dict[str, ColdStart]:
    """Median cold start and idle memory per target; a failing target is named."""
    samples: dict[str, list[tuple[float, int]]] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        env = prepare_store(Path(scratch))
        targets = [BASELINE_HELLO, *deployed(FUNCTIONS, Path(scratch))]
        # Round 0 is discarded: it writes each unpacked archive's bytecode
        # cache, which a deployed instance (and the baseline) already has.
        for round_number in range(rounds + 1):
            for target in targets:
                if target.name in errors:
                    continue
                try:
                    result = time_to_first_2xx(
                        target, lambda port, t=target: first_request(t, port), env
                    )
                except RuntimeError as exc:
                    errors[target.name] = str(exc)[:160]
                    continue
                if round_number:
                    samples.setdefault(target.name, []).append(result)
    results = {
        name: ColdStart(
            seconds=statistics.median(s for s, _ in runs),
            rss_kib=int(statistics.median(r for _, r in runs)),
        )
        for name, runs in samples.items()
        if name not in errors
    }
    results.update({name: ColdStart(0.0, 0, error) for name, error in errors.items()})
    return results
