from __future__ import annotations

from collections.abc import Callable

import pytest
import responses

from common import twiml
from common.sms import inbound
from common.store import get_store
from tests.builders import DEV_TWILIO_TOKEN
from tests.functions.conftest import BAKERY_NUMBER, CUSTOMER, Line, bakery, parse

Start = Callable[..., Line]
ACCOUNT_SID = "AC" + "0" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def text(line: Line, body: str, message_sid: str = "", **fields: str | None) -> str:
    """Send `body` as the customer; the reply text, or "" when none is sent."""
    message_sid = message_sid or sid(1)
    changes: dict[str, str | None] = {
        "Body": body,
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "To": BAKERY_NUMBER,
        **fields,
    }
    response = line.post("/twilio/sms", "sms-inbound", **changes)
    assert response.status_code == 200
    messages = parse(response).findall("Message")
    assert len(messages) <= 1
    return (messages[0].text or "") if messages else ""


def sid(number: int) -> str:
    return f"SM{number:032d}"


def test_a_question_gets_an_answer_from_the_knowledge_base(line: Start) -> None:
    started = line()

    reply = text(started, "What are your opening hours?")

    assert "7 AM to 6 PM" in reply
    replied = started.logs.one("sms_replied")
    assert replied["business_id"] == "biz-corner-bakery"
    assert replied["message_sid"] == sid(1)
    assert replied["segments"] == 1
    assert "7am" not in str(started.logs.lines)  # texts stay out of the logs


def test_a_retried_message_gets_the_same_reply_and_is_answered_once(
    line: Start,
) -> None:
    started = line()

    first = text(started, "What are your opening hours?")
    again = text(started, "What are your opening hours?")

    assert first == again
    assert len(started.logs.events("sms_replied")) == 1
    assert started.logs.one("sms_duplicate")["replayed"] is True
    conversation = get_store().get_conversation("biz-corner-bakery", "sms", CUSTOMER)
    assert len(conversation.turns) == 2


