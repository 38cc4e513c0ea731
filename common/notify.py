"""Telling a business owner what happened: a message, a missed transfer, a lead.

In production (`TWILIO_ACCOUNT_SID` set, `ENVIRONMENT` staging or prod) each
owner contact gets an SMS through Twilio's REST API, from the business's own
number (or `TWILIO_FROM_NUMBER`), with a few retries when Twilio or the
network is having a moment. Elsewhere the notification is written to the
local outbox (`owner-notifications.jsonl`). Either way `owner_notified` is
logged; a notification that still cannot be sent logs `notification_failed`
with what was lost, and the request that caused it carries on.

Sending happens inside the request that caused it, so it is bounded: never
longer than `TOTAL_SEND_SECONDS`, and never past the `deadline` the caller
passes (when it must have answered). Each HTTP attempt's timeout is cut to
what is left. A live phone call never waits for it: the voice webhooks keep
their notifications until the call has ended (`common.voice.calls`).
"""

from __future__ import annotations

import functools
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from common import outbox
from common.alerts import detect
from common.logs import get_logger, mask_phone
from common.settings import Settings, get_settings
from common.store import Business

log = get_logger(__name__)

OUTBOX_CHANNEL = "owner-notifications"
MAX_ATTEMPTS = 3
# First wait between attempts, doubled each time.
RETRY_WAIT_SECONDS = 0.5
SEND_TIMEOUT_SECONDS = 4.0
# All attempts to all contacts together, well inside Twilio's 15 s webhook limit
# when a notification is sent while answering a webhook.
TOTAL_SEND_SECONDS = 8.0
# What a turn that may notify the owner keeps of its deadline for sending.
SEND_RESERVE_SECONDS = 2.0
# Twilio refuses bodies longer than this.
MAX_SMS_CHARS = 1600

# When the send in progress must be over (a `time.monotonic()` instant).
_give_up_at: ContextVar[float | None] = ContextVar("notify_give_up_at", default=None)


@dataclass(frozen=True)
class _Failure:
    """Why one destination could not be reached, in the log's words."""

    reason: str
    status: int | None = None
    code: int | None = None


def notify_owner(
    business: Business,
    kind: str,
    text: str,
    *,
    details: dict[str, Any] | None = None,
    deadline: float | None = None,
) -> bool:
    """Send `text` to every owner contact; True when each one got it.

    `kind` names what happened (`message_taken`, `missed_transfer`,
    `new_lead`, `billing`); `details` travel with the outbox record.
    `deadline`, a `time.monotonic()` instant, is when the caller must have
    answered: sending gives up by then. Never raises: a failure is logged
    as `notification_failed`.
    """
    settings = get_settings()
    contacts = [contact for contact in business.owner_contacts if contact]
    if not contacts:
        log.warning(
            "owner_notification_skipped",
            "the business has no owner contact to notify; add one to its profile",
            kind=kind,
            reason="no_owner_contacts",
        )
        return False

    if not _sends_for_real(settings):
        outbox.write(
            OUTBOX_CHANNEL,
            {
                "kind": kind,
                "business_id": business.business_id,
                "business_name": business.name,
                "to": contacts,
                "text": text,
                "details": details or {},
            },
        )
        log.info("owner_notified", kind=kind, via="outbox", destinations=len(contacts))
        return True

    sender = _sender(settings, business)
    give_up_at = time.monotonic() + TOTAL_SEND_SECONDS
    if deadline is not None:
        give_up_at = min(give_up_at, deadline)
    results = [_send(settings, kind, text, to, sender, give_up_at) for to in contacts]
    return all(results)


def _sends_for_real(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid) and settings.environment not in (
        "dev",
        "test",
    )


def _sender(settings: Settings, business: Business) -> str | None:
    """The business's first number, else `TWILIO_FROM_NUMBER`."""
    from common.store import get_store

    try:
        numbers = get_store().numbers_for(business.business_id)
    except Exception:
        log.exception(
            "owner_notification_sender_lookup_failed",
            "the business's numbers could not be read; trying TWILIO_FROM_NUMBER",
        )
        numbers = []
    return numbers[0] if numbers else settings.twilio_from_number


