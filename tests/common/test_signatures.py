from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from common.settings import load_settings
from common.signatures import (
    SignatureRejected,
    StripeSignatureRejected,
    verify_stripe,
    verify_twilio,
)
from tests.builders import (
    DEV_STRIPE_SECRET,
    DEV_TWILIO_SHARED_KEY,
    TwilioRequest,
    stripe_headers,
)


def _werkzeug_request(
    twilio: TwilioRequest, base_url: str, **extra_headers: str
) -> Request:
    kwargs = twilio.kwargs()
    builder = EnvironBuilder(
        path=twilio.path,
        base_url=base_url,
        method="POST",
        data=kwargs["data"],
        headers={**kwargs["headers"], **extra_headers},
    )
    return Request(builder.get_environ())


def _sms(**fields: str) -> TwilioRequest:
    return TwilioRequest.from_fixture("/twilio/sms", "sms-inbound", **fields)


def test_legacy_signature_from_twilio_library_is_accepted() -> None:
    twilio = _sms().signed()

    url = verify_twilio(
        _werkzeug_request(twilio, "http://localhost"), load_settings({})
    )

    assert url == "http://localhost/twilio/sms"


def test_shared_key_sha256_signature_is_accepted() -> None:
    twilio = _sms()
    twilio.token = DEV_TWILIO_SHARED_KEY
    twilio.algorithm = "HMAC_SHA256"
    twilio.signed()

    verify_twilio(_werkzeug_request(twilio, "http://localhost"), load_settings({}))


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda t: t.headers.pop("X-Twilio-Signature"), "missing X-Twilio-Signature"),
        (lambda t: t.with_fields(Body="changed after signing"), "does not match"),
        (lambda t: setattr(t, "token", "wrong") or t.signed(), "does not match"),
        (
            lambda t: t.headers.update(
                {"X-Twilio-Webhooks-Signature-Settings": "key=k,algorithm=HMAC_MD5"}
            ),
            "unsupported signature algorithm",
        ),
    ],
)
def test_tampered_twilio_request_is_rejected_with_its_reason(
    tamper: Callable[[TwilioRequest], Any], reason: str
) -> None:
    twilio = _sms().signed()
    tamper(twilio)

    with pytest.raises(SignatureRejected) as caught:
        verify_twilio(_werkzeug_request(twilio, "http://localhost"), load_settings({}))

    assert reason in caught.value.reason
    assert caught.value.status == 403


def test_repeated_form_keys_are_signed_and_checked() -> None:
    twilio = _sms()
    twilio.params += [
        ("MediaUrl0", "https://a.example/1"),
        ("MediaUrl0", "https://a.example/0"),
    ]
    twilio.signed()

    verify_twilio(_werkzeug_request(twilio, "http://localhost"), load_settings({}))


def test_public_base_url_is_what_gets_checked_behind_a_proxy() -> None:
    twilio = _sms()
    twilio.base_url = "https://receptionist.example.com"
    twilio.signed()
    settings = load_settings({"PUBLIC_BASE_URL": "https://receptionist.example.com"})

    verify_twilio(_werkzeug_request(twilio, "http://10.0.0.7:8080"), settings)


def test_default_port_on_either_side_still_matches() -> None:
    twilio = _sms()
    twilio.base_url = "https://receptionist.example.com:443"
    twilio.signed()
    settings = load_settings({"PUBLIC_BASE_URL": "https://receptionist.example.com"})

    verify_twilio(_werkzeug_request(twilio, "http://internal:8080"), settings)


def test_forwarded_host_is_ignored_unless_the_proxy_is_trusted() -> None:
    twilio = _sms()
    twilio.base_url = "https://attacker.example"
    twilio.signed()
    spoofed = {"X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https"}

    with pytest.raises(SignatureRejected):
        verify_twilio(
            _werkzeug_request(twilio, "http://localhost", **spoofed), load_settings({})
        )
    trusted = load_settings({"TRUSTED_PROXY_COUNT": "1"})
    verify_twilio(_werkzeug_request(twilio, "http://localhost", **spoofed), trusted)


def _json_twilio_request(body: bytes, query: str, signature_url: str) -> Request:
    from twilio.request_validator import RequestValidator

    signature = RequestValidator("dev-twilio-auth-token").compute_signature(
        signature_url, {}
    )
    builder = EnvironBuilder(
        path="/twilio/sms/status",
        query_string=query,
        base_url="http://localhost",
        method="POST",
        data=body,
        headers={"Content-Type": "application/json", "X-Twilio-Signature": signature},
    )
    return Request(builder.get_environ())


def test_json_body_is_checked_against_body_sha256() -> None:
    import hashlib

    body = json.dumps({"MessageSid": "SM1", "MessageStatus": "delivered"}).encode()
    digest = hashlib.sha256(body).hexdigest()
    url = f"http://localhost/twilio/sms/status?bodySHA256={digest}"

    verify_twilio(
        _json_twilio_request(body, f"bodySHA256={digest}", url), load_settings({})
    )
    with pytest.raises(SignatureRejected) as caught:
        verify_twilio(
            _json_twilio_request(body + b" ", f"bodySHA256={digest}", url),
            load_settings({}),
        )
    assert "bodySHA256 does not match" in caught.value.reason


def test_json_body_without_body_hash_is_refused() -> None:
    url = "http://localhost/twilio/sms/status"

    with pytest.raises(SignatureRejected) as caught:
        verify_twilio(_json_twilio_request(b"{}", "", url), load_settings({}))

    assert "without bodySHA256" in caught.value.reason


def test_stripe_signature_from_stripe_library_is_accepted() -> None:
    payload = b'{\n  "id": "evt_1"\n}'
    header = stripe_headers(payload)["Stripe-Signature"]

    verify_stripe(payload, header, [DEV_STRIPE_SECRET], 300)


def test_stripe_rotation_accepts_any_secret_and_any_v1() -> None:
    payload = b'{"id": "evt_2"}'
    old = stripe_headers(payload, secret="whsec_old")["Stripe-Signature"]
    new = stripe_headers(payload, secret="whsec_new")["Stripe-Signature"]
    combined = old + ",v1=" + new.split("v1=")[1]

    verify_stripe(payload, combined, ["whsec_new"], 300)
    verify_stripe(payload, old, ["whsec_new", "whsec_old"], 300)


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-300, True), (-301, False), (300, True), (301, False)]
)
def test_stripe_tolerance_edges(offset: int, accepted: bool) -> None:
    payload = b'{"id": "evt_3"}'
    now = time.time()
    header = stripe_headers(payload, timestamp=int(now) + offset)["Stripe-Signature"]

    if accepted:
        verify_stripe(payload, header, [DEV_STRIPE_SECRET], 300, now=int(now))
    else:
        with pytest.raises(StripeSignatureRejected, match="Invalid"):
            verify_stripe(payload, header, [DEV_STRIPE_SECRET], 300, now=int(now))


def test_reserialised_stripe_body_is_refused() -> None:
    payload = b'{\n  "id": "evt_4",\n  "type": "invoice.paid"\n}'
    header = stripe_headers(payload)["Stripe-Signature"]
    reserialised = json.dumps(json.loads(payload)).encode()

    with pytest.raises(StripeSignatureRejected) as caught:
        verify_stripe(reserialised, header, [DEV_STRIPE_SECRET], 300)

    assert caught.value.reason == "no v1 signature matches any configured secret"
    assert caught.value.status == 400
