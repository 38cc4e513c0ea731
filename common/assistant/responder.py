"""One assistant turn: the configured provider within the channel's deadline.

With `ASSISTANT_PROVIDER=embedded` (the default) the offline responder
answers. With `openai` the model endpoint is asked first; on a timeout, an
error or an unusable answer the turn falls back to the offline responder and
logs `assistant_fallback` with the reason, so the caller always gets a reply
before the deadline.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from common.assistant import chat_completions, embedded
from common.assistant.reply import CHANNELS, Reply
from common.logs import get_logger
from common.settings import Settings, get_settings
from common.store import Business, Turn

log = get_logger(__name__)

# Time kept back from the deadline for the fallback and building the answer.
SAFETY_MARGIN_MS = 300
# The longest utterance handed to a responder; more is cut off.
MAX_UTTERANCE_CHARS = 1000


def deadline_for(settings: Settings, channel: str) -> int:
    """The channel's turn deadline in milliseconds."""
    return {
        "voice": settings.voice_turn_deadline_ms,
        "sms": settings.sms_turn_deadline_ms,
        "chat": settings.chat_turn_deadline_ms,
    }[channel]


def respond(
    business: Business,
    channel: str,
    turns: list[Turn],
    text: str,
    *,
    now: datetime | None = None,
    deadline_ms: int | None = None,
) -> Reply:
    """The assistant's reply to `text`, within `deadline_ms` (the channel's default)."""
    started = time.monotonic()
    if channel not in CHANNELS:
        raise ValueError(
            f"channel {channel!r} is not one of {', '.join(CHANNELS)}; "
            "pass the channel the person is using"
        )
    settings = get_settings()
    deadline = (
        deadline_ms if deadline_ms is not None else deadline_for(settings, channel)
    )
    moment = now or datetime.now(UTC)
    said = text.strip()[:MAX_UTTERANCE_CHARS]

    reply: Reply | None = None
    if settings.assistant_provider == chat_completions.PROVIDER and said:
        reply = _ask_model(settings, business, channel, turns, said, moment, deadline)
    if reply is None:
        reply = embedded.respond(business, channel, turns, said, moment)

    log.info(
        "assistant_replied",
        channel=channel,
        source=reply.source,
        intent=reply.intent,
        action=reply.action,
        latency_ms=round((time.monotonic() - started) * 1000, 1),
    )
    return reply


def _ask_model(
    settings: Settings,
    business: Business,
    channel: str,
    turns: list[Turn],
    text: str,
    now: datetime,
    deadline_ms: int,
) -> Reply | None:
    margin_ms = min(SAFETY_MARGIN_MS, deadline_ms // 4)
    started = time.monotonic()
    budget_s = (deadline_ms - margin_ms) / 1000
    try:
        return chat_completions.ask(
            settings, business, channel, turns, text, now=now, budget_s=budget_s
        )
    except chat_completions.ProviderError as exc:
        log.warning(
            "assistant_fallback",
            "the model gave no usable answer; the offline responder answers",
            reason=exc.reason,
            detail=exc.detail,
            status=exc.status,
            provider=chat_completions.PROVIDER,
            channel=channel,
            waited_ms=round((time.monotonic() - started) * 1000, 1),
            deadline_ms=deadline_ms,
        )
    except Exception as exc:
        log.exception(
            "assistant_fallback",
            "the model call failed unexpectedly; the offline responder answers",
            reason="error",
            detail=type(exc).__name__,
            provider=chat_completions.PROVIDER,
            channel=channel,
            deadline_ms=deadline_ms,
        )
    return None
