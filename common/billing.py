"""Stripe's billing events: verified, recorded, applied once and in order.

`receive` is the webhook: it checks the signature over the raw bytes, records
the delivery in the webhook inbox, claims the event id so that a duplicate
(sequential or concurrent) changes nothing, and applies the event to the
business it names (resolved by `common.tenancy.business_for_stripe`, the
one path from a Stripe object to a business). `replay` re-runs a stored
delivery through the same steps without a signature, since it was verified
when it arrived.

What each event does:

- `checkout.session.completed` links the Stripe customer and subscription to
  the business named by `client_reference_id` or `metadata.business_id`.
- `customer.subscription.created`, `.updated`, `.deleted` set the service
  status from the subscription's status.
- `invoice.paid` makes the business `active`; `invoice.payment_failed` makes
  it `past_due`.
- Any other type, and thin (`v2.core.event`) events, are acknowledged and
  logged; nothing changes.

Stripe delivers out of order. Each subscription keeps a watermark (the
`created` time and status of the latest event applied); an older event is
acknowledged and ignored, and a canceled subscription never comes back. With
`STRIPE_API_KEY` set, the subscription is read fresh from Stripe instead, so
the status is always the current one whatever the order.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast

from common import context, errors, gating, tenancy
from common.logs import get_logger
from common.notify import notify_owner
from common.settings import Settings
from common.signatures import (
    STRIPE_SIGNATURE_HEADER,
    StripeSignatureRejected,
    verify_stripe,
)
from common.store import Business, Delivery, ServiceStatus, Store

log = get_logger(__name__)

SOURCE = "stripe"
# Subscription id -> business link and the watermark of the latest event.
SUBSCRIPTIONS = tenancy.STRIPE_SUBSCRIPTIONS
THIN_EVENT_OBJECT = "v2.core.event"

Verdict = Literal["accepted", "duplicate", "ignored", "failed", "malformed", "rejected"]

# Stripe subscription status -> the business's service status. `incomplete`
# (first payment pending, for up to a day) changes nothing.
SERVICE_STATUS_FOR: dict[str, ServiceStatus] = {
    "trialing": "trialing",
    "active": "active",
    "past_due": "past_due",
    "unpaid": "suspended",
    "paused": "suspended",
    "canceled": "suspended",
    "incomplete_expired": "suspended",
}
# A subscription in these states never becomes live again.
TERMINAL_STATUSES = frozenset({"canceled", "incomplete_expired"})


class MalformedEvent(errors.BadRequest):
    """A verified delivery that no retry can apply: answered 400, not retried."""

    code = "malformed_json"


class EventFailed(errors.HttpError):
    """Applying the event failed; Stripe retries it."""

    status = 500
    code = "billing_event_failed"
    retryable = True


class ReplayError(Exception):
    """A delivery cannot be replayed; the message says why and what to do."""


@dataclass
class Outcome:
    """What became of one delivery."""

    verdict: Verdict
    event_id: str | None = None
    event_type: str | None = None
    business_id: str | None = None
    detail: str | None = None
    # Field name -> [before, after] for what the event changed.
    changes: dict[str, list[Any]] = field(default_factory=dict)
    request_id: str | None = None
    # How the delivery was chosen, when a replay's reference named several.
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "business_id": self.business_id,
            "detail": self.detail,
            "changes": self.changes,
            "request_id": self.request_id,
            "note": self.note,
        }


def receive(
    payload: bytes, signature: str | None, store: Store, settings: Settings
) -> Outcome:
    """Handle one webhook delivery: verify, record, deduplicate, apply.

    Raises `StripeSignatureRejected` (400), `MalformedEvent` (400: not
    JSON, or a field that applying it reads is of the wrong shape, so no
    retry can help) or `EventFailed` (500, the claim released for Stripe's
    retry); each is recorded in the inbox with the body first.
    """
    try:
        verify_stripe(
            payload,
            signature,
            settings.stripe_webhook_secrets,
            settings.stripe_webhook_tolerance_seconds,
        )
    except StripeSignatureRejected as rejected:
        # Kept as suspicious evidence, never as an event: no id is trusted.
        _record(
            store,
            Outcome("rejected", detail=rejected.reason),
            body=payload,
            headers={STRIPE_SIGNATURE_HEADER: signature or ""},
        )
        raise

    try:
        event = parse_event(payload)
    except MalformedEvent as malformed:
        _refuse_malformed(store, Outcome("malformed"), malformed, payload)
        raise

    return process(event, payload, store, settings)


def parse_event(payload: bytes) -> dict[str, Any]:
    """The event as a dict with a string `id` and `type`, or `MalformedEvent`."""
    try:
        event = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedEvent(
            "The body is not valid JSON", reason=f"malformed JSON: {exc}"
        ) from exc

    if not isinstance(event, dict):
        raise MalformedEvent(
            "The body must be a Stripe event object", reason="not a JSON object"
        )
    for name in ("id", "type"):
        if not isinstance(event.get(name), str) or not event[name]:
            raise MalformedEvent(
                f"The event has no {name!r}", reason=f"event without {name!r}"
            )
    return event


def process(
    event: dict[str, Any],
    payload: bytes,
    store: Store,
    settings: Settings,
    replay_of: str | None = None,
) -> Outcome:
    """Apply a verified event once; record and log what became of it."""
    event_id, event_type = str(event["id"]), str(event["type"])
    handler = _HANDLERS.get(event_type)
    if handler is None or _is_thin(event):
        reason = "thin event" if _is_thin(event) else "event type not handled"
        log.info(
            "stripe_event_ignored",
            f"Stripe event {event_type} acknowledged and ignored: {reason}",
            event_id=event_id,
            event_type=event_type,
            detail=reason,
        )
        outcome = Outcome("ignored", event_id, event_type, detail=reason)
        return _record(store, outcome, replay_of=replay_of)

    try:
        check_shape(event)
    except MalformedEvent as malformed:
        outcome = Outcome("malformed", event_id, event_type)
        _refuse_malformed(store, outcome, malformed, payload, replay_of)
        raise

    claimed = False
    try:
        claim = store.claim(SOURCE, event_id, settings.idempotency_ttl_seconds)
        claimed = claim.won
        if claimed:
            outcome = handler(event, store, settings)
    except Exception as exc:
        if claimed:
            _release(store, event_id)
        reason = f"{type(exc).__name__}: {exc}"
        log.exception(
            "stripe_event_failed",
            f"Stripe event {event_type} failed; Stripe will retry it",
            event_id=event_id,
            event_type=event_type,
            reason=reason,
        )
        failed = Outcome("failed", event_id, event_type, detail=reason)
        _record(store, failed, body=payload, replay_of=replay_of)
        raise EventFailed(
            "The event could not be applied; it will be retried", reason=reason
        ) from exc

    if not claimed:
        earlier = claim.result or {}
        if earlier.get("business_id"):
            context.update(business_id=str(earlier["business_id"]))
        log.info(
            "stripe_event_duplicate",
            f"Stripe event {event_id} already {claim.state}; nothing changed",
            event_id=event_id,
            event_type=event_type,
            claim_state=claim.state,
        )
        outcome = Outcome(
            "duplicate",
            event_id,
            event_type,
            business_id=earlier.get("business_id"),
            detail=f"already {claim.state}",
        )
        return _record(store, outcome, replay_of=replay_of)

    outcome.event_id, outcome.event_type = event_id, event_type
    store.complete_claim(SOURCE, event_id, outcome.as_dict())
    event_name = (
        "stripe_event_accepted"
        if outcome.verdict == "accepted"
        else "stripe_event_ignored"
    )
    log.info(
        event_name,
        f"Stripe event {event_type} {outcome.verdict}: {outcome.detail}",
        event_id=event_id,
        event_type=event_type,
        detail=outcome.detail,
        changes=outcome.changes,
    )
    return _record(store, outcome, replay_of=replay_of)


def replayable(delivery: Delivery) -> bool:
    """Only a failed delivery keeps a body that a replay may yet apply."""
    return delivery.verdict == "failed" and delivery.body is not None


def replay(
    reference: str, store: Store, settings: Settings, dry_run: bool = False
) -> Outcome:
    """Re-run the stored delivery named by a request id or event id.

    Raises `ReplayError` when there is none, when the reference names
    deliveries of several events and not exactly one of them can be
    replayed, when it was never verified, or when it kept no body (only
    failed, malformed and rejected deliveries keep theirs).
    """
    delivery, note = _delivery_named(reference, store)
    if delivery.verdict == "rejected":
        raise ReplayError(
            f"delivery {delivery.request_id} was rejected at the signature check "
            "and never verified; it cannot be replayed"
        )
    if delivery.verdict == "malformed":
        raise ReplayError(
            f"delivery {delivery.request_id} is malformed ({delivery.detail}); "
            "no replay can apply it"
        )
    if delivery.body is None:
        raise ReplayError(
            f"delivery {delivery.request_id} was {delivery.verdict} and kept no "
            "body; only failed deliveries can be replayed"
        )

    try:
        event = parse_event(delivery.body)
    except MalformedEvent as malformed:
        raise ReplayError(
            f"delivery {delivery.request_id} is not a readable event "
            f"({malformed.reason}); it cannot be replayed"
        ) from malformed
    if dry_run:
        outcome = Outcome(
            cast(Verdict, delivery.verdict),
            str(event["id"]),
            str(event["type"]),
            detail=f"would re-run delivery {delivery.request_id}",
            request_id=delivery.request_id,
        )
    else:
        outcome = process(
            event, delivery.body, store, settings, replay_of=delivery.request_id
        )
    outcome.note = note
    return outcome


def _delivery_named(reference: str, store: Store) -> tuple[Delivery, str | None]:
    """The one delivery `reference` names, and a note if chosen among several.

    Request ids come from `X-Request-ID` or the trace header, so two
    deliveries of different events may share one. Deliveries of one event
    (Stripe's retries) are interchangeable: the latest replayable one is
    taken. Across events, only a single replayable delivery is unambiguous.
    """
    found = [d for d in store.find_deliveries(reference) if d.source == SOURCE]
    if not found:
        raise ReplayError(
            f"no Stripe delivery has request id or event id {reference!r}; "
            "list them with `python -m tools.replay --list`"
        )
    event_ids = {delivery.event_id for delivery in found}
    if len(found) == 1 or (len(event_ids) == 1 and None not in event_ids):
        return next((d for d in found if replayable(d)), found[0]), None

    candidates = [delivery for delivery in found if replayable(delivery)]
    if len(candidates) == 1:
        chosen = candidates[0]
        note = (
            f"{reference!r} names {len(found)} deliveries; replaying the only "
            f"failed one, event {chosen.event_id} ({chosen.event_type})"
        )
        return chosen, note
    listed = "\n".join(f"  {_delivery_line(delivery)}" for delivery in found)
    raise ReplayError(
        f"{reference!r} names {len(found)} deliveries of different events and "
        f"{len(candidates) or 'none'} of them can be replayed; give the event id "
        f"of the one to replay:\n{listed}"
    )


def _delivery_line(delivery: Delivery) -> str:
    received = datetime.fromtimestamp(delivery.received_at, UTC)
    return (
        f"{delivery.event_id or '-'}  {delivery.event_type or '-'}  "
        f"{delivery.verdict}  received {received.isoformat(timespec='seconds')}"
    )


# Handlers: each applies one event type and says what it did.

Handler = Callable[[dict[str, Any], Store, Settings], Outcome]


def _checkout_completed(
    event: dict[str, Any], store: Store, settings: Settings
) -> Outcome:
    session = _object(event)
    customer_id = tenancy.stripe_id(session.get("customer"))
    subscription_id = tenancy.stripe_id(session.get("subscription"))
    business = tenancy.business_named_by_stripe(session)
    if business is None:
        return _unmatched(event, session)
    if customer_id is None:
        return _ignored(event, business, "checkout session without a customer")

    changes: dict[str, list[Any]] = {}
    if business.stripe_customer_id != customer_id:
        changes["stripe_customer_id"] = [business.stripe_customer_id, customer_id]
        business = store.update_business(
            business.business_id, stripe_customer_id=customer_id
        )
    if subscription_id is not None:
        _link_subscription(store, subscription_id, business, customer_id)
    log.info(
        "stripe_customer_linked",
        f"Stripe customer linked to {business.business_id}",
        stripe_customer_id=customer_id,
        subscription_id=subscription_id,
    )
    return Outcome(
        "accepted",
        business_id=business.business_id,
        detail="customer linked",
        changes=changes,
    )


def _subscription_changed(
    event: dict[str, Any], store: Store, settings: Settings
) -> Outcome:
    subscription = _object(event)
    subscription_id = tenancy.stripe_id(subscription.get("id"))
    business = tenancy.business_for_stripe(subscription, subscription_id)
    if business is None:
        return _unmatched(event, subscription)

    stripe_status = str(subscription.get("status") or "")
    if event["type"] == "customer.subscription.deleted":
        stripe_status = "canceled"
    if settings.stripe_api_key and subscription_id:
        stripe_status = _fresh_status(settings.stripe_api_key, subscription_id)
    return _apply(
        event,
        store,
        business,
        subscription_id,
        stripe_status,
        fresh=bool(settings.stripe_api_key),
    )


def _invoice_paid(event: dict[str, Any], store: Store, settings: Settings) -> Outcome:
    return _invoice_event(event, store, settings, stripe_status="active")


def _invoice_payment_failed(
    event: dict[str, Any], store: Store, settings: Settings
) -> Outcome:
    return _invoice_event(event, store, settings, stripe_status="past_due")


def _invoice_event(
    event: dict[str, Any], store: Store, settings: Settings, stripe_status: str
) -> Outcome:
    invoice = _object(event)
    subscription_id = _invoice_subscription(invoice)
    business = tenancy.business_for_stripe(invoice, subscription_id)
    if business is None:
        return _unmatched(event, invoice)

    fresh = bool(settings.stripe_api_key and subscription_id)
    if settings.stripe_api_key and subscription_id:
        stripe_status = _fresh_status(settings.stripe_api_key, subscription_id)
    outcome = _apply(event, store, business, subscription_id, stripe_status, fresh)
    if outcome.verdict != "accepted":
        return outcome

    business = store.get_business(business.business_id) or business
    if event["type"] == "invoice.paid":
        _notify(business, "payment_received", gating.owner_reactivation(business))
    else:
        _notify(business, "payment_failed", gating.owner_warning(business))
    return outcome


_HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_payment_failed,
}
HANDLED_EVENT_TYPES = tuple(_HANDLERS)


# Applying a status, in order.


def _apply(
    event: dict[str, Any],
    store: Store,
    business: Business,
    subscription_id: str | None,
    stripe_status: str,
    fresh: bool,
) -> Outcome:
    """Set the service status the Stripe status means, unless the event is stale."""
    created = _created(event)
    if subscription_id is not None:
        mark = store.get_document(SUBSCRIPTIONS, subscription_id) or {}
        stale = None if fresh else _staleness(mark, created, stripe_status)
        if stale is not None:
            return _ignored(event, business, stale)
        _save_watermark(store, subscription_id, mark, business, created, stripe_status)

    target = SERVICE_STATUS_FOR.get(stripe_status)
    if target is None:
        return Outcome(
            "accepted",
            business_id=business.business_id,
            detail=f"subscription {stripe_status or 'without status'}: "
            "service unchanged",
        )
    if target == business.status:
        return Outcome(
            "accepted",
            business_id=business.business_id,
            detail=f"status stays {target}",
        )

    before = business.status
    business = store.update_business(business.business_id, status=target)
    log.info(
        "business_status_changed",
        f"{business.business_id} is now {target} (was {before})",
        status_before=before,
        status_after=target,
        stripe_status=stripe_status,
        event_id=event["id"],
    )
    if str(event["type"]).startswith("customer.subscription."):
        _tell_owner_of_transition(business)
    return Outcome(
        "accepted",
        business_id=business.business_id,
        detail=f"status {before} -> {target}",
        changes={"status": [before, target]},
    )


def _staleness(mark: dict[str, Any], created: int, stripe_status: str) -> str | None:
    """Why an event is older than what was applied already, or None."""
    last_created = mark.get("event_created")
    last_status = mark.get("stripe_status")
    if last_created is None:
        return None
    if last_status in TERMINAL_STATUSES and stripe_status not in TERMINAL_STATUSES:
        return f"subscription already {last_status}; it cannot come back"
    if created < int(last_created):
        return (
            f"older than the latest applied event ({created} < {last_created}, "
            f"{last_status})"
        )
    return None


def _save_watermark(
    store: Store,
    subscription_id: str,
    mark: dict[str, Any],
    business: Business,
    created: int,
    stripe_status: str,
) -> None:
    latest = max(created, int(mark.get("event_created") or 0))
    store.put_document(
        SUBSCRIPTIONS,
        subscription_id,
        {
            **mark,
            "business_id": business.business_id,
            "event_created": latest,
            "stripe_status": stripe_status,
        },
        ttl_seconds=None,
    )


def _link_subscription(
    store: Store, subscription_id: str, business: Business, customer_id: str
) -> None:
    mark = store.get_document(SUBSCRIPTIONS, subscription_id) or {}
    mark.update(business_id=business.business_id, customer_id=customer_id)
    store.put_document(SUBSCRIPTIONS, subscription_id, mark, ttl_seconds=None)


def _tell_owner_of_transition(business: Business) -> None:
    """A subscription that falls behind or ends tells the owner, once per change.

    Invoice events notify on their own, on every payment.
    """
    if business.status == "past_due":
        _notify(business, "past_due", gating.owner_warning(business))
    elif business.status == "suspended":
        _notify(business, "suspended", gating.owner_suspension(business))


def _notify(business: Business, billing_event: str, text: str) -> None:
    """Tell the owner; `notify_owner` logs a failure and never raises."""
    notify_owner(business, "billing", text, details={"billing_event": billing_event})


@functools.lru_cache(maxsize=2)
def _stripe_client(api_key: str) -> Any:
    import stripe

    return stripe.StripeClient(api_key, max_network_retries=1)


def _fresh_status(api_key: str, subscription_id: str) -> str:
    """The subscription's status as Stripe has it now."""
    subscription = _stripe_client(api_key).v1.subscriptions.retrieve(subscription_id)
    return str(subscription.to_dict().get("status") or "")


# Reading events.


def _is_thin(event: dict[str, Any]) -> bool:
    return event.get("object") == THIN_EVENT_OBJECT


# Fields of `data.object` the handlers read as objects when they are present.
_NESTED_OBJECTS = (
    ("metadata",),
    ("parent",),
    ("parent", "subscription_details"),
    ("parent", "subscription_details", "metadata"),
    ("subscription_details",),
    ("subscription_details", "metadata"),
)


def check_shape(event: dict[str, Any]) -> None:
    """Raise `MalformedEvent` when a handled event lacks what applying it reads.

    Such an event fails the same way on every retry, so it is refused for
    good instead of failing as if a retry could help.
    """
    created = event.get("created")
    if not isinstance(created, int) or isinstance(created, bool):
        raise _malformed_field(f"'created' is {created!r}, not Unix seconds")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise _malformed_field("'data.object' is not an object")

    for path in _NESTED_OBJECTS:
        value: Any = data["object"]
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        if value is not None and not isinstance(value, dict):
            raise _malformed_field(
                f"'data.object.{'.'.join(path)}' is {value!r}, not an object"
            )


def _malformed_field(reason: str) -> MalformedEvent:
    return MalformedEvent(
        f"The event cannot be applied: {reason}",
        code="malformed_event",
        reason=reason,
    )


def _object(event: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = event["data"]["object"]
    return obj


def _created(event: dict[str, Any]) -> int:
    created: int = event["created"]
    return created


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    """The invoice's subscription, where older and newer API versions put it."""
    direct = tenancy.stripe_id(invoice.get("subscription"))
    if direct is not None:
        return direct
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return tenancy.stripe_id(details.get("subscription"))


def _unmatched(event: dict[str, Any], obj: dict[str, Any]) -> Outcome:
    customer = tenancy.stripe_id(obj.get("customer")) or "-"
    return Outcome(
        "ignored",
        detail=f"no business for customer {customer} or its references",
    )


def _ignored(event: dict[str, Any], business: Business, reason: str) -> Outcome:
    return Outcome("ignored", business_id=business.business_id, detail=reason)


# Recording.


def _refuse_malformed(
    store: Store,
    outcome: Outcome,
    malformed: MalformedEvent,
    payload: bytes,
    replay_of: str | None = None,
) -> None:
    """Log and record, body kept, a delivery no retry can apply."""
    log.error(
        "stripe_event_malformed",
        "Verified Stripe delivery cannot be read as an event it can apply; "
        "answered 400 so that Stripe stops retrying it",
        event_id=outcome.event_id,
        event_type=outcome.event_type,
        reason=malformed.reason,
    )
    outcome.detail = malformed.reason
    _record(store, outcome, body=payload, replay_of=replay_of)


def _release(store: Store, event_id: str) -> None:
    try:
        store.release_claim(SOURCE, event_id)
    except Exception:
        log.exception(
            "stripe_claim_release_failed",
            f"Could not release the claim on {event_id}; a retry waits for its lease",
            event_id=event_id,
        )


def _record(
    store: Store,
    outcome: Outcome,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    replay_of: str | None = None,
) -> Outcome:
    """Save the delivery in the inbox; a failure to save is logged, not raised."""
    request_id = context.current().request_id
    outcome.request_id = request_id
    detail = outcome.detail
    if replay_of is not None:
        detail = f"replay of {replay_of}: {detail}"
    delivery = Delivery(
        request_id=request_id,
        source=SOURCE,
        event_id=outcome.event_id,
        event_type=outcome.event_type,
        verdict=outcome.verdict,
        received_at=time.time(),
        body=body,
        headers=headers or {},
        detail=detail,
    )
    try:
        store.save_delivery(delivery)
    except Exception:
        log.exception(
            "delivery_record_failed",
            f"Could not record Stripe delivery {request_id} ({outcome.verdict})",
            event_id=outcome.event_id,
            verdict=outcome.verdict,
        )
    return outcome
