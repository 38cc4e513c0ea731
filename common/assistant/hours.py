"""Opening hours: the week in words, and whether the business is open now.

`Business.opening_hours` maps a lower-case weekday to `["HH:MM", "HH:MM"]`
spans in the business's own time zone. A span whose end is not after its
start runs past midnight into the next day (`["22:00", "02:00"]`); `24:00`
ends at midnight. Malformed spans are ignored rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.logs import get_logger
from common.store.base import WEEKDAYS

log = get_logger(__name__)

_MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Span:
    """Opening minutes counted from the day's midnight; `end` may pass 1440."""

    start: int
    end: int


@dataclass(frozen=True)
class OpenStatus:
    is_open: bool
    # When open: the local time it closes. When closed: the next opening.
    closes_at: datetime | None = None
    opens_at: datetime | None = None


def local_now(time_zone: str, now: datetime | None = None) -> datetime:
    """`now` (or the current time) in the business's zone; UTC if it is unknown."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning(
            "business_time_zone_unknown",
            "the business's time zone is not an IANA name; using UTC",
            time_zone=time_zone,
        )
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone)


def _minutes(raw: object) -> int | None:
    if not isinstance(raw, str) or ":" not in raw:
        return None
    hours, _, minutes = raw.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit()):
        return None
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > _MINUTES_PER_DAY:
        return None
    return value


def week(opening_hours: dict[str, list[list[str]]]) -> dict[str, list[Span]]:
    """Every weekday with its valid spans, sorted; closed days map to `[]`."""
    parsed: dict[str, list[Span]] = {}
    for day in WEEKDAYS:
        spans: list[Span] = []
        for raw in opening_hours.get(day) or []:
            if not isinstance(raw, (list, tuple)) or len(raw) != 2:
                continue
            start, end = _minutes(raw[0]), _minutes(raw[1])
            if start is None or end is None or start == _MINUTES_PER_DAY:
                continue
            if end <= start:
                end += _MINUTES_PER_DAY
            spans.append(Span(start, end))
        parsed[day] = sorted(spans, key=lambda span: span.start)
    return parsed


def has_hours(opening_hours: dict[str, list[list[str]]]) -> bool:
    return any(week(opening_hours).values())


def spoken_time(minutes: int) -> str:
    """`540` becomes `9 AM`, `1050` becomes `5:30 PM`, `1440` becomes `midnight`."""
    minutes %= _MINUTES_PER_DAY
    if minutes == 0:
        return "midnight"
    if minutes == 12 * 60:
        return "noon"
    hour, minute = divmod(minutes, 60)
    suffix = "AM" if hour < 12 else "PM"
    hour = hour % 12 or 12
    return f"{hour} {suffix}" if minute == 0 else f"{hour}:{minute:02d} {suffix}"


def _spans_in_words(spans: list[Span]) -> str:
    return " and ".join(
        f"{spoken_time(span.start)} to {spoken_time(span.end)}" for span in spans
    )


def _days_in_words(days: list[str]) -> str:
    names = [day.capitalize() for day in days]
    if len(names) >= 3 and _consecutive(days):
        return f"{names[0]} to {names[-1]}"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _consecutive(days: list[str]) -> bool:
    indexes = [WEEKDAYS.index(day) for day in days]
    return indexes == list(range(indexes[0], indexes[0] + len(indexes)))


def describe_week(opening_hours: dict[str, list[list[str]]]) -> str | None:
    """`Monday to Friday 9 AM to 5 PM, Saturday 10 AM to 2 PM; closed Sunday`."""
    parsed = week(opening_hours)
    if not any(parsed.values()):
        return None

    groups: list[tuple[list[str], list[Span]]] = []
    for day in WEEKDAYS:
        spans = parsed[day]
        if not spans:
            continue
        if groups and groups[-1][1] == spans and _follows(groups[-1][0][-1], day):
            groups[-1][0].append(day)
        else:
            groups.append(([day], spans))

    open_parts = [
        f"{_days_in_words(days)} {_spans_in_words(spans)}" for days, spans in groups
    ]
    closed = [day for day in WEEKDAYS if not parsed[day]]
    text = ", ".join(open_parts)
    if closed:
        text += f"; closed {_days_in_words(closed)}"
    return text


def _follows(previous: str, day: str) -> bool:
    return WEEKDAYS.index(day) == WEEKDAYS.index(previous) + 1


def describe_day(opening_hours: dict[str, list[list[str]]], day: str) -> str:
    """`On Saturday we're open 10 AM to 2 PM.` or `We're closed on Sunday.`"""
    spans = week(opening_hours)[day]
    if not spans:
        return f"We're closed on {day.capitalize()}."
    return f"On {day.capitalize()} we're open {_spans_in_words(spans)}."


def open_status(
    opening_hours: dict[str, list[list[str]]], local: datetime
) -> OpenStatus:
    """Whether the business is open at `local`, and until when or from when."""
    parsed = week(opening_hours)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    minute = local.hour * 60 + local.minute
    today = local.weekday()

    # A span that began yesterday may still be running after midnight.
    for offset in (0, -1):
        day = WEEKDAYS[(today + offset) % 7]
        shifted = minute - offset * _MINUTES_PER_DAY
        for span in parsed[day]:
            if span.start <= shifted < span.end:
                base = midnight + timedelta(days=offset)
                return OpenStatus(True, closes_at=base + timedelta(minutes=span.end))

    for offset in range(8):
        day = WEEKDAYS[(today + offset) % 7]
        for span in parsed[day]:
            if offset > 0 or span.start > minute:
                base = midnight + timedelta(days=offset)
                return OpenStatus(False, opens_at=base + timedelta(minutes=span.start))
    return OpenStatus(False)


def relative_day(moment: datetime, local: datetime) -> str:
    """`today`, `tomorrow` or `on Monday`, seen from `local`."""
    days = (moment.date() - local.date()).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"on {WEEKDAYS[moment.weekday()].capitalize()}"
