from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses

from common.assistant import Reply, respond
from common.settings import Settings
from common.store import Turn
from tests.common.assistant.businesses import barbershop
from tests.conftest import LogCapture

ENDPOINT = "https://model.example/v1/chat/completions"
API_KEY = "sk-test-not-a-real-key"
WEDNESDAY_MORNING = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def logs(configure: Callable[..., tuple[Settings, LogCapture]]) -> LogCapture:
    _, capture = configure(
        ASSISTANT_PROVIDER="openai",
        ASSISTANT_BASE_URL="https://model.example/v1",
        ASSISTANT_API_KEY=API_KEY,
        ASSISTANT_MODEL="receptionist-small",
    )
    return capture


@pytest.fixture
def endpoint() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def completion(content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }


def ask(text: str, channel: str = "sms", **kwargs: Any) -> Reply:
    return respond(barbershop(), channel, [], text, now=WEDNESDAY_MORNING, **kwargs)


def test_good_answer_is_the_models_reply(
    logs: LogCapture, endpoint: responses.RequestsMock
) -> None:
    answer = {"reply": "Yes, we have kids' cuts for $20.", "action": "answer"}
    endpoint.post(ENDPOINT, json=completion(json.dumps(answer)))

    reply = ask("Do you cut kids' hair?")

    assert reply == Reply(
        "Yes, we have kids' cuts for $20.", "answer", "knowledge", "model"
    )
    assert logs.events("assistant_fallback") == []


def test_request_is_grounded_on_the_business_and_authenticated(
    logs: LogCapture, endpoint: responses.RequestsMock
) -> None:
    answer = {"reply": "We're open until 5 PM.", "action": "answer"}
    endpoint.post(ENDPOINT, json=completion(json.dumps(answer)))
    turns = [
        Turn("customer", "Hi", 1.0),
        Turn("assistant", "Hello! How can I help?", 2.0),
    ]

    respond(barbershop(), "voice", turns, "Are you open?", now=WEDNESDAY_MORNING)

    sent = endpoint.calls[0].request
    body = json.loads(sent.body or b"{}")
    system = body["messages"][0]["content"]
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert body["model"] == "receptionist-small"
    assert body["response_format"] == {"type": "json_object"}
    assert "Maple Street Barbers" in system
    assert "42 Maple Street, Brooklyn" in system
    assert "A haircut is $35" in system
    assert "Wednesday 2026-03-04 10:00 (America/New_York)" in system
    assert [m["role"] for m in body["messages"][1:]] == ["user", "assistant", "user"]
    assert body["messages"][-1]["content"] == "Are you open?"


def test_model_transfer_without_a_transfer_number_becomes_a_message(
    logs: LogCapture, endpoint: responses.RequestsMock
) -> None:
    answer = {"reply": "Let me get someone for you.", "action": "transfer"}
    endpoint.post(ENDPOINT, json=completion(json.dumps(answer)))

    reply = ask("I want a person", channel="sms")

    assert (reply.action, reply.source) == ("take_message", "model")


def test_voice_reply_from_the_model_has_no_links_or_markdown(
    logs: LogCapture, endpoint: responses.RequestsMock
) -> None:
    answer = {
        "reply": "**Book** at [our page](https://maplebarbers.example/book).",
        "action": "answer",
    }
    endpoint.post(ENDPOINT, json=completion(json.dumps(answer)))

    reply = ask("How do I book?", channel="voice")

    assert reply.text == "Book at our page."


@pytest.mark.parametrize(
    ("mock", "reason"),
    [
        (lambda e: e.post(ENDPOINT, status=500, json={"error": "boom"}), "http_error"),
        (lambda e: e.post(ENDPOINT, status=429, json={"error": "slow"}), "http_error"),
        (lambda e: e.post(ENDPOINT, body="<html>oops</html>"), "unusable"),
        (lambda e: e.post(ENDPOINT, json={"choices": []}), "unusable"),
        (
            lambda e: e.post(ENDPOINT, json=completion("Sure, we are open!")),
            "unusable",
        ),
        (
            lambda e: e.post(
                ENDPOINT,
                json=completion('{"reply": "Done.", "action": "refund"}'),
            ),
            "unusable",
        ),
        (
            lambda e: e.post(
                ENDPOINT, json=completion('{"reply": " ", "action": "answer"}')
            ),
            "unusable",
        ),
        (
            lambda e: e.post(ENDPOINT, body=requests.ConnectionError("refused")),
            "connection_error",
        ),
    ],
    ids=[
        "500",
        "429",
        "body-not-json",
        "no-choices",
        "content-not-json",
        "unknown-action",
        "empty-reply",
        "connection-refused",
    ],
)
def test_failed_or_unusable_answer_falls_back_to_the_offline_responder(
    logs: LogCapture,
    endpoint: responses.RequestsMock,
    mock: Callable[[responses.RequestsMock], object],
    reason: str,
) -> None:
    mock(endpoint)

    reply = ask("What are your hours?")

    assert reply.source == "embedded"
    assert reply.intent == "hours"
    assert reply.text.startswith("Our hours are Monday to Thursday 9 AM to 5 PM")
    fallback = logs.one("assistant_fallback")
    assert fallback["reason"] == reason
    assert fallback["provider"] == "openai"
    assert fallback["severity"] == "WARNING"


def test_hanging_endpoint_falls_back_before_the_deadline(
    logs: LogCapture, endpoint: responses.RequestsMock
) -> None:
    release = threading.Event()

    def hang(request: Any) -> tuple[int, dict[str, str], str]:
        release.wait(timeout=10)
        return 200, {}, json.dumps(completion('{"reply": "late", "action": "end"}'))

    endpoint.add_callback(responses.POST, ENDPOINT, callback=hang)

    try:
        reply = ask("Where are you?", channel="voice", deadline_ms=300)
    finally:
        release.set()

    assert reply.source == "embedded"
    assert reply.text == "We're at 42 Maple Street, Brooklyn, NY 11201."
    fallback = logs.one("assistant_fallback")
    assert fallback["reason"] == "timeout"
    assert fallback["deadline_ms"] == 300
    assert fallback["waited_ms"] < 2000


def test_missing_endpoint_settings_fall_back_with_the_reason(
    configure: Callable[..., tuple[Settings, LogCapture]],
) -> None:
    _, logs = configure(ASSISTANT_PROVIDER="openai")

    reply = ask("What are your hours?")

    assert reply.source == "embedded"
    assert logs.one("assistant_fallback")["reason"] == "not_configured"


def test_api_key_never_reaches_the_logs(
    logs: LogCapture, endpoint: responses.RequestsMock
) -> None:
    endpoint.post(ENDPOINT, status=401, json={"error": "bad key"})

    ask("What are your hours?")

    assert logs.lines
    assert API_KEY not in json.dumps(logs.lines)


def test_silence_does_not_call_the_model(
    logs: LogCapture, endpoint: responses.RequestsMock
) -> None:
    reply = ask("  ", channel="voice")

    assert reply.source == "embedded"
    assert len(endpoint.calls) == 0
