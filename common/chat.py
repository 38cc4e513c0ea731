"""The chat channel: one visitor message in, the receptionist's reply out.

Shared by the JSON API (`POST /v1/chat`, a business's own server) and the
website widget. Both validate the same request, keep the conversation per
business and session in the store, answer through the assistant within
`CHAT_TURN_DEADLINE_MS`, and tell the owner when a visitor leaves contact
details or asks to be called back. The API and the widget keep separate
conversations (store channels `chat` and `widget`), so a browser can never
read a conversation the business's server started.

Telling the owner is part of the turn and of its deadline: a turn that may
be a lead keeps `notify.SEND_RESERVE_SECONDS` of it back from the assistant,
and the send gives up when the turn's time is over.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from common import assistant, errors
from common.logs import get_logger
from common.notify import SEND_RESERVE_SECONDS, notify_owner
from common.phone import E164_FORM, is_e164
from common.settings import get_settings
from common.store import Business, Turn, get_store

log = get_logger(__name__)

ChatChannel = Literal["chat", "widget"]

MAX_MESSAGE_CHARS = 2000
MAX_NAME_CHARS = 100
MAX_EMAIL_CHARS = 254
MAX_KEY_CHARS = 128
SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Contact details written into a message ("call me on 555 123 4567").
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d ().-]{5,}\d")
MIN_PHONE_DIGITS = 7
# What the assistant makes of free text (not a question it recognises).
_MESSAGE_INTENTS = frozenset({"knowledge", "unknown"})
MESSAGE_PASSED_ON = (
    "Thanks, I've passed your message on to {name}. "
    "Is there anything else I can help you with?"
)

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
    key = payload.get("key")
    if key is not None and (not isinstance(key, str) or len(key) > MAX_KEY_CHARS):
        raise errors.BadRequest(
            f"'key' must be the widget's publishable key, a string of at most "
            f"{MAX_KEY_CHARS} characters",
            reason="malformed widget key field",
        )
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
    if phone is not None and not is_e164(phone):
        raise errors.BadRequest(
            f"'customer.phone' must be in E.164 form: {E164_FORM}",
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


@dataclass(frozen=True)
class ChatAnswer:
    """What the API and the widget send back."""

    reply: str
    session_id: str
    action: str

    def as_json(self) -> dict[str, str]:
        return {
            "reply": self.reply,
            "session_id": self.session_id,
            "action": self.action,
        }


def converse(
    business: Business,
    channel: ChatChannel,
    chat_request: ChatRequest,
    *,
    now: datetime | None = None,
) -> ChatAnswer:
    """Answer one visitor message, remember it, and tell the owner about a lead."""
    settings = get_settings()
    deadline = time.monotonic() + settings.chat_turn_deadline_ms / 1000
    store = get_store()
    session_id = chat_request.session_id or new_session_id()
    conversation = store.get_conversation(business.business_id, channel, session_id)
    previous_action = conversation.state.get("last_action")
    contacts = _contacts(chat_request)
    known = set(conversation.state.get("contacts_sent", []))
    may_be_lead = previous_action == "take_message" or bool(contacts - known)

    reply = assistant.respond(
        business,
        "chat",
        conversation.turns,
        chat_request.message,
        now=now,
        deadline_ms=_assistant_budget_ms(settings.chat_turn_deadline_ms, may_be_lead),
    )
    # After "tell me your name and your message", free text is that message.
    taken = previous_action == "take_message" and reply.intent in _MESSAGE_INTENTS
    if taken:
        reply_text = MESSAGE_PASSED_ON.format(name=business.name)
        action = "answer"
    else:
        reply_text, action = reply.text, reply.action

    at = time.time()
    conversation.turns.extend(
        [
            Turn(role="customer", text=chat_request.message, at=at),
            Turn(role="assistant", text=reply_text, at=at),
        ]
    )
    conversation.state["last_action"] = action
    conversation.state["contacts_sent"] = sorted(known | contacts)
    lead = "message" if taken else "contact_details" if contacts - known else None
    store.save_conversation(conversation, settings.conversation_max_turns)

    if lead is not None:
        _notify_lead(business, channel, session_id, chat_request, lead, deadline)
    log.info(
        "chat_turn_answered",
        channel=channel,
        new_session=chat_request.session_id is None,
        intent="message" if taken else reply.intent,
        action=action,
        source=reply.source,
        lead=lead or "-",
    )
    return ChatAnswer(reply=reply_text, session_id=session_id, action=action)


def _assistant_budget_ms(turn_deadline_ms: int, may_be_lead: bool) -> int:
    """The assistant's share of the turn: all of it, unless the owner may be told.

    A lead is a message the visitor leaves after the receptionist offered
    to take one, or contact details not passed on yet; its notification is
    sent within the same turn deadline.
    """
    if not may_be_lead:
        return turn_deadline_ms
    reserve_ms = int(SEND_RESERVE_SECONDS * 1000)
    return max(turn_deadline_ms - reserve_ms, turn_deadline_ms // 2)


def _contacts(chat_request: ChatRequest) -> set[str]:
    """Phone numbers and emails the visitor gave, in the body or the message."""
    found: set[str] = set()
    customer = chat_request.customer
    if customer is not None:
        found.update(value for value in (customer.phone, customer.email) if value)
    found.update(
        match.group(0) for match in _EMAIL_IN_TEXT.finditer(chat_request.message)
    )
    for match in _PHONE_IN_TEXT.finditer(chat_request.message):
        digits = re.sub(r"[^\d+]", "", match.group(0))
        if len(digits.lstrip("+")) >= MIN_PHONE_DIGITS:
            found.add(digits)
    return found


def _notify_lead(
    business: Business,
    channel: ChatChannel,
    session_id: str,
    chat_request: ChatRequest,
    lead: str,
    deadline: float,
) -> None:
    customer = chat_request.customer or Customer()
    source = "website chat" if channel == "widget" else "chat"
    who = customer.name or "A visitor"
    contact = ", ".join(v for v in (customer.phone, customer.email) if v)
    text = f"New lead from your {source}: {who}"
    text += f" ({contact})" if contact else ""
    text += f' wrote: "{_shorten(chat_request.message)}"'
    notify_owner(
        business,
        "new_lead",
        text,
        details={
            "channel": channel,
            "session_id": session_id,
            "reason": lead,
            "name": customer.name,
            "phone": customer.phone,
            "email": customer.email,
            "message": chat_request.message,
        },
        deadline=deadline,
    )


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
