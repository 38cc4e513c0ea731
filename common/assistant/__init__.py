"""The AI receptionist: one reply and one next action per turn.

`respond(business, channel, turns, text)` answers what a caller, texter or
chat visitor just said. The offline knowledge-base responder is the default;
`ASSISTANT_PROVIDER=openai` asks an OpenAI-compatible endpoint first and
falls back to the offline responder within the channel's deadline.
"""

from __future__ import annotations

from common.assistant.reply import ACTIONS, CHANNELS, Action, Reply
from common.assistant.responder import deadline_for, respond

__all__ = ["ACTIONS", "CHANNELS", "Action", "Reply", "deadline_for", "respond"]
