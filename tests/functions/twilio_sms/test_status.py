from __future__ import annotations

from collections.abc import Callable

import pytest

from common.sms.delivery import status_of
from tests.functions.conftest import BAKERY_NUMBER, Line, parse

Start = Callable[..., Line]
MESSAGE_SID = "SM7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f"


def report(line: Line, status: str | None) -> int:
    response = line.post(
        "/twilio/sms/status",
        "sms-status",
        MessageStatus=status,
        SmsStatus=status,
        From=BAKERY_NUMBER,
    )
    parse(response)
    return response.status_code


@pytest.mark.parametrize(
    ("arrivals", "kept"),
    [
        (["queued", "sending", "sent", "delivered"], "delivered"),
        (["delivered", "sent"], "delivered"),
        (["sent", "queued", "sending"], "sent"),
        (["undelivered", "sent"], "undelivered"),
        (["failed", "delivered"], "failed"),
        (["delivered", "read"], "read"),
    ],
)
def test_the_furthest_delivery_status_is_kept_whatever_the_order(
    line: Start, arrivals: list[str], kept: str
) -> None:
    started = line()

    codes = [report(started, status) for status in arrivals]

    assert set(codes) == {200}
    assert status_of(MESSAGE_SID) == kept


def test_a_late_sent_is_logged_as_not_applied(line: Start) -> None:
    started = line()

    report(started, "delivered")
    report(started, "sent")

    late = started.logs.events("sms_status")[-1]
    assert late["applied"] is False
    assert late["previous"] == "delivered"
    assert late["message_sid"] == MESSAGE_SID
    assert late["business_id"] == "biz-corner-bakery"


def test_an_unknown_status_is_logged_and_changes_nothing(line: Start) -> None:
    started = line()
    report(started, "sent")

    code = report(started, "teleported")

    assert code == 200
    assert status_of(MESSAGE_SID) == "sent"


def test_a_status_callback_without_a_status_gets_twiml_and_a_log_line(
    line: Start,
) -> None:
    started = line()

    code = report(started, None)

    assert code == 400
    assert started.logs.one("request_rejected")["code"] == "missing_parameter"
