"""Requests built the way the providers build them, one field changeable.

Twilio signatures come from twilio's own `RequestValidator`, Stripe's from
stripe's `WebhookSignature`, so a test proves we accept what they send.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

FIXTURES = Path(__file__).parent / "fixtures"
DEV_TWILIO_TOKEN = "dev-twilio-auth-token"
DEV_TWILIO_SHARED_KEY = "dev-twilio-shared-key"
DEV_STRIPE_SECRET = "whsec_dev_secret"
BASE_URL = "http://localhost"


def twilio_fixture(name: str) -> list[tuple[str, str]]:
    """A Twilio form body from tests/fixtures/twilio, as ordered pairs."""
    raw = (FIXTURES / "twilio" / f"{name}.form").read_text().strip()
    return parse_qsl(raw, keep_blank_values=True)


def stripe_fixture(name: str) -> bytes:
    """A Stripe event, pretty-printed exactly as Stripe sends it."""
    return (FIXTURES / "stripe" / f"{name}.json").read_bytes()


def monitoring_fixture(name: str) -> bytes:
    return (FIXTURES / "monitoring" / f"{name}.json").read_bytes()


@dataclass
class TwilioRequest:
    """A Twilio webhook: change any field, then `signed()` it."""

    path: str
    params: list[tuple[str, str]]
    base_url: str = BASE_URL
    token: str = DEV_TWILIO_TOKEN
    algorithm: str = "HMAC_SHA1"
    shared_key_id: str = "webhooks_sharedkey_dev"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_fixture(cls, path: str, name: str, **fields: str) -> TwilioRequest:
        request = cls(path=path, params=twilio_fixture(name))
        return request.with_fields(**fields)

    def with_fields(self, **fields: str | None) -> TwilioRequest:
        """Replace (or with None, drop) form fields."""
        params = [(k, v) for k, v in self.params if k not in fields]
        params += [(k, v) for k, v in fields.items() if v is not None]
        self.params = params
        return self

    def field(self, name: str) -> str:
        return dict(self.params)[name]

    @property
    def url(self) -> str:
        return self.base_url + self.path

    @property
    def body(self) -> str:
        return urlencode(self.params)

    def signature(self) -> str:
        from twilio.request_validator import RequestValidator
        from werkzeug.datastructures import MultiDict

        validator = RequestValidator(self.token)
        return validator.compute_signature(
            self.url, MultiDict(self.params), self.algorithm
        )

    def signed(self) -> TwilioRequest:
        self.headers["X-Twilio-Signature"] = self.signature()
        if self.algorithm != "HMAC_SHA1":
            self.headers["X-Twilio-Webhooks-Signature-Settings"] = (
                f"key={self.shared_key_id},algorithm={self.algorithm}"
            )
        return self

    def kwargs(self) -> dict[str, Any]:
        """Arguments for werkzeug's test client or `requests`."""
        return {
            "data": self.body,
            "headers": {
                "Content-Type": "application/x-www-form-urlencoded",
                **self.headers,
            },
        }


def stripe_headers(
    payload: bytes, secret: str = DEV_STRIPE_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    import stripe

    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode("utf-8"), secret, timestamp=timestamp
    )
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def stripe_event(
    name: str, object_changes: dict[str, Any] | None = None, **changes: Any
) -> bytes:
    """A fixture event with fields changed, pretty-printed like Stripe.

    `changes` replace top-level fields (`id`, `created`, `type`);
    `object_changes` replace fields of `data.object` (`status`, `customer`).
    """
    event = json.loads(stripe_fixture(name))
    event["data"]["object"].update(object_changes or {})
    event.update(changes)
    return json.dumps(event, indent=2).encode()
