from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from common.assistant import Reply, respond
from common.settings import Settings
from common.store import KnowledgeEntry, Turn
from tests.common.assistant.businesses import barbershop, bare_bakery
from tests.conftest import LogCapture

# Wednesday 4 March 2026, 10:00 in New York, 00:00 on Thursday in Tokyo.
WEDNESDAY_MORNING = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _embedded(configure: Callable[..., tuple[Settings, LogCapture]]) -> None:
    configure()


def ask(text: str, channel: str = "sms", turns: list[Turn] | None = None) -> Reply:
    return respond(barbershop(), channel, turns or [], text, now=WEDNESDAY_MORNING)


def test_hours_question_gets_the_whole_week_from_the_profile() -> None:
    reply = ask("What are your hours?")

    assert reply == Reply(
        "Our hours are Monday to Thursday 9 AM to 5 PM, Friday 9 AM to 7:30 PM, "
        "Saturday 10 AM to 2 PM; closed Sunday.",
        "answer",
        "hours",
        "embedded",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Are you open on Sunday?", "We're closed on Sunday."),
        ("What time do you close on Friday?", "On Friday we're open 9 AM to 7:30 PM."),
        ("are you open tomorrow", "On Thursday we're open 9 AM to 5 PM."),
    ],
)
def test_question_about_one_day_gets_that_days_hours(text: str, expected: str) -> None:
    reply = ask(text)

    assert (reply.text, reply.intent) == (expected, "hours")


def test_location_question_gets_the_address() -> None:
    reply = ask("Where are you located?")

    assert reply.text == "We're at 42 Maple Street, Brooklyn, NY 11201."
    assert (reply.intent, reply.action) == ("location", "answer")


def test_services_question_gets_the_services_entry() -> None:
    reply = ask("What services do you offer?")

    assert reply.text == "We do haircuts, beard trims, hot towel shaves and kids' cuts."
    assert reply.intent == "services"


def test_price_question_gets_the_price_entry() -> None:
    reply = ask("How much is a haircut?")

    assert reply.text == "A haircut is $35 and a beard trim is $15."
    assert reply.intent == "prices"


def test_asking_for_a_person_on_a_call_transfers() -> None:
    reply = ask("Can I speak to a real person please", channel="voice")

    assert (reply.action, reply.intent) == ("transfer", "human")


def test_asking_for_a_person_without_transfer_number_takes_a_message() -> None:
    business = barbershop(transfer_number=None)

    reply = respond(business, "voice", [], "Let me talk to the manager", now=None)

    assert (reply.action, reply.intent) == ("take_message", "human")


def test_asking_for_a_person_by_text_takes_a_message() -> None:
    reply = ask("can I talk to someone", channel="sms")

    assert reply.action == "take_message"


@pytest.mark.parametrize(
    "text", ["I'd like to leave a message", "Can you take a message?", "call me back"]
)
def test_leaving_a_message_takes_a_message(text: str) -> None:
    reply = ask(text, channel="voice")

    assert (reply.action, reply.intent) == ("take_message", "message")


@pytest.mark.parametrize("text", ["Goodbye", "ok bye!", "That's all, thanks"])
def test_goodbye_ends_the_conversation(text: str) -> None:
    reply = ask(text, channel="voice")

    assert reply == Reply(
        "Thanks for calling Maple Street Barbers. Goodbye!",
        "end",
        "goodbye",
        "embedded",
    )


@pytest.mark.parametrize("text", ["Hi", "hello there", "Good morning"])
def test_greeting_is_answered_with_the_business_name(text: str) -> None:
    reply = ask(text)

    assert reply.intent == "greeting"
    assert "Maple Street Barbers" in reply.text


def test_yes_after_an_offer_to_leave_a_message_takes_a_message() -> None:
    offer = ask("Do you sell used cars?")
    turns = [
        Turn("customer", "Do you sell used cars?", 1.0),
        Turn("assistant", offer.text, 2.0),
    ]

    reply = ask("Yes please", channel="voice", turns=turns)

    assert (reply.action, reply.intent) == ("take_message", "message")


def test_no_after_an_offer_to_leave_a_message_keeps_talking() -> None:
    turns = [Turn("assistant", "I don't know. Would you like to leave a message?", 1.0)]

    reply = ask("no thanks", turns=turns)

    assert (reply.action, reply.intent) == ("answer", "decline")


def test_silence_is_asked_to_repeat() -> None:
    reply = ask("   ", channel="voice")

    assert (reply.intent, reply.action) == ("unknown", "answer")
    assert "didn't catch" in reply.text


def test_voice_reply_leaves_out_links() -> None:
    reply = ask("How do I book an appointment?", channel="voice")

    assert reply.text == "Book online at our website or call us."


def test_sms_reply_keeps_links() -> None:
    reply = ask("How do I book an appointment?", channel="sms")

    assert "https://maplebarbers.example/book" in reply.text


def test_business_without_prices_never_quotes_one() -> None:
    reply = respond(bare_bakery(), "sms", [], "How much is a loaf of bread?")

    assert reply.intent == "prices"
    assert reply.text.startswith("I'm sorry, I don't have prices")
    assert "leave a message" in reply.text
    assert not any(character.isdigit() for character in reply.text)


def test_business_without_address_says_it_does_not_know() -> None:
    reply = respond(bare_bakery(), "voice", [], "What's your address?")

    assert reply.text.startswith("I'm sorry, I don't have our address")


def test_every_reply_is_short_enough_for_two_sms_segments() -> None:
    long_answer = "We cut hair. " * 60
    business = barbershop()
    business.knowledge[1].answer = long_answer

    reply = respond(business, "sms", [], "What services do you offer?")

    assert len(reply.text) <= 306
    assert reply.text.endswith("We cut hair.")


def test_unknown_channel_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="'fax' is not one of sms, voice, chat"):
        respond(barbershop(), "fax", [], "hello")


def test_each_turn_logs_its_intent_and_source(
    configure: Callable[..., tuple[Settings, LogCapture]],
) -> None:
    _, logs = configure()

    ask("Where are you?", channel="voice")

    line = logs.one("assistant_replied")
    assert line["intent"] == "location"
    assert line["source"] == "embedded"
    assert line["channel"] == "voice"


def test_hours_kept_only_as_a_note_are_answered_from_the_note() -> None:
    business = bare_bakery()
    business.opening_hours = {}
    business.knowledge.append(
        KnowledgeEntry(topic="hours", answer="We open at 7 most days; call ahead.")
    )

    reply = respond(business, "sms", [], "What are your opening hours?")

    assert (reply.text, reply.intent) == (
        "We open at 7 most days; call ahead.",
        "hours",
    )


def test_directions_note_answers_where_there_is_no_address() -> None:
    business = bare_bakery()
    business.knowledge.append(
        KnowledgeEntry(topic="location", answer="Find us inside Shibuya Station.")
    )

    reply = respond(business, "voice", [], "Where are you located?")

    assert reply.text == "Find us inside Shibuya Station."


def test_question_about_one_service_gets_the_entry_that_names_it() -> None:
    business = barbershop()
    business.knowledge.append(
        KnowledgeEntry(
            question="Do you offer hot towel shaves?",
            answer="Yes, a hot towel shave takes 30 minutes.",
        )
    )

    reply = respond(business, "sms", [], "Do you offer hot towel shaves?")

    assert reply.text == "Yes, a hot towel shave takes 30 minutes."
