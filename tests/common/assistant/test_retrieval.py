from __future__ import annotations

import pytest

from common.assistant.retrieval import best_match, tokens
from tests.common.assistant.businesses import barbershop


@pytest.mark.parametrize(
    ("question", "expected_start"),
    [
        ("do you take walk-ins?", "Yes, walk-ins are welcome"),
        ("Is there anywhere to park?", "There is free street parking"),
        ("Can I pay with a credit card", "We accept cash"),
        ("how do I book", "Book online"),
    ],
)
def test_question_finds_the_entry_that_answers_it(
    question: str, expected_start: str
) -> None:
    match = best_match(barbershop().knowledge, question)

    assert match is not None
    assert match.entry.answer.startswith(expected_start)


@pytest.mark.parametrize(
    "question",
    [
        "Do you sell used cars?",
        "What is the wifi password for the hotel?",
        "Can I bring my dog to the vet appointment?",
        "?!",
    ],
)
def test_question_the_knowledge_base_does_not_cover_finds_nothing(
    question: str,
) -> None:
    assert best_match(barbershop().knowledge, question) is None


def test_empty_knowledge_base_finds_nothing() -> None:
    assert best_match([], "do you take walk-ins?") is None


def test_words_are_compared_without_case_plurals_or_filler() -> None:
    assert tokens("Do you have any Haircuts for KIDS?") == ["haircut", "kid"]
