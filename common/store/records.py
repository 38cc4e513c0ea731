"""Records as plain dicts, and the checks every backend applies on write.

Both backends keep a business as one document, so the translation and the
rules (known fields, a valid status, E.164 numbers, real time zones, opening
hours as `HH:MM` spans, widget origins in one spelling) live here once.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.store.base import (
    SERVICE_STATUSES,
    WEEKDAYS,
    Business,
    Delivery,
    KnowledgeEntry,
    StoreError,
    Turn,
)
from common.store.keys import check_business_id, check_e164
from common.store.origins import normalize_origins

BUSINESS_FIELDS = frozenset(field.name for field in dataclasses.fields(Business))
# Fields a caller may not change after creation.
FIXED_FIELDS = frozenset({"business_id", "created_at", "updated_at"})
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def business_to_dict(business: Business) -> dict[str, Any]:
    return dataclasses.asdict(business)


def business_from_dict(data: dict[str, Any]) -> Business:
    fields = {name: value for name, value in data.items() if name in BUSINESS_FIELDS}
    fields["knowledge"] = [knowledge_entry(item) for item in data.get("knowledge", [])]
    return Business(**fields)


def knowledge_entry(item: KnowledgeEntry | dict[str, Any]) -> KnowledgeEntry:
    if isinstance(item, KnowledgeEntry):
        return item
    if not isinstance(item, dict) or not isinstance(item.get("answer"), str):
        raise StoreError(
            f"knowledge entry {item!r} needs an 'answer' text, and optionally "
            "a 'question' and a 'topic'"
        )
    unknown = set(item) - {"answer", "question", "topic"}
    if unknown:
        raise StoreError(
            f"knowledge entry has unknown key(s) {sorted(unknown)}: use answer, "
            "question and topic"
        )
    for key in ("question", "topic"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise StoreError(
                f"knowledge entry {item!r} has a {key} that is not text: write "
                f"it as one line, e.g. {key}: Do you fix e-bikes?"
            )
    return KnowledgeEntry(
        answer=item["answer"], question=item.get("question"), topic=item.get("topic")
    )


def apply_changes(business: Business, changes: dict[str, Any], now: float) -> Business:
    """A copy of `business` with `changes` applied and checked."""
    unknown = sorted(set(changes) - BUSINESS_FIELDS)
    if unknown:
        raise StoreError(
            f"unknown business field(s) {unknown}; known fields: "
            + ", ".join(sorted(BUSINESS_FIELDS - FIXED_FIELDS))
        )
    fixed = sorted(set(changes) & FIXED_FIELDS)
    if fixed:
        raise StoreError(f"business field(s) {fixed} cannot be changed")

    updated = dataclasses.replace(business, **changes)
    updated.knowledge = [knowledge_entry(item) for item in updated.knowledge]
    updated.updated_at = now
    return check_business(updated)


def check_business(business: Business) -> Business:
    """Raise StoreError naming the first bad field; return the business.

    Allowed origins are normalised in place, so they are stored in the
    spelling browsers send.
    """
    check_business_id(business.business_id)
    if not business.name.strip():
        raise StoreError("a business needs a name")
    if business.status not in SERVICE_STATUSES:
        raise StoreError(
            f"status {business.status!r} is not valid: use one of "
            + ", ".join(SERVICE_STATUSES)
        )
    try:
        ZoneInfo(business.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise StoreError(
            f"time zone {business.time_zone!r} is not known: use an IANA name "
            "such as America/New_York"
        ) from exc
    if business.transfer_number is not None:
        check_e164(business.transfer_number)
    for contact in business.owner_contacts:
        check_e164(contact)
    business.allowed_origins = normalize_origins(business.allowed_origins)
    check_opening_hours(business.opening_hours)
    return business


def check_opening_hours(hours: dict[str, list[list[str]]]) -> None:
    for day, spans in hours.items():
        if day not in WEEKDAYS:
            raise StoreError(
                f"opening hours name {day!r}: use lower-case weekday names "
                "(monday ... sunday)"
            )
        for span in spans:
            valid = (
                isinstance(span, list | tuple)
                and len(span) == 2
                and all(isinstance(t, str) and _CLOCK.match(t) for t in span)
                and span[0] < span[1]
            )
            if not valid:
                raise StoreError(
                    f"opening hours for {day} hold {span!r}: write each span as "
                    '["09:00", "17:00"], opening before closing'
                )


def turns_to_list(turns: list[Turn]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(turn) for turn in turns]


def turns_from_list(items: list[dict[str, Any]]) -> list[Turn]:
    return [Turn(role=item["role"], text=item["text"], at=item["at"]) for item in items]


def delivery_to_dict(delivery: Delivery) -> dict[str, Any]:
    return dataclasses.asdict(delivery)


def delivery_from_dict(data: dict[str, Any]) -> Delivery:
    names = {field.name for field in dataclasses.fields(Delivery)}
    fields: dict[str, Any] = {name: data[name] for name in names if name in data}
    return Delivery(**fields)


# Deliveries are kept long enough to replay anything a provider still retries
# (Stripe retries for three days) and to audit the month.
DELIVERY_RETENTION_SECONDS = 30 * 24 * 3600


def counter_bucket(now: float, window_seconds: int) -> int:
    """The fixed window `now` falls in; windows start at multiples of the size."""
    return int(now // window_seconds)


def rolling_count(current: int, previous: int, now: float, window_seconds: int) -> int:
    """The count over the last `window_seconds`, estimated from two buckets.

    The current fixed window holds `current`; the one before holds
    `previous`, of which the part still inside the rolling window is taken
    in proportion to time (rounded down). So a burst at the end of one
    window still counts at the start of the next, and fades out over one
    window instead of vanishing at a boundary.
    """
    elapsed = now - counter_bucket(now, window_seconds) * window_seconds
    overlap = 1.0 - elapsed / window_seconds
    return current + int(previous * overlap)
