from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.assistant import respond
from common.assistant.hours import describe_week, local_now, open_status, spoken_time
from tests.common.assistant.businesses import barbershop, bare_bakery


def open_now(business_now: datetime, time_zone: str = "America/New_York") -> str:
    business = barbershop(time_zone=time_zone)
    return respond(
        business, "sms", [], "Are you open right now?", now=business_now
    ).text


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        # Wednesday 10:00 in New York.
        (datetime(2026, 3, 4, 15, 0, tzinfo=UTC), "Yes, we're open now until 5 PM."),
        # Wednesday 18:00: closed for the night.
        (
            datetime(2026, 3, 4, 23, 0, tzinfo=UTC),
            "We're closed right now. We open again tomorrow at 9 AM.",
        ),
        # Thursday 07:30: later the same day.
        (
            datetime(2026, 3, 5, 12, 30, tzinfo=UTC),
            "We're closed right now. We open again today at 9 AM.",
        ),
        # Saturday 15:00, closed Sunday: Monday is next.
        (
            datetime(2026, 3, 7, 20, 0, tzinfo=UTC),
            "We're closed right now. We open again on Monday at 9 AM.",
        ),
        # Friday 19:00 local, open late.
        (
            datetime(2026, 3, 7, 0, 0, tzinfo=UTC),
            "Yes, we're open now until 7:30 PM.",
        ),
    ],
)
def test_open_now_is_judged_in_the_business_time_zone(
    utc: datetime, expected: str
) -> None:
    assert open_now(utc) == expected


def test_same_moment_is_open_in_one_zone_and_closed_in_another() -> None:
    moment = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)

    assert open_now(moment, "America/New_York").startswith("Yes")
    assert open_now(moment, "Asia/Tokyo").startswith("We're closed")


def test_open_now_follows_daylight_saving_time() -> None:
    # 13:30 UTC is 08:30 in New York in winter and 09:30 in summer.
    assert open_now(datetime(2026, 1, 14, 13, 30, tzinfo=UTC)).startswith("We're")
    assert open_now(datetime(2026, 7, 15, 13, 30, tzinfo=UTC)).startswith("Yes")


def test_span_past_midnight_keeps_the_business_open_after_midnight() -> None:
    hours = {"friday": [["18:00", "02:00"]]}
    saturday_one_am = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)

    status = open_status(hours, saturday_one_am)

    assert status.is_open
    assert status.closes_at == datetime(2026, 3, 7, 2, 0, tzinfo=UTC)


def test_business_without_hours_is_never_said_to_be_open() -> None:
    business = bare_bakery()
    business.opening_hours = {}

    reply = respond(business, "sms", [], "are you open now?")

    assert reply.text.startswith("I'm sorry, I don't have our opening hours")


def test_malformed_spans_are_ignored() -> None:
    hours = {"monday": [["9am", "5pm"], ["09:00"], ["10:00", "16:00"]], "funday": []}

    assert describe_week(hours) == ("Monday 10 AM to 4 PM; closed Tuesday to Sunday")


def test_unknown_time_zone_falls_back_to_utc() -> None:
    local = local_now("Mars/Olympus_Mons", datetime(2026, 3, 4, 15, 0, tzinfo=UTC))

    offset = local.utcoffset()
    assert offset is not None
    assert (local.hour, offset.total_seconds()) == (15, 0)


@pytest.mark.parametrize(
    ("minutes", "spoken"),
    [
        (540, "9 AM"),
        (1050, "5:30 PM"),
        (720, "noon"),
        (1440, "midnight"),
        (5, "12:05 AM"),
    ],
)
def test_times_are_spoken_the_way_people_say_them(minutes: int, spoken: str) -> None:
    assert spoken_time(minutes) == spoken
