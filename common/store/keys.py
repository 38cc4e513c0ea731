"""Identifiers and secrets the store hands out, and the checks on them.

API keys (`sk_live_...`) are 192-bit random secrets: only their SHA-256 and
a visible prefix are stored, which is safe for high-entropy keys (a salt
or slow hash protects guessable passwords, not random tokens). Widget keys
(`pk_live_...`) are publishable: they name a business to browsers and mean
nothing without an allowed `Origin`.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from common.phone import E164_FORM, is_e164
from common.store.base import StoreError

API_KEY_PREFIX = "sk_live_"
WIDGET_KEY_PREFIX = "pk_live_"
# How much of a secret is kept in clear so people can tell keys apart.
VISIBLE_CHARS = len(API_KEY_PREFIX) + 4
MIN_SECRET_LENGTH = 24

_SLUG = re.compile(r"[^a-z0-9]+")
_BUSINESS_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def new_api_secret() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(24)


def new_widget_key() -> str:
    return WIDGET_KEY_PREFIX + secrets.token_urlsafe(16)


def new_key_id() -> str:
    return "key_" + secrets.token_hex(6)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def visible_prefix(secret: str) -> str:
    return secret[:VISIBLE_CHARS]


def check_secret(secret: str) -> str:
    """A caller-chosen API key must be long enough to be unguessable."""
    if len(secret) < MIN_SECRET_LENGTH or secret != secret.strip():
        raise StoreError(
            f"an API key must be at least {MIN_SECRET_LENGTH} characters with "
            "no surrounding spaces; leave it unset to have one generated"
        )
    return secret


def new_business_id(name: str) -> str:
    """`Joe's Plumbing` becomes `biz-joe-s-plumbing-3f9a`."""
    slug = _SLUG.sub("-", name.lower()).strip("-")[:24].strip("-")
    suffix = secrets.token_hex(2)
    return f"biz-{slug}-{suffix}" if slug else f"biz-{suffix}"


def check_business_id(business_id: str) -> str:
    if not _BUSINESS_ID.match(business_id):
        raise StoreError(
            f"business id {business_id!r} is not valid: use 2 to 63 lower-case "
            "letters, digits and dashes, e.g. biz-joes-plumbing"
        )
    return business_id


def check_e164(number: str) -> str:
    if not is_e164(number):
        raise StoreError(f"{number!r} is not an E.164 phone number: write {E164_FORM}")
    return number
