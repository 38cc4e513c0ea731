"""Proof that a webhook came from Twilio or Stripe.

Twilio: the legacy scheme (HMAC-SHA1 with the account Auth Token) and the
shared-key scheme named by `X-Twilio-Webhooks-Signature-Settings`
(HMAC-SHA256), over the public URL plus the sorted form parameters; JSON
bodies are covered through `bodySHA256` in the URL, whose hash we check
ourselves. Stripe: HMAC-SHA256 over `<t>.<raw body>` with any of the
configured endpoint secrets, within the timestamp tolerance.

A rejection raises `SignatureRejected` with one precise `reason` for the log;
the caller sees only a generic answer.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from common import errors
from common.edge import public_url
from common.logs import get_logger
from common.settings import Settings

log = get_logger(__name__)

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
TWILIO_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
STRIPE_SIGNATURE_HEADER = "Stripe-Signature"


class SignatureRejected(errors.Forbidden):
    code = "invalid_signature"


class StripeSignatureRejected(errors.BadRequest):
    code = "invalid_signature"


def _scheme(settings_header: str | None) -> tuple[str, str | None]:
    """Algorithm and key id named by the signature-settings header."""
    if not settings_header:
        return "HMAC_SHA1", None
    parts = {}
    for part in settings_header.split(","):
        name, _, value = part.partition("=")
        parts[name.strip().lower()] = value.strip()
    return parts.get("algorithm", "HMAC_SHA1").upper(), parts.get("key")


def verify_twilio(request: Request, settings: Settings) -> str:
    """Check the request's Twilio signature; return the URL it was checked for.

    Raises `SignatureRejected` with a reason naming what failed.
    """
    from twilio.request_validator import RequestValidator

    url = public_url(request, settings)
    signature = request.headers.get(TWILIO_SIGNATURE_HEADER, "")
    if not signature:
        raise _reject_twilio("missing X-Twilio-Signature header", url)

    algorithm, key_id = _scheme(request.headers.get(TWILIO_SETTINGS_HEADER))
    if algorithm == "HMAC_SHA1":
        secret = settings.twilio_auth_token
        secret_name = "TWILIO_AUTH_TOKEN"  # noqa: S105 (a variable name)
    elif algorithm == "HMAC_SHA256":
        secret = settings.twilio_webhook_shared_key
        secret_name = "TWILIO_WEBHOOK_SHARED_KEY"  # noqa: S105
    else:
        raise _reject_twilio(f"unsupported signature algorithm {algorithm!r}", url)
    if not secret:
        raise _reject_twilio(f"{secret_name} is not configured", url)

    validator = RequestValidator(secret)
    params: MultiDict[str, str] | dict[str, str]
    if request.mimetype == "application/json":
        _check_body_hash(request, url)
        params = {}
    else:
        params = request.form

    candidates = _url_variants(url)
    for candidate in candidates:
        expected = validator.compute_signature(candidate, params, algorithm)
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return url
    reason = "signature does not match"
    if key_id:
        reason += f" (key {key_id})"
    raise _reject_twilio(reason, url)


def _url_variants(url: str) -> list[str]:
    """The URL as sent, plus the same URL with and without its default port."""
    parts = urlsplit(url)
    default_port = 443 if parts.scheme == "https" else 80
    host = parts.hostname or ""
    if parts.port in (None, default_port):
        with_port = parts._replace(netloc=f"{host}:{default_port}").geturl()
        without_port = parts._replace(netloc=host).geturl()
        return list(dict.fromkeys([url, without_port, with_port]))
    return [url]


def _check_body_hash(request: Request, url: str) -> None:
    query = parse_qs(urlsplit(url).query)
    claimed = query.get("bodySHA256", [""])[0]
    if not claimed:
        raise _reject_twilio("JSON body without bodySHA256 in the URL", url)
    actual = hashlib.sha256(request.get_data(cache=True)).hexdigest()
    if not hmac.compare_digest(actual, claimed.lower()):
        raise _reject_twilio("bodySHA256 does not match the body", url)


def _reject_twilio(reason: str, url: str) -> SignatureRejected:
    log.warning(
        "twilio_signature_rejected",
        f"Twilio signature rejected: {reason}",
        reason=reason,
        url=url,
    )
    return SignatureRejected("Forbidden", reason=reason)


def parse_stripe_header(header: str) -> tuple[int, list[str]]:
    """`t=<unix>,v1=<hex>,...` into the timestamp and every v1 signature."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                timestamp = None
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None:
        raise ValueError("no timestamp")
    return timestamp, signatures


def verify_stripe(
    payload: bytes,
    header: str | None,
    secrets: Iterable[str],
    tolerance_seconds: int,
    now: float | None = None,
) -> None:
    """Check a Stripe signature over the raw bytes; raise with a precise reason."""
    secrets = [secret for secret in secrets if secret]
    if not secrets:
        raise _reject_stripe("STRIPE_WEBHOOK_SECRET is not configured")
    if not header:
        raise _reject_stripe("missing Stripe-Signature header")
    try:
        timestamp, signatures = parse_stripe_header(header)
    except ValueError:
        raise _reject_stripe("Stripe-Signature header has no timestamp") from None
    if not signatures:
        raise _reject_stripe("Stripe-Signature header has no v1 signature")

    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise _reject_stripe(
            f"timestamp outside the {tolerance_seconds}s tolerance "
            f"({int(current - timestamp)}s off)"
        )

    signed = str(timestamp).encode() + b"." + payload
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        for candidate in signatures:
            if hmac.compare_digest(expected, candidate):
                return
    raise _reject_stripe("no v1 signature matches any configured secret")


def _reject_stripe(reason: str) -> StripeSignatureRejected:
    log.warning(
        "stripe_signature_rejected",
        f"Stripe signature rejected: {reason}",
        reason=reason,
    )
    return StripeSignatureRejected("Invalid Stripe signature", reason=reason)
