from __future__ import annotations

from typing import Any

import pytest

from common import errors
from common.chat import Customer, new_session_id, parse_chat_request


def test_message_is_trimmed_and_session_and_customer_kept() -> None:
    request = parse_chat_request(
        {
            "message": "  What are your hours?  ",
            "session_id": "abc_DEF-123",
            "customer": {"name": " Ada ", "phone": "+15551234567"},
        },
        "chat",
    )

    assert request.message == "What are your hours?"
    assert request.session_id == "abc_DEF-123"
    assert request.customer == Customer(name="Ada", phone="+15551234567")


def test_new_session_ids_are_unique_and_valid_when_sent_back() -> None:
    first, second = new_session_id(), new_session_id()

    assert first != second
    assert parse_chat_request({"message": "hi", "session_id": first}, "chat")


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "invalid_message"),
        ({"message": 5}, "invalid_message"),
        ({"message": "   "}, "invalid_message"),
        ({"message": "x" * 2001}, "invalid_message"),
        ({"message": "hi", "session_id": "short"}, "invalid_session_id"),
        ({"message": "hi", "session_id": "has space in it"}, "invalid_session_id"),
        ({"message": "hi", "session_id": 12345678}, "invalid_session_id"),
        ({"message": "hi", "customer": "Ada"}, "invalid_customer"),
        ({"message": "hi", "customer": {"phone": "555-1234"}}, "invalid_customer"),
        ({"message": "hi", "customer": {"phone": "+1555"}}, "invalid_customer"),
        ({"message": "hi", "customer": {"email": "not-an-email"}}, "invalid_customer"),
        ({"message": "hi", "customer": {"name": ""}}, "invalid_customer"),
        ({"message": "hi", "customer": {"age": 3}}, "invalid_customer"),
        ({"message": "hi", "extra": True}, "invalid_request"),
    ],
)
def test_invalid_chat_body_is_refused_with_a_stable_code(
    payload: dict[str, Any], code: str
) -> None:
    with pytest.raises(errors.BadRequest) as refused:
        parse_chat_request(payload, "chat")

    assert refused.value.code == code


def test_message_of_exactly_the_limit_is_accepted_after_trimming() -> None:
    request = parse_chat_request({"message": " " + "x" * 2000 + " "}, "chat")

    assert len(request.message) == 2000


def test_widget_body_takes_a_key_but_no_customer() -> None:
    assert parse_chat_request({"message": "hi", "key": "pk_live_x"}, "widget")
    with pytest.raises(errors.BadRequest):
        parse_chat_request({"message": "hi", "customer": {}}, "widget")
