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
- Stripe events by customer id, else by the Checkout `client_reference_id`
  (which we set to the business id).

A header on its own never grants anything: `X-Business-ID` only narrows
what a key already proves. Refusals raise `common.errors` with stable codes:
`missing_api_key`, `invalid_api_key` (401), `api_key_revoked`,
`business_mismatch` (403); `missing_widget_key`, `invalid_widget_key`
(401), `origin_not_allowed` (403).
"""

from __future__ import annotations

import json

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
        raise errors.Forbidden(
            f"The widget is not allowed on {origin or 'a page without Origin'}: "
            "add the site with `python -m tools.admin widget origins "
            f"{business.business_id} --add ORIGIN`",
            code="origin_not_allowed",
            reason=f"origin {origin or '-'} not allowed for {business.business_id}",
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
    customer_id: str | None, client_reference_id: str | None = None
) -> Business | None:
    """The business a Stripe object is about, or None when none matches.

    Only call it with values from a verified event. The customer id wins;
    `client_reference_id` covers a first Checkout, before the business has a
    customer id of its own.
    """
    store = get_store()
    business = store.business_for_stripe_customer(customer_id) if customer_id else None
    if business is None and client_reference_id:
        business = store.get_business(client_reference_id)
    if business is None:
        log.warning(
            "tenant_unresolved",
            "no business matches this Stripe customer",
            source="stripe",
            customer_id=customer_id or "-",
            client_reference_id=client_reference_id or "-",
        )
        return None
    return _enter(business)
