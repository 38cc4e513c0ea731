"""The shape of a call: what the receptionist says next and where it goes.

A call moves through stages. In `conversation` each utterance goes to the
assistant and its action decides what follows: another question, a
message, a transfer, or goodbye. Taking a message asks for the caller's
name (`message_name`), then for what to pass on (`message_reason`). After
a transfer nobody answered, `offer_message` asks whether the caller wants
to leave one. Silence re-prompts the same stage, and the call ends
politely after `MAX_SILENCES` silent turns in a row.

The functions here only decide and build TwiML; `common.voice.calls`
stores the state and talks to the assistant and the owner.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

from twilio.twiml.voice_response import VoiceResponse

from common.store import Business
from common.twiml import xml_safe

Stage = Literal[
    "conversation", "message_name", "message_reason", "offer_message", "done"
]
Outcome = Literal[
    "in_progress",
    "answered",
    "message_taken",
    "transferred",
    "missed_transfer",
    "no_input",
    "ended",
]

MAX_SILENCES = 3
GATHER_TIMEOUT_SECONDS = 5
DIAL_TIMEOUT_SECONDS = 20
RECORDING_MAX_SECONDS = 120
MAX_UTTERANCE_CHARS = 1000
# Pressing 0 is the usual way to ask for a person.
DIGIT_MEANINGS = {"0": "I would like to speak to a person"}

_NEGATIVE = re.compile(r"\b(no|nope|nah|not really|no thanks|don't|do not)\b", re.I)

NOT_IN_SERVICE = "Sorry, the number you have called is not in service. Goodbye."
STILL_WORKING = "One moment, please."


@dataclass
class CallState:
    """What the receptionist remembers about one call between turns."""

    call_sid: str
    business_id: str
    caller: str
    stage: Stage = "conversation"
    silences: int = 0
    turns: int = 0
    caller_name: str | None = None
    outcome: Outcome = "in_progress"
    status: str | None = None
    duration_seconds: int | None = None
    # The turn number the latest answer listens on: a malformed webhook is
    # asked again on it, never answered from another turn's stored TwiML.
    next_turn: int = 1
    # Owner notifications the call's turns asked for, each {"kind", "text",
    # "details"}: sent once the call has ended, never while the caller waits.
    notices: list[dict[str, Any]] = field(default_factory=list)

    def to_document(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> CallState:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in document.items() if k in known})


@dataclass
class Urls:
    """Where Twilio posts next: absolute under `base` when set, else relative."""

    base: str | None = None
    prefix: str = "/v1/voice"

    def to(self, step: str, **query: str | int) -> str:
        path = f"{self.prefix}/{step}"
        if query:
            path += "?" + urlencode(query)
        return (self.base or "") + path


@dataclass
class Answer:
    """A turn's TwiML and the owner notifications it causes."""

    twiml: str
    notify: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


def caller_input(form: dict[str, str]) -> str:
    """The caller's words, from speech or keypad; empty when nothing was heard."""
    speech = (form.get("SpeechResult") or "").strip()
    if speech:
        return speech[:MAX_UTTERANCE_CHARS]
    digits = (form.get("Digits") or "").strip()
    return DIGIT_MEANINGS.get(digits, digits)[:MAX_UTTERANCE_CHARS]


def greeting_text(business: Business) -> str:
    return business.greeting or (
        f"Thanks for calling {business.name}. How can I help you today?"
    )


def gather(response: VoiceResponse, urls: Urls, turn: int, prompt: str) -> None:
    """Speak `prompt` while listening; on silence come back to the same turn."""
    listen = response.gather(
        input="speech dtmf",
        action=urls.to("turn", n=turn),
        method="POST",
        timeout=GATHER_TIMEOUT_SECONDS,
        speech_timeout="auto",
        num_digits=1,
    )
    listen.say(xml_safe(prompt))
    response.redirect(urls.to("turn", n=turn), method="POST")


def ask(prompt: str, urls: Urls, turn: int) -> str:
    response = VoiceResponse()
    gather(response, urls, turn, prompt)
    return str(response.to_xml())


def hang_up(text: str) -> str:
    response = VoiceResponse()
    response.say(xml_safe(text))
    response.hangup()
    return str(response.to_xml())


def hang_up_silently() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response.to_xml())


def dial(text: str, number: str, urls: Urls, turn: int) -> str:
    response = VoiceResponse()
    if text:
        response.say(xml_safe(text))
    response.dial(
        number,
        timeout=DIAL_TIMEOUT_SECONDS,
        action=urls.to("dial-result", n=turn),
        method="POST",
    )
    return str(response.to_xml())