def _send(
    settings: Settings,
    kind: str,
    text: str,
    to: str,
    sender: str | None,
    give_up_at: float,
) -> bool:
    body = text if len(text) <= MAX_SMS_CHARS else text[: MAX_SMS_CHARS - 3] + "..."
    if sender is None:
        return _failed(kind, to, text, _Failure("no_from_number"))
    seconds_left = give_up_at - time.monotonic()
    if seconds_left <= 0:
        return _failed(kind, to, text, _Failure("out_of_time"))
    try:
        sid, attempts = _send_with_retries(settings, to, sender, body, seconds_left)
    except Exception as exc:
        return _failed(kind, to, text, _failure(exc))

    log.info(
        "owner_notified",
        kind=kind,
        via="twilio",
        destination=mask_phone(to),
        notification_sid=sid,
        attempts=attempts,
    )
    return True


def _failed(kind: str, to: str, text: str, failure: _Failure) -> bool:
    log.error(
        "notification_failed",
        "an owner notification could not be sent; the owner did not get it",
        kind=kind,
        channel="sms",
        destination=mask_phone(to),
        reason=failure.reason,
        status=failure.status,
        error_code=failure.code,
        lost_chars=len(text),
    )
    detect.record_event(
        "notification_failed",
        kind=kind,
        destination=mask_phone(to),
        reason=failure.reason,
    )
    return False


def _send_with_retries(
    settings: Settings, to: str, sender: str, body: str, seconds: float
) -> tuple[str, int]:
    """The Twilio message sid and the attempts it took; raises the last error."""
    from tenacity import (
        Retrying,
        retry_if_exception,
        stop_after_attempt,
        stop_after_delay,
        wait_exponential,
    )

    retrying = Retrying(
        stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(seconds),
        wait=wait_exponential(multiplier=RETRY_WAIT_SECONDS, max=8),
        retry=retry_if_exception(_retryable),
        reraise=True,
    )
    attempts = 0
    bound = _give_up_at.set(time.monotonic() + seconds)
    try:
        for attempt in retrying:
            with attempt:
                attempts += 1
                sid = _create_message(settings, to, sender, body)
    finally:
        _give_up_at.reset(bound)
    return sid, attempts


def _create_message(settings: Settings, to: str, sender: str, body: str) -> str:
    client = _client(settings.twilio_account_sid or "", settings.twilio_auth_token)
    message = client.messages.create(to=to, from_=sender, body=body)
    return str(message.sid)


@functools.lru_cache(maxsize=2)
def _client(account_sid: str, auth_token: str | None) -> Any:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    class BoundedHttpClient(TwilioHttpClient):  # type: ignore[misc]
        """Each request's timeout cut to the time the send has left."""

        def request(self, *args: Any, timeout: float | None = None, **kw: Any) -> Any:
            timeout = _attempt_timeout(timeout or self.timeout)
            return super().request(*args, timeout=timeout, **kw)

    # The library narrates every request at INFO; our own lines say what matters.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    http_client = BoundedHttpClient(timeout=SEND_TIMEOUT_SECONDS)
    return Client(account_sid, auth_token, http_client=http_client)


def _attempt_timeout(timeout: float) -> float:
    """`timeout`, cut to what is left before the send must give up."""
    give_up_at = _give_up_at.get()
    if give_up_at is None:
        return timeout
    # Twilio's client refuses a timeout of zero; a tenth of a second fails fast.
    return max(min(timeout, give_up_at - time.monotonic()), 0.1)


def _retryable(exc: BaseException) -> bool:
    """Twilio's 5xx and 429 and network failures may pass; a 4xx will not."""
    import requests
    from twilio.base.exceptions import TwilioRestException

    if isinstance(exc, TwilioRestException):
        status = int(exc.status)
        return status >= 500 or status == 429
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))


def _failure(exc: BaseException) -> _Failure:
    import requests
    from twilio.base.exceptions import TwilioRestException

    if isinstance(exc, TwilioRestException):
        code = exc.code if isinstance(exc.code, int) else None
        reason = "recipient_opted_out" if code == 21610 else f"http_{exc.status}"
        return _Failure(reason, int(exc.status), code)
    if isinstance(exc, requests.Timeout):
        return _Failure("timeout")
    if isinstance(exc, requests.ConnectionError):
        return _Failure("connection_error")
    return _Failure(type(exc).__name__)
