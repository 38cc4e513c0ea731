"""What the assistant answers: a reply to say or send, and what to do next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["answer", "take_message", "transfer", "end"]
ACTIONS: tuple[Action, ...] = ("answer", "take_message", "transfer", "end")
CHANNELS = ("sms", "voice", "chat")


@dataclass(frozen=True)
class Reply:
    """One assistant turn.

    `action` tells the channel what comes next: keep the conversation going
    (`answer`), capture a message for the owner (`take_message`), dial the
    business's transfer number (`transfer`, voice only) or finish (`end`).
    `intent` names what the person asked for; `source` says who answered:
    `embedded` (the offline knowledge-base responder) or `model`.
    """

    text: str
    action: Action
    intent: str
    source: str