def test_a_duplicate_arriving_while_the_first_is_answered_sends_nothing_twice(
    line: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = line()
    monkeypatch.setattr(inbound, "DUPLICATE_WAIT_SECONDS", 0.1)
    get_store().claim("twilio_sms", sid(1), ttl_seconds=3600)

    reply = text(started, "What are your opening hours?")

    assert reply == ""
    assert started.logs.events("sms_replied") == []
    assert started.logs.one("sms_duplicate")["replayed"] is False


def test_a_duplicate_waits_for_the_first_reply_and_sends_the_same(
    line: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = line()
    store = get_store()
    store.claim("twilio_sms", sid(1), ttl_seconds=3600)

    def first_delivery_finishes(seconds: float) -> None:
        reply = twiml.message("We open at 7.")
        store.complete_claim("twilio_sms", sid(1), {"twiml": reply})

    monkeypatch.setattr(inbound.time, "sleep", first_delivery_finishes)

    reply = text(started, "What are your opening hours?")

    assert reply == "We open at 7."
    assert started.logs.events("sms_replied") == []
    assert started.logs.one("sms_duplicate")["replayed"] is True


@pytest.mark.parametrize(
    "keyword",
    [
        "STOP",
        " stop ",
        "Stop",
        "STOPALL",
        "unsubscribe",
        "Cancel",
        "END",
        "quit",
        "REVOKE",
        "optout",
        "\tSTOP\n",
        "\uff33\uff34\uff2f\uff30",  # full-width letters,
    ],
)
def test_an_opt_out_keyword_gets_no_reply_and_silences_later_replies(
    line: Start, keyword: str
) -> None:
    started = line()

    opted_out = text(started, keyword, sid(1))
    later = text(started, "What are your opening hours?", sid(2))

    assert opted_out == ""
    assert later == ""
    assert started.logs.one("sms_opt_out")["business_id"] == "biz-corner-bakery"
    assert started.logs.one("sms_suppressed")["reason"] == "opted_out"


@pytest.mark.parametrize("keyword", ["START", "yes", " Unstop "])
def test_an_opt_in_keyword_brings_replies_back(line: Start, keyword: str) -> None:
    started = line()
    text(started, "STOP", sid(1))

    opted_in = text(started, keyword, sid(2))
    later = text(started, "What are your opening hours?", sid(3))

    assert opted_in == ""
    assert "7 AM to 6 PM" in later
    assert len(started.logs.events("sms_opt_in")) == 1


def test_a_sentence_containing_stop_is_an_ordinary_message(line: Start) -> None:
    started = line()

    reply = text(started, "Please don't stop baking the rye bread", sid(1))
    later = text(started, "What are your opening hours?", sid(2))

    assert reply != ""
    assert "7 AM to 6 PM" in later
    assert started.logs.events("sms_opt_out") == []


@pytest.mark.parametrize("keyword", ["HELP", " info "])
def test_help_gets_the_business_help_text(line: Start, keyword: str) -> None:
    started = line(bakery(help_text="Corner Bakery: ask us anything. STOP to end."))

    reply = text(started, keyword)

    assert reply == "Corner Bakery: ask us anything. STOP to end."
    assert len(started.logs.events("sms_help")) == 1


def test_help_without_a_help_text_names_the_business_and_stop(line: Start) -> None:
    started = line()

    reply = text(started, "help")

    assert "Corner Bakery" in reply
    assert "STOP" in reply


def test_a_picture_message_is_acknowledged_and_logged_without_its_urls(
    line: Start,
) -> None:
    started = line()

    response = started.post("/twilio/sms", "sms-inbound-mms", To=BAKERY_NUMBER)

    reply = parse(response).findtext("Message") or ""
    assert "2 attachments" in reply
    received = started.logs.one("sms_received")
    assert received["media_count"] == 2
    assert received["media_types"] == ["image/jpeg", "application/pdf"]
    assert "api.twilio.com" not in str(started.logs.lines)


@pytest.mark.parametrize(
    ("num_media", "media", "note"),
    [
        ("99999", {}, None),
        ("abc", {}, None),
        ("-1", {}, None),
        ("abc", {"MediaUrl0": "https://media.example/1"}, "Thanks, we received your"),
        ("5", {"MediaUrl0": "https://media.example/1"}, "Thanks, we received your"),
    ],
)
def test_a_media_count_that_is_wrong_counts_the_urls_and_is_logged(
    line: Start, num_media: str, media: dict[str, str], note: str | None
) -> None:
    started = line()

    reply = text(started, "", NumMedia=num_media, **media)

    received = started.logs.one("sms_received")
    assert received["media_count"] == len(media)
    assert received["media_types"] == ["unknown"] * len(media)
    bad_input = started.logs.one("sms_bad_input")
    assert (bad_input["num_media"], bad_input["media_count"]) == (num_media, len(media))
    assert bad_input["severity"] == "WARNING"
    if note is None:
        assert "attachment" not in reply
    else:
        assert reply.startswith(note)


def test_a_media_count_that_matches_the_urls_logs_nothing_odd(line: Start) -> None:
    started = line()

    started.post("/twilio/sms", "sms-inbound-mms", To=BAKERY_NUMBER)

    assert started.logs.events("sms_bad_input") == []


def test_a_reply_is_escaped_and_stays_well_formed(line: Start) -> None:
    started = line(bakery(name="Bread & <Butter>", help_text=None))

    response = started.post("/twilio/sms", "sms-inbound", To=BAKERY_NUMBER, Body="HELP")

    assert b"Bread &amp; &lt;Butter&gt;" in response.get_data()
    assert "Bread & <Butter>" in (parse(response).findtext("Message") or "")


def test_a_long_reply_is_cut_to_the_configured_segments(line: Start) -> None:
    long_help = "Fresh bread daily. " * 40
    started = line(bakery(help_text=long_help), SMS_MAX_SEGMENTS="2")

    reply = text(started, "HELP")

    assert reply.endswith("...")
    assert len(reply) <= 2 * 153
    replied = started.logs.one("sms_replied")
    assert replied["segments"] == 2
    assert replied["truncated"] is True


def test_the_conversation_is_remembered_per_customer(line: Start) -> None:
    started = line()

    text(started, "What are your opening hours?", sid(1))
    text(started, "Do you bake gluten-free bread?", sid(2))
    text(started, "What are your opening hours?", sid(3), From="+15551230099")

    store = get_store()
    mine = store.get_conversation("biz-corner-bakery", "sms", CUSTOMER)
    theirs = store.get_conversation("biz-corner-bakery", "sms", "+15551230099")
    assert [turn.role for turn in mine.turns] == ["customer", "assistant"] * 2
    assert mine.turns[2].text == "Do you bake gluten-free bread?"
    assert len(theirs.turns) == 2


def test_a_reply_loop_with_another_machine_is_capped(line: Start) -> None:
    started = line()
    limit = inbound.LOOP_REPLY_LIMIT

    replies = [
        text(started, f"Automatic reply number {n}", sid(n))
        for n in range(1, limit + 4)
    ]

    assert all(replies[:limit])
    assert replies[limit:] == ["", "", ""]
    capped = started.logs.one("sms_reply_loop_capped")
    assert capped["limit"] == limit


def test_a_suspended_business_sends_its_notice_once_per_customer(
    line: Start,
) -> None:
    started = line(bakery(status="suspended"))

    first = text(started, "What are your opening hours?", sid(1))
    second = text(started, "Hello?", sid(2))
    other = text(started, "Hi", sid(3), From="+15551230099")

    assert "Corner Bakery" in first
    assert second == ""
    assert other == first
    assert len(started.logs.events("sms_suspended_notice")) == 2


def test_an_unknown_number_gets_a_polite_not_in_service_reply(line: Start) -> None:
    started = line()

    reply = text(started, "Hello", To="+15005550099")

    assert "not in service" in reply
    unknown = started.logs.one("tenant_unresolved")
    assert unknown["business_id"] == "-"
    assert unknown["to"] == "+1******0099"


@pytest.mark.parametrize("missing", ["MessageSid", "From", "To"])
def test_a_webhook_missing_a_required_field_gets_twiml_and_a_log_line(
    line: Start, missing: str
) -> None:
    started = line()
    fields: dict[str, str | None] = {"To": BAKERY_NUMBER, missing: None}
    if missing == "MessageSid":
        fields["SmsSid"] = None

    response = started.post("/twilio/sms", "sms-inbound", **fields)

    assert response.status_code == 400
    assert parse(response).findall("Message") == []
    assert started.logs.one("request_rejected")["code"] == "missing_parameter"


def test_an_empty_text_gets_no_reply_and_is_logged(line: Start) -> None:
    started = line()

    reply = text(started, "   ")

    assert reply == ""
    assert started.logs.one("sms_received")["body"] == "<3 chars>"


def test_a_body_over_the_limit_gets_twiml_not_html(line: Start) -> None:
    started = line(MAX_BODY_BYTES="2048")

    response = started.post(
        "/twilio/sms", "sms-inbound", To=BAKERY_NUMBER, Body="a" * 5000
    )

    assert response.status_code == 413
    parse(response)


@pytest.mark.parametrize(
    "body",
    [
        "Hola, ¿abren el sábado? 🥐🥖",
        "مرحبا، متى تفتحون؟",
        "営業時間は\uff1f",
        "nul\x00 and bell\x07 and \ufffe",
        "\U0001f9d1\u200d\U0001f373 " * 300,
    ],
)
def test_any_unicode_gets_well_formed_twiml(line: Start, body: str) -> None:
    started = line()

    response = started.post("/twilio/sms", "sms-inbound", To=BAKERY_NUMBER, Body=body)

    assert response.status_code == 200
    parse(response)


def test_a_message_left_by_text_reaches_the_owner(line: Start) -> None:
    started = line()

    offer = text(started, "I want to leave a message", sid(1))
    thanks = text(started, "This is Dana, please save me two rye loaves", sid(2))

    assert "message" in offer
    assert "passed your message on to Corner Bakery" in thanks
    [taken] = started.outbox()
    assert taken["kind"] == "message_taken"
    assert CUSTOMER in taken["text"]
    assert "two rye loaves" in taken["text"]
    assert started.logs.one("sms_message_taken")["delivered"] is True


def test_a_message_left_by_text_is_sent_within_the_sms_turn_deadline(
    line: Start,
) -> None:
    started = line(
        ENVIRONMENT="staging",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=DEV_TWILIO_TOKEN,
        SMS_TURN_DEADLINE_MS="2500",
    )

    with responses.RequestsMock() as twilio:
        twilio.post(MESSAGES_URL, status=201, json={"sid": "SM" + "9" * 32})
        text(started, "I want to leave a message", sid(1))
        thanks = text(started, "This is Dana, please save me two rye loaves", sid(2))
        send_timeout = twilio.calls[0].request.req_kwargs["timeout"]

    assert "passed your message on" in thanks
    assert 0 < send_timeout <= 2.5
    assert started.logs.one("sms_message_taken")["delivered"] is True


def test_a_picture_with_a_question_gets_both_acknowledged_and_answered(
    line: Start,
) -> None:
    started = line()

    response = started.post(
        "/twilio/sms",
        "sms-inbound-mms",
        To=BAKERY_NUMBER,
        Body="Do you bake gluten-free bread?",
    )

    reply = parse(response).findtext("Message") or ""
    assert reply.startswith("Thanks for the 2 attachments.")
    assert "Tuesday and Friday" in reply
