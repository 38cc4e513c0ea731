"""The alert router's rate on the embedded store: normalise, deduplicate, route.

Every message is a distinct alert as the functions publish it, about a
problem of its own (its own route), so each one is parsed, checked against
the store's dedup state, routed by severity and written to the local outbox,
the embedded destination.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from common.alerts.model import Alert


def _messages(count: int, salt: str) -> list[bytes]:
    now = time.time()
    return [
        Alert(
            name="error_rate_spike" if index % 2 else "twilio_webhook_failure",
            severity="P1" if index % 2 else "P0",
            state="firing",
            summary=f"bench alert {index}",
            runbook_url="wiki/Runbooks#error-rate-spike",
            dedup_key=f"bench:{salt}:{index}",
            source="function:bench",
            started_at=now,
            labels={"route": f"/bench/{salt}/{index}"},
            correlation={"request_id": f"req-{index}", "business_id": "biz-demo"},
        ).to_message()
        for index in range(count)
    ]


def measure(rounds: int = 5, count: int = 5_000) -> float:
    """Median alerts per second over rounds, each on a fresh store."""
    from common import runtime
    from common.alerts import router

    rates = []
    for round_number in range(rounds):
        with tempfile.TemporaryDirectory() as scratch:
            os.environ.update(
                {
                    "ENVIRONMENT": "dev",
                    "LOG_LEVEL": "WARNING",
                    "STORE": f"sqlite:///{Path(scratch) / 'store.db'}",
                    "OUTBOX_DIR": str(Path(scratch) / "outbox"),
                }
            )
            _reset_process_state(runtime)
            messages = _messages(count, str(round_number))
            started = time.perf_counter()
            for index, data in enumerate(messages):
                router.handle_message(data, {}, f"bench-{round_number}-{index}")
            rates.append(count / (time.perf_counter() - started))
            # Closed before its folder is removed: it may be checkpointing.
            _close_store()
    return statistics.median(rates)


def _close_store() -> None:
    from common.store import reset_store

    reset_store()


def _reset_process_state(runtime: object) -> None:
    from common import runtime as common_runtime

    common_runtime.reset()
    try:
        from common.store import reset_store

        reset_store()
    except ImportError:
        pass
    common_runtime.boot()
