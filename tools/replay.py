"""Re-run a stored Stripe webhook delivery through the billing handler.

    python -m tools.replay REFERENCE [--dry-run] [--json]
    python -m tools.replay --list [--failed] [--limit N] [--json]

REFERENCE is the delivery's `request_id` (as found in the logs) or the
Stripe event id. Of several deliveries of one event, the latest failed one
is used. A request id can be shared by deliveries of different events (it
comes from `X-Request-ID` or the trace header): then the only failed one is
replayed, saying so, and otherwise they are listed and the event id asked
for. It is re-run in this
process against the store `STORE` names, without a signature: it was
verified when it arrived, and a delivery rejected at the signature check is
never replayed. An event already applied is reported as a duplicate and
changes nothing.

Exit status: 0 when the replay was accepted, ignored or a duplicate; 1 when
it failed again; 2 when the delivery cannot be replayed (unknown or
ambiguous reference, never verified, malformed, no body kept).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from common import billing, context
from common.runtime import boot
from common.settings import SettingsError
from common.store import Delivery, Store, StoreError, get_store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.replay", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("reference", nargs="?", help="request_id or Stripe event id")
    parser.add_argument("--list", action="store_true", help="list recent deliveries")
    parser.add_argument(
        "--failed", action="store_true", help="with --list: failed ones only"
    )
    parser.add_argument("--limit", type=int, default=20, help="with --list: how many")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be re-run"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    if not args.list and not args.reference:
        parser.error("give a REFERENCE to replay, or --list")

    try:
        settings = boot()
        store = get_store()
    except (SettingsError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    if args.list:
        return _list(store, args.failed, args.limit, args.json)

    context.bind_request({"X-Request-ID": f"replay-{uuid.uuid4().hex[:16]}"})
    try:
        outcome = billing.replay(args.reference, store, settings, args.dry_run)
    except billing.ReplayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except billing.EventFailed as exc:
        recorded = store.find_delivery(context.current().request_id)
        outcome = billing.Outcome(
            "failed",
            event_id=recorded.event_id if recorded else None,
            event_type=recorded.event_type if recorded else None,
            detail=exc.reason,
            request_id=context.current().request_id,
        )
    finally:
        context.clear()

    _print_outcome(outcome, args.dry_run, args.json)
    return 1 if outcome.verdict == "failed" and not args.dry_run else 0


def _list(store: Store, failed_only: bool, limit: int, as_json: bool) -> int:
    # Read more than asked when filtering, so that --failed still finds some.
    deliveries = store.list_deliveries(
        billing.SOURCE, limit=limit * 10 if failed_only else limit
    )
    if failed_only:
        deliveries = [d for d in deliveries if d.verdict == "failed"]
    deliveries = deliveries[:limit]

    if as_json:
        print(json.dumps([_delivery_dict(d) for d in deliveries], indent=2))
        return 0
    if not deliveries:
        print("no deliveries")
        return 0
    for delivery in deliveries:
        row = _delivery_dict(delivery)
        print(
            f"{row['received_at']}  {row['verdict']:<9}  {row['request_id']}  "
            f"{row['event_id'] or '-'}  {row['event_type'] or '-'}  "
            f"{row['detail'] or ''}".rstrip()
        )
    return 0


def _delivery_dict(delivery: Delivery) -> dict[str, Any]:
    received = datetime.fromtimestamp(delivery.received_at, UTC)
    return {
        "received_at": received.isoformat(timespec="seconds"),
        "request_id": delivery.request_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "verdict": delivery.verdict,
        "detail": delivery.detail,
        "replayable": billing.replayable(delivery),
    }


def _print_outcome(outcome: billing.Outcome, dry_run: bool, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"dry_run": dry_run, **outcome.as_dict()}, indent=2))
        return
    if outcome.note:
        print(outcome.note, file=sys.stderr)
    if dry_run:
        print(
            f"would replay {outcome.event_id} ({outcome.event_type}) from delivery "
            f"{outcome.request_id}, last {outcome.verdict}"
        )
        return
    changes = ", ".join(
        f"{name} {before} -> {after}"
        for name, (before, after) in outcome.changes.items()
    )
    print(
        f"{outcome.verdict}: {outcome.event_id or '-'} ({outcome.event_type or '-'}) "
        f"for {outcome.business_id or '-'}: {outcome.detail or ''}"
        + (f" [{changes}]" if changes else "")
        + f" (recorded as {outcome.request_id})"
    )


if __name__ == "__main__":
    sys.exit(main())
