"""The demo business `make run` seeds, asked what its callers ask."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from common.assistant import Reply, respond
from common.settings import Settings
from common.store import Business
from common.store.business_file import read_business_file
from common.store.demo import DEMO_FILE
from tests.conftest import LogCapture

# Wednesday 4 March 2026, noon in Sausalito.
WEDNESDAY_NOON = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)
PRICE_LIST = "Flat tire fix $15. Basic tune-up $60."
RENTALS = "Hybrid bikes $35 a day"


@pytest.fixture(autouse=True)
def _embedded(configure: Callable[..., tuple[Settings, LogCapture]]) -> None:
    configure()


def ask(text: str, channel: str = "sms") -> Reply:
    business = Business(business_id="demo", **read_business_file(DEMO_FILE))
    return respond(business, channel, [], text, now=WEDNESDAY_NOON)


def test_hours_come_back_in_the_business_own_words() -> None:
    reply = ask("What are your hours?")

    assert reply.text == (
        "Monday to Friday 9am to 6pm, Saturday 10am to 4pm. We are closed on Sundays."
    )
    assert reply.intent == "hours"


def test_location_answer_is_the_knowledge_base_entry() -> None:
    reply = ask("Where are you?", channel="voice")

    assert reply.text.startswith("12 Harbor Street, Sausalito, two blocks from")


@pytest.mark.parametrize(
    ("question", "expected_start"),
    [
        ("How much is a tune-up?", PRICE_LIST),
        ("what are your prices", PRICE_LIST),
        ("how much to rent an e-bike for a day?", RENTALS),
    ],
)
def test_price_question_gets_the_entry_that_prices_it(
    question: str, expected_start: str
) -> None:
    assert ask(question).text.startswith(expected_start)


def test_price_of_something_not_sold_is_not_guessed() -> None:
    reply = ask("How much is a loaf of bread?")

    assert reply.text == (
        "I'm sorry, I don't have a price for that. Would you like to leave a message?"
    )


@pytest.mark.parametrize(
    ("question", "expected_start"),
    [
        ("Do you rent bikes?", RENTALS),
        ("Do I need an appointment for a repair?", "No. Drop your bike off"),
    ],
)
def test_other_questions_are_answered_by_retrieval(
    question: str, expected_start: str
) -> None:
    reply = ask(question)

    assert reply.intent == "knowledge"
    assert reply.text.startswith(expected_start)


def test_question_outside_the_knowledge_base_offers_a_message() -> None:
    reply = ask("Do you sell gift cards?")

    assert (reply.intent, reply.action) == ("unknown", "answer")
    assert reply.text.endswith("Would you like to leave a message?")
