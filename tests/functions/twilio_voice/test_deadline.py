from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

from tests.functions.conftest import BAKERY_NUMBER, Line, parse

Start = Callable[..., Line]
MODEL_URL = "https://model.test/v1/chat/completions"


@pytest.fixture
def hanging_model() -> Iterator[threading.Event]:
    """A model endpoint that never answers while the test runs; the event
    tells whether it was asked."""
    asked = threading.Event()
    released = threading.Event()

    def hang(request: Any) -> tuple[int, dict[str, str], str]:
        asked.set()
        released.wait(timeout=10)
        return 504, {}, "released"

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, MODEL_URL, callback=hang)
        yield asked
        released.set()


def test_a_hanging_model_still_gets_the_caller_an_answer_in_time(
    line: Start, hanging_model: threading.Event
) -> None:
    started = line(
        ASSISTANT_PROVIDER="openai",
        ASSISTANT_BASE_URL="https://model.test/v1",
        ASSISTANT_API_KEY="sk-test",
        ASSISTANT_MODEL="test-model",
        VOICE_TURN_DEADLINE_MS="500",
    )
    started.post("/v1/voice", "voice-inbound", To=BAKERY_NUMBER)

    response = started.post(
        "/v1/voice/turn?n=1",
        "voice-gather-speech",
        To=BAKERY_NUMBER,
        SpeechResult="Do you bake gluten-free bread?",
    )

    answer = parse(response)
    assert response.status_code == 200
    assert "Tuesday and Friday" in (answer.findtext("Gather/Say") or "")
    fallback = started.logs.one("assistant_fallback")
    assert fallback["reason"] == "timeout"
    assert fallback["deadline_ms"] <= 500
    assert hanging_model.is_set()
