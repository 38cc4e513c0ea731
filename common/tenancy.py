"""Which business a request belongs to, proven before it is believed.

Each entry point resolves its tenant once and the answer becomes the
request's `business_id` (every later log line carries it):

- Twilio webhooks by the number that was called or texted (`To`), after the
  signature check;
- the chat API by its secret `X-API-Key`; an `X-Business-ID` sent with it
  must name the key's own business;
- the widget by its publishable key, honoured only from an allowed
  `Origin`, both spelled as `common.store.origins` normalises them
  (`widget_origin` answers the same question without raising, for the CORS
  headers of answers the handler never made);
- Stripe events by customer id, else by the subscription linked at
  Checkout, else by the business id the object names (`client_reference_id`,
  which we set, or `metadata.business_id`); a named business linked to
  another customer is never resolved.

A header on its own never grants anything: `X-Business-ID` only narrows
what a key already proves. Refusals raise `common.errors` with stable codes:
`missing_api_key`, `invalid_api_key` (401), `api_key_revoked`,
`business_mismatch` (403); `missing_widget_key`, `invalid_widget_key`
(401), `origin_not_allowed` (403).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from common import context, errors
from common.logs import get_logger
from common.store import Business, get_store
from common.store.keys import visible_prefix
from common.store.origins import origin_allowed

log = get_logger(__name__)

API_KEY_HEADER = "X-API-Key"
BUSINESS_ID_HEADER = "X-Business-ID"
WIDGET_KEY_HEADER = "X-Widget-Key"
# Stripe subscription id -> {"business_id", "customer_id", ...}, written by
# `common.billing` when a Checkout links a subscription.
STRIPE_SUBSCRIPTIONS = "stripe_subscriptions"


def _enter(business: Business) -> Business:
    context.update(business_id=business.business_id)
    return business


def business_for_twilio(request: Request) -> Business | None:
    """The business owning the number Twilio delivered to, or None.

    Call it after the signature check: only then is `To` Twilio's word.
    """
    number = request.form.get("To", "").strip()
    business = get_store().business_for_number(number) if number else None
    if business is None:
        log.warning(
            "tenant_unresolved",
            "no business has the number this webhook was sent to",
            source="twilio",
            to=number or "-",
        )
        return None
    return _enter(business)


def business_for_api_key(request: Request) -> Business:
    """The business whose secret key the request carries, or an HttpError."""
    secret = request.headers.get(API_KEY_HEADER, "").strip()
    if not secret:
        raise errors.Unauthorized(
            f"Send your secret API key in the {API_KEY_HEADER} header",
            code="missing_api_key",
        )

    store = get_store()
    api_key = store.api_key_for_secret(secret)
    business = store.get_business(api_key.business_id) if api_key else None
    if api_key is None or business is None:
        raise errors.Unauthorized(
            "The API key is not valid: check it, or create one with "
            "`python -m tools.admin key create BUSINESS_ID`",
            code="invalid_api_key",
            reason=f"unknown key {visible_prefix(secret)}...",
        )
    if api_key.revoked:
        raise errors.Forbidden(
            f"API key {api_key.prefix}... was revoked: use a current key",
            code="api_key_revoked",
            reason=f"revoked key {api_key.key_id} of {api_key.business_id}",
        )

    _check_claimed_business(request, business)
    return _enter(business)


def business_for_widget(request: Request, widget_key: str | None = None) -> Business:
    """The business whose publishable key the widget sent, from its own site.

    The key comes from `widget_key` when the caller read it elsewhere, else
    from the request (`read_widget_key`).
    """
    key = (widget_key or read_widget_key(request) or "").strip()
    if not key:
        raise errors.Unauthorized(
            f"Send the widget's publishable key (pk_...) in {WIDGET_KEY_HEADER}",
            code="missing_widget_key",
        )

    business = get_store().business_for_widget_key(key)
    if business is None:
        raise errors.Unauthorized(
            "The widget key is not valid: copy it again from the business's "
            "widget settings",
            code="invalid_widget_key",
            reason=f"unknown widget key {visible_prefix(key)}...",
        )
    origin = request.headers.get("Origin", "").strip()
    if not origin_allowed(origin, business.allowed_origins):
        # The key named the business: its id goes in the log, never to the page.
        _enter(business)
        raise errors.Forbidden(
            "This site is not allowed to use this widget",
            code="origin_not_allowed",
            reason=f"origin {origin or '-'} not allowed for {business.business_id}; "
            "if it is the business's site, add it with `python -m tools.admin "
            f"widget origins {business.business_id} --add {origin or 'ORIGIN'}`",
        )

    _check_claimed_business(request, business)
    return _enter(business)


def read_widget_key(request: Request) -> str | None:
    """The publishable key: `X-Widget-Key`, then `?key=`, then the JSON body's `key`.

    Never raises: a body that is not a JSON object simply holds no key.
    """
    key = request.headers.get(WIDGET_KEY_HEADER) or request.args.get("key")
    if key and key.strip():
        return key.strip()
    if request.mimetype != "application/json":
        return None
    try:
        body = json.loads(request.get_data(cache=True))
    except (ValueError, HTTPException):
        return None
    body_key = body.get("key") if isinstance(body, dict) else None
    return body_key.strip() if isinstance(body_key, str) and body_key.strip() else None


def widget_origin(request: Request) -> str | None:
    """The request's `Origin` when its widget key's business allows it, else None.

    It resolves nothing into the request context and raises nothing of its
    own: it only says whether an answer may be opened to the page.
    """
    origin = request.headers.get("Origin", "").strip()
    key = read_widget_key(request)
    if not origin or not key:
        return None
    business = get_store().business_for_widget_key(key)
    if business is None or not origin_allowed(origin, business.allowed_origins):
        return None
    return origin


def _check_claimed_business(request: Request, business: Business) -> None:
    claimed = request.headers.get(BUSINESS_ID_HEADER, "").strip()
    if claimed and claimed != business.business_id:
        raise errors.Forbidden(
            f"{BUSINESS_ID_HEADER} does not match the business of this key: "
            "send the key's own business id, or leave the header out",
            code="business_mismatch",
            reason=f"claimed {claimed!r}, key belongs to {business.business_id}",
        )


def business_for_stripe(
    obj: Mapping[str, Any], subscription_id: str | None = None
) -> Business | None:
    """The business a verified Stripe object is about, or None when none matches.

    In order: the business of its customer; the business its subscription
    was linked to at Checkout; the business it names (`business_named_by_
    stripe`). A business found by name without a customer yet gets this one;
    one linked to another customer is left alone and logged
    (`stripe_customer_mismatch`), so an object naming the wrong business
    cannot change it.
    """
    store = get_store()
    customer_id = stripe_id(obj.get("customer"))
    business = store.business_for_stripe_customer(customer_id) if customer_id else None
    if business is None and subscription_id is not None:
        linked = (store.get_document(STRIPE_SUBSCRIPTIONS, subscription_id) or {}).get(
            "business_id"
        )
        business = store.get_business(str(linked)) if linked else None
    if business is not None:
        return _enter(business)

    business = _business_named(obj)
    if business is None:
        log.warning(
            "tenant_unresolved",
            "no business matches this Stripe customer, subscription or reference",
            source="stripe",
            customer_id=customer_id or "-",
            subscription_id=subscription_id or "-",
        )
        return None
    if customer_id is None or business.stripe_customer_id == customer_id:
        return _enter(business)
    if business.stripe_customer_id is None:
        return _enter(
            store.update_business(business.business_id, stripe_customer_id=customer_id)
        )
    log.warning(
        "stripe_customer_mismatch",
        f"{business.business_id} is linked to another Stripe customer; "
        "the event is not applied to it",
        named_business_id=business.business_id,
        stripe_customer_id=customer_id,
        linked_customer_id=business.stripe_customer_id,
    )
    return None


def business_named_by_stripe(obj: Mapping[str, Any]) -> Business | None:
    """The business a Stripe object names, whatever customer it has.

    Only for a Checkout session, which we create with the business id as
    `client_reference_id`: it is what links a customer to its business.
    """
    business = _business_named(obj)
    return _enter(business) if business is not None else None


def stripe_id(value: Any) -> str | None:
    """A Stripe id given as a string or as an expanded object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _business_named(obj: Mapping[str, Any]) -> Business | None:
    """The first business named by `client_reference_id`, then by metadata."""
    store = get_store()
    for reference in _business_references(obj):
        business = store.get_business(reference)
        if business is not None:
            return business
    return None


def _business_references(obj: Mapping[str, Any]) -> list[str]:
    """Business ids an object names: `client_reference_id`, then metadata."""
    references = [obj.get("client_reference_id")]
    references.append((obj.get("metadata") or {}).get("business_id"))
    parent = obj.get("parent") or {}
    details = parent.get("subscription_details") or obj.get("subscription_details")
    references.append(((details or {}).get("metadata") or {}).get("business_id"))
    return [ref for ref in references if isinstance(ref, str) and ref]
