"""The model provider: any OpenAI-compatible chat-completions endpoint.

The model is grounded on the business's profile, knowledge base and local
time, and must answer with one JSON object `{"reply": ..., "action": ...}`.
Anything else is refused as unusable. The HTTP call runs in a worker thread
so that a hanging endpoint cannot hold the turn past its deadline: the
caller waits at most the time it was given, then falls back.
"""

from __future__ import annotations

import contextvars
import json
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from common.assistant import embedded, hours
from common.assistant.phrasing import MAX_CHARS, for_channel
from common.assistant.reply import ACTIONS, Action, Reply
from common.settings import Settings
from common.store import Business, Turn

PROVIDER = "openai"
SOURCE = "model"
# Connecting should be quick; a slow connect is as good as a failure.
_CONNECT_TIMEOUT_S = 1.0
_MAX_TOKENS = 300

_T = TypeVar("_T")


class ProviderError(Exception):
    """The endpoint gave no usable answer; `reason` is the log's category."""

    def __init__(self, reason: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.status = status


def ask(
    settings: Settings,
    business: Business,
    channel: str,
    turns: Sequence[Turn],
    text: str,
    *,
    now: datetime,
    budget_s: float,
) -> Reply:
    """The model's reply, or ProviderError within `budget_s` seconds."""
    if not settings.assistant_base_url or not settings.assistant_model:
        raise ProviderError(
            "not_configured",
            "set ASSISTANT_BASE_URL and ASSISTANT_MODEL, "
            "or ASSISTANT_PROVIDER=embedded",
        )
    if budget_s <= 0:
        raise ProviderError("timeout", "no time left before the turn's deadline")

    url = f"{settings.assistant_base_url}/chat/completions"
    headers = {"Content-Type": "application/json"}
    if settings.assistant_api_key:
        headers["Authorization"] = f"Bearer {settings.assistant_api_key}"
    payload = {
        "model": settings.assistant_model,
        "messages": messages(business, channel, turns, text, now),
        "response_format": {"type": "json_object"},
        "temperature": 0.2,
        "max_tokens": _MAX_TOKENS,
    }
    timeout = (min(_CONNECT_TIMEOUT_S, budget_s), budget_s)

    body = run_within(budget_s, lambda: _post(url, headers, payload, timeout))
    return parse(body, business, channel, turns, text)


def run_within(seconds: float, call: Callable[[], _T]) -> _T:
    """`call()`'s result, or ProviderError("timeout") after `seconds`.

    The call runs on a daemon thread carrying the request's context, so its
    log lines keep their correlation ids; a call that outlives the wait is
    abandoned and its result dropped.
    """
    outcome: dict[str, Any] = {}
    finished = threading.Event()
    request_context = contextvars.copy_context()

    def work() -> None:
        try:
            outcome["value"] = request_context.run(call)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=work, name="assistant-model", daemon=True).start()
    if not finished.wait(seconds):
        raise ProviderError("timeout", f"no answer within {int(seconds * 1000)} ms")
    if "error" in outcome:
        raise outcome["error"]
    value: _T = outcome["value"]
    return value


def _post(
    url: str,
    headers: dict[str, str],
    payload: dict[str, Any],
    timeout: tuple[float, float],
) -> Any:
    import requests

    try:
        response = requests.post(url, json=payload, headers=headers, timeout=timeout)
    except requests.Timeout as exc:
        raise ProviderError("timeout", type(exc).__name__) from exc
    except requests.RequestException as exc:
        raise ProviderError("connection_error", type(exc).__name__) from exc

    if response.status_code >= 400:
        raise ProviderError(
            "http_error",
            f"the endpoint answered {response.status_code}",
            status=response.status_code,
        )
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError("unusable", "the response body is not JSON") from exc


def parse(
    body: Any,
    business: Business,
    channel: str,
    turns: Sequence[Turn],
    text: str,
) -> Reply:
    """The Reply inside a chat-completions body, or ProviderError("unusable")."""
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise ProviderError("unusable", "no choices[0].message.content") from exc
    if not isinstance(content, str):
        raise ProviderError("unusable", "the message content is not text")

    try:
        answer = json.loads(_without_fence(content))
    except ValueError as exc:
        raise ProviderError("unusable", "the message content is not JSON") from exc
    if not isinstance(answer, dict):
        raise ProviderError("unusable", "the message content is not a JSON object")

    reply, action = answer.get("reply"), answer.get("action")
    if not isinstance(reply, str) or not reply.strip():
        raise ProviderError("unusable", "the reply is missing or empty")
    if action not in ACTIONS:
        raise ProviderError("unusable", f"unknown action {str(action)[:40]!r}")

    checked: Action = action
    if checked == "transfer" and not (channel == "voice" and business.transfer_number):
        checked = "take_message"
    intent = embedded.classify(text, turns)
    return Reply(for_channel(reply, channel), checked, intent, SOURCE)


def _without_fence(content: str) -> str:
    stripped = content.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        stripped = stripped.strip("`").strip()
        if stripped.lower().startswith("json"):
            stripped = stripped[4:]
    return stripped


def messages(
    business: Business,
    channel: str,
    turns: Sequence[Turn],
    text: str,
    now: datetime,
) -> list[dict[str, str]]:
    """The system prompt, the conversation so far and what was just said."""
    history = [
        {
            "role": "user" if turn.role == "customer" else "assistant",
            "content": turn.text,
        }
        for turn in turns
    ]
    return [
        {"role": "system", "content": system_prompt(business, channel, now)},
        *history,
        {"role": "user", "content": text},
    ]


_CHANNEL_STYLE = {
    "voice": (
        "You are speaking on a phone call: plain spoken sentences, no links, "
        "no lists, no markdown."
    ),
    "sms": "You are replying by text message: plain text, no markdown.",
    "chat": "You are replying in a website chat: plain text, no markdown.",
}


def system_prompt(business: Business, channel: str, now: datetime) -> str:
    local = hours.local_now(business.time_zone, now)
    week = hours.describe_week(business.opening_hours) or "not given"
    knowledge = "\n".join(
        f"- Q: {entry.question}\n  A: {entry.answer}"
        if entry.question
        else f"- {entry.answer}"
        for entry in business.knowledge
    )
    can_transfer = channel == "voice" and bool(business.transfer_number)
    actions = (
        '"answer" to keep talking, "take_message" when they want to leave a '
        'message or you cannot help, "end" when they say goodbye'
    )
    if can_transfer:
        actions += ', "transfer" when they ask for a person'
    return "\n".join(
        [
            f"You are the receptionist of {business.name}.",
            _CHANNEL_STYLE.get(channel, _CHANNEL_STYLE["chat"]),
            f"Keep the reply under {MAX_CHARS.get(channel, 300)} characters.",
            "Answer only from the facts below. If they do not hold the answer, "
            "say you don't know and offer to take a message. Never make up "
            "prices, hours, names or other facts.",
            "Reply with one JSON object: "
            '{"reply": "<what to say>", "action": "<action>"} where action is '
            f"{actions}.",
            "",
            f"Local time: {local:%A %Y-%m-%d %H:%M} ({business.time_zone})",
            f"Address: {business.address or 'not given'}",
            f"Opening hours: {week}",
            "Knowledge base:",
            knowledge or "(empty)",
        ]
    )
