"""Ordering of Twilio's message delivery statuses.

Status callbacks arrive out of order. A status replaces the one recorded
only when it is further along, so a late `sent` never overwrites
`delivered`; among final statuses the first one recorded stays.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from common import context, errors, twiml
from common.logs import get_logger
from common.store import get_store

log = get_logger(__name__)

STATUSES = "sms_status"
STATUS_TTL_SECONDS = 30 * 24 * 3600

_RANK = {
    "accepted": 0,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "receiving": 4,
    "received": 5,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "partially_delivered": 5,
    "read": 6,
}
FINAL = frozenset(status for status, rank in _RANK.items() if rank >= 5)


def is_known(status: str) -> bool:
    return status in _RANK


def supersedes(new: str, current: str | None) -> bool:
    """Whether `new` should replace the recorded `current` status."""
    if current is None:
        return True
    return _RANK.get(new, -1) > _RANK.get(current, -1)


def record(form: Mapping[str, str]) -> str:
    """Keep the furthest status Twilio reported for an outbound message."""
    message_sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    context.update(message_sid=message_sid)
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip()
    if not message_sid or not status:
        raise errors.BadRequest(
            "MessageSid and MessageStatus are required in a status callback",
            code="missing_parameter",
            reason="status callback without MessageSid or MessageStatus",
        )
    _bind_business(form.get("From") or "")

    store = get_store()
    current = store.get_document(STATUSES, message_sid) or {}
    previous = current.get("status")
    applied = is_known(status) and supersedes(status, previous)
    if applied:
        error_code = (form.get("ErrorCode") or "").strip() or None
        document = {"status": status, "error_code": error_code, "at": time.time()}
        store.put_document(STATUSES, message_sid, document, STATUS_TTL_SECONDS)
    outcome = "recorded" if applied else f"kept {previous}"
    log.info(
        "sms_status",
        f"Delivery status {status}: {outcome}",
        status=status,
        previous=previous or "-",
        applied=applied,
        error_code=(form.get("ErrorCode") or "").strip() or "-",
    )
    return twiml.empty()


def status_of(message_sid: str) -> str | None:
    """The furthest status recorded for `message_sid`."""
    document = get_store().get_document(STATUSES, message_sid)
    return None if document is None else str(document["status"])


def _bind_business(sender: str) -> None:
    """Status callbacks come from the business's own number (`From`)."""
    number = sender.strip()
    business = get_store().business_for_number(number) if number else None
    if business is not None:
        context.update(business_id=business.business_id)
