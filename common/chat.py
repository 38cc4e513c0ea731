"""The chat channel: one visitor message in, the receptionist's reply out.

Shared by the JSON API (`POST /v1/chat`, a business's own server) and the
website widget. Both validate the same request, keep the conversation per
business and session in the store, answer through the assistant within
`CHAT_TURN_DEADLINE_MS`, and tell the owner when a visitor leaves contact
details or asks to be called back. The API and the widget keep separate
conversations (store channels `chat` and `widget`), so a browser can never
read a conversation the business's server started.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from common import errors
from common.logs import get_logger

log = get_logger(__name__)

ChatChannel = Literal["chat", "widget"]

MAX_MESSAGE_CHARS = 2000
MAX_NAME_CHARS = 100
MAX_EMAIL_CHARS = 254
SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
E164_PATTERN = re.compile(r"^\+[1-9]\d{1,14}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_REQUEST_FIELDS = {"chat": {"message", "session_id", "customer"}}
_REQUEST_FIELDS["widget"] = {"message", "session_id", "key"}
_CUSTOMER_FIELDS = {"name", "phone", "email"}


@dataclass(frozen=True)
class Customer:
    """What a visitor told the business's site about themselves."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    message: str
    session_id: str | None = None
    customer: Customer | None = None


def new_session_id() -> str:
    """A fresh, unguessable conversation id (`s_` and 24 URL-safe characters)."""
    return "s_" + secrets.token_urlsafe(18)


def parse_chat_request(payload: dict[str, Any], channel: ChatChannel) -> ChatRequest:
    """Validate the JSON body of a chat or widget turn; 400 names the bad field."""
    unknown = sorted(set(payload) - _REQUEST_FIELDS[channel])
    if unknown:
        allowed = ", ".join(sorted(_REQUEST_FIELDS[channel]))
        raise errors.BadRequest(
            f"Unknown field {unknown[0]!r}: the body takes {allowed}",
            reason=f"unknown field {unknown[0]}",
        )

    message = _message(payload.get("message"))
    session_id = _session_id(payload.get("session_id"))
    customer = None
    if channel == "chat" and payload.get("customer") is not None:
        customer = _customer(payload["customer"])
    return ChatRequest(message=message, session_id=session_id, customer=customer)


def _message(raw: object) -> str:
    if not isinstance(raw, str):
        raise errors.BadRequest(
            "'message' is required and must be a string",
            code="invalid_message",
        )
    message = raw.strip()
    if not message:
        raise errors.BadRequest(
            "'message' is empty: send the visitor's words", code="invalid_message"
        )
    if len(message) > MAX_MESSAGE_CHARS:
        raise errors.BadRequest(
            f"'message' has {len(message)} characters; the limit is "
            f"{MAX_MESSAGE_CHARS}",
            code="invalid_message",
        )
    return message


def _session_id(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not SESSION_ID_PATTERN.match(raw):
        raise errors.BadRequest(
            "'session_id' must be 8 to 64 letters, digits, '_' or '-': send back "
            "the one a reply gave you, or leave it out to start a conversation",
            code="invalid_session_id",
        )
    return raw


def _customer(raw: object) -> Customer:
    if not isinstance(raw, dict):
        raise errors.BadRequest(
            "'customer' must be an object with name, phone and email",
            code="invalid_customer",
        )
    unknown = sorted(set(raw) - _CUSTOMER_FIELDS)
    if unknown:
        raise errors.BadRequest(
            f"Unknown customer field {unknown[0]!r}: use name, phone or email",
            code="invalid_customer",
        )

    name = _optional_text(raw.get("name"), "customer.name", MAX_NAME_CHARS)
    phone = _optional_text(raw.get("phone"), "customer.phone", 16)
    if phone is not None and not E164_PATTERN.match(phone):
        raise errors.BadRequest(
            "'customer.phone' must be in E.164 form, such as +15551234567",
            code="invalid_customer",
        )
    email = _optional_text(raw.get("email"), "customer.email", MAX_EMAIL_CHARS)
    if email is not None and not EMAIL_PATTERN.match(email):
        raise errors.BadRequest(
            "'customer.email' is not an email address, such as name@example.com",
            code="invalid_customer",
        )
    return Customer(name=name, phone=phone, email=email)


def _optional_text(raw: object, name: str, limit: int) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip() or len(raw.strip()) > limit:
        raise errors.BadRequest(
            f"'{name}' must be a non-empty string of at most {limit} characters",
            code="invalid_customer",
        )
    return raw.strip()
