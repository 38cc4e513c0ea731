"""Making a reply fit its channel: plain text, short, no links when spoken."""

from __future__ import annotations

import re

# Characters per reply: two GSM-7 SMS segments, about twenty seconds of
# speech, a short chat bubble.
MAX_CHARS = {"sms": 306, "voice": 320, "chat": 600}

_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|`+)")
_HEADING_OR_BULLET = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+)", re.MULTILINE)
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def for_channel(text: str, channel: str) -> str:
    """`text` as plain words for `channel`, cut at a sentence when too long."""
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _HEADING_OR_BULLET.sub("", text)
    text = _EMPHASIS.sub("", text)
    if channel == "voice":
        text = _URL.sub("our website", text)
    text = _SPACES.sub(" ", text).strip()
    return shorten(text, MAX_CHARS.get(channel, MAX_CHARS["chat"]))


def shorten(text: str, limit: int) -> str:
    """Whole sentences up to `limit` characters; a word cut only as a last resort."""
    if len(text) <= limit:
        return text

    kept = ""
    for sentence in _SENTENCE_END.split(text):
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept

    words = text[: limit - 3].rsplit(" ", 1)[0].rstrip(",;:")
    return words + "..."