def come_back(url: str) -> str:
    """Ask Twilio to post the same turn again shortly (answer still cooking)."""
    response = VoiceResponse()
    response.say(STILL_WORKING)
    response.pause(length=1)
    response.redirect(url, method="POST")
    return str(response.to_xml())


def reprompt(state: CallState, business: Business, urls: Urls, turn: int) -> str:
    """The answer to a silent turn: ask again, or end after too many silences."""
    state.silences += 1
    if state.silences >= MAX_SILENCES:
        state.stage = "done"
        if state.outcome == "in_progress":
            state.outcome = "no_input"
        return hang_up(
            "I'm sorry, I can't hear you. Please call us again any time. Goodbye."
        )
    return ask_again(state, urls, turn)


def ask_again(state: CallState, urls: Urls, turn: int) -> str:
    """The question of the call's stage once more, listening on `turn`."""
    if state.stage == "message_reason":
        return record_message(urls, turn)
    prompts: dict[Stage, str] = {
        "conversation": "Sorry, I didn't catch that. How can I help you?",
        "message_name": "Sorry, I didn't catch your name. What is your name?",
        "offer_message": "Would you like to leave a message? Please say yes or no.",
    }
    prompt = prompts.get(state.stage, prompts["conversation"])
    return ask(prompt, urls, turn)


def take_name(
    state: CallState, business: Business, name: str, urls: Urls, turn: int
) -> str:
    state.caller_name = name
    state.stage = "message_reason"
    return ask(
        f"Thank you. What message would you like me to pass on to {business.name}?",
        urls,
        turn,
    )


def record_message(urls: Urls, turn: int) -> str:
    """Record the message instead of transcribing it; the recording callback
    tells the owner. Without audio Twilio skips the action: come back silent."""
    response = VoiceResponse()
    response.say(
        "Please leave your message after the tone, then hang up or press pound."
    )
    response.record(
        action=urls.to("turn", n=turn),
        method="POST",
        max_length=RECORDING_MAX_SECONDS,
        timeout=GATHER_TIMEOUT_SECONDS,
        finish_on_key="#",
        play_beep=True,
        recording_status_callback=urls.to("recording"),
        recording_status_callback_method="POST",
    )
    response.redirect(urls.to("turn", n=turn), method="POST")
    return str(response.to_xml())


def recorded(state: CallState, business: Business) -> str:
    """A recorded message arrived: thank the caller; the callback tells the owner."""
    state.stage = "done"
    state.outcome = "message_taken"
    return hang_up(
        f"Thank you. {business.name} will get your message and call you back. Goodbye."
    )


def take_reason(state: CallState, business: Business, reason: str) -> Answer:
    """The message is complete: tell the owner, thank the caller, hang up."""
    state.stage = "done"
    state.outcome = "message_taken"
    name = state.caller_name or "A caller"
    details = {
        "caller": state.caller,
        "caller_name": state.caller_name or "",
        "reason": reason,
        "call_sid": state.call_sid,
        "channel": "voice",
    }
    text = f"{name} ({state.caller}) left a message: {reason}"
    goodbye = (
        f"Thank you. I've passed your message to {business.name}, "
        "and they will get back to you. Goodbye."
    )
    return Answer(hang_up(goodbye), notify=[("message_taken", text, details)])


def start_message(state: CallState, business: Business, urls: Urls, turn: int) -> str:
    state.stage = "message_name"
    return ask(
        f"I can take a message for {business.name}. First, what is your name?",
        urls,
        turn,
    )


def answer_offer(
    state: CallState, business: Business, utterance: str, urls: Urls, turn: int
) -> str:
    """After a missed transfer: yes leads to a message, no to goodbye."""
    if _NEGATIVE.search(utterance):
        state.stage = "done"
        return hang_up(f"No problem. Thank you for calling {business.name}. Goodbye.")
    return start_message(state, business, urls, turn)


def missed_transfer(
    state: CallState, business: Business, dial_status: str, urls: Urls, turn: int
) -> Answer:
    """Nobody answered the transfer: tell the owner, offer to take a message."""
    state.stage = "offer_message"
    state.outcome = "missed_transfer"
    state.silences = 0
    text = (
        f"Missed call: {state.caller} asked for a person and the transfer "
        f"ended {dial_status}."
    )
    details = {
        "caller": state.caller,
        "dial_status": dial_status,
        "call_sid": state.call_sid,
        "channel": "voice",
    }
    prompt = "Sorry, nobody was able to answer. Would you like to leave a message?"
    return Answer(ask(prompt, urls, turn), notify=[("missed_transfer", text, details)])
