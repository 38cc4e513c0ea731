"""The offline responder: common intents, then retrieval over the knowledge base.

Deterministic and grounded: every fact it states comes from the business's
profile (name, address, opening hours, transfer number) or a knowledge-base
entry, word for word. When neither holds the answer it says so and offers to
take a message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from common.assistant import hours, retrieval
from common.assistant.phrasing import for_channel
from common.assistant.reply import Action, Reply
from common.store import Business, KnowledgeEntry, Turn
from common.store.base import WEEKDAYS

OFFER_MESSAGE = "Would you like to leave a message?"
SOURCE = "embedded"


def _pattern(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{alt})" for alt in alternatives))


_GOODBYE = _pattern(
    r"\b(?:good ?bye|bye(?: bye)?|see (?:you|ya)|farewell)\b",
    r"\bthat(?: s| is)? (?:all|it)\b",
    r"\bnothing else\b",
    r"\bhang(?:ing)? up\b",
    r"\bhave a (?:good|nice|great) (?:day|one|night|evening)\b",
)
_MESSAGE = _pattern(
    r"\b(?:leave|take|send|pass on|give)\b.*\bmessage\b",
    r"\bmessage for\b",
    r"\bcall (?:me )?back\b",
    r"\bcallback\b",
    r"\bvoice ?mail\b",
)
_HUMAN = _pattern(
    r"\b(?:speak|talk|chat)\b.*\b(?:person|human|someone|somebody|agent|"
    r"representative|operator|manager|owner|staff|receptionist|team)\b",
    r"\b(?:real|live|actual) (?:person|human|agent)\b",
    r"\btransfer me\b",
    r"\bput me through\b",
    r"\bconnect me\b",
    r"\b(?:operator|representative|human)\b",
)
_DAY_NAMES = "|".join(WEEKDAYS)
_OPEN_NOW = _pattern(
    r"\b(?:are|r) (?:you|u|ya|y all|they) (?:guys )?(?:still )?(?:open|closed)\b",
    r"\bopen (?:now|right now|today|tonight|at the moment|currently|yet)\b",
    r"\b(?:still|currently) (?:open|closed)\b",
    r"\bclosed (?:now|right now|today|at the moment)\b",
    r"\bis (?:it|the \w+|your \w+) (?:still )?open\b",
)
_HOURS = _pattern(
    r"\bhours\b",
    r"\bopening (?:times?|hours)\b",
    r"\bclosing times?\b",
    r"\bwhat time\b.*\b(?:open|close|closing|opening)\b",
    r"\bwhen\b.*\b(?:open|close|closing|opening)\b",
    rf"\bopen (?:on )?(?:{_DAY_NAMES}|weekends?|tomorrow)\b",
)
_LOCATION = _pattern(
    r"\bwhere (?:are|is|r) (?:you|u|your|the)\b",
    r"\bwhere .*\blocated\b",
    r"\baddress\b",
    r"\blocation\b",
    r"\bdirections\b",
    r"\bfind you\b",
    r"\bhow (?:do|can) i get (?:to|there)\b",
)
_PRICES = _pattern(
    r"\b(?:prices?|pricing|costs?|how much|charges?|fees?|rates?|quote)\b",
    r"\b(?:expensive|cheap|afford)\b",
)
_SERVICES = _pattern(
    r"\bservices?\b",
    r"\bwhat (?:do|can) (?:you|u) (?:do|offer|provide)\b",
    r"\bwhat (?:do|does) (?:you|u|the \w+) (?:guys )?(?:do|offer|provide|sell)\b",
    r"\bdo you (?:offer|provide)\b",
)
_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening))"
    r"(?: there)?(?: \w+)?$"
)
_THANKS = re.compile(r"^(?:thanks?|thank you|thx|ty|cheers)(?: (?:so much|a lot))?$")
_YES = re.compile(
    r"^(?:yes|yeah|yep|yup|sure|ok|okay|please|go ahead|i would|i d like that)"
    r"(?: please| thanks| thank you)?$"
)
_NO = re.compile(
    r"^(?:no|nope|nah|not really|no thanks?|no thank you|i m good|im good|"
    r"i m fine|no that s (?:all|it))$"
)
_PRICE_TERMS = frozenset(
    {"price", "pric", "cost", "charge", "fee", "rate", "quote", "pay", "paying"}
    | {"expensive", "cheap", "afford"}
)
_PRICE_WORDS = re.compile(
    r"[$\u20ac\u00a3]\s?\d|\d\s?(?:dollars|euros|pounds|usd|eur|gbp)\b"
    r"|\b(?:price|prices|pricing|cost|costs|fee|fees|rate|rates)\b",
    re.IGNORECASE,
)
# Words in an entry's topic that file it under an intent. An entry is also
# filed under the intent its question expresses.
_TOPIC_WORDS = {
    "hours": frozenset({"hours", "opening", "schedule", "times"}),
    "location": frozenset({"location", "address", "directions", "where"}),
    "prices": frozenset({"price", "prices", "pricing", "cost", "costs", "fees"}),
    "services": frozenset({"service", "services", "menu", "offerings", "treatments"}),
}


def normalise(text: str) -> str:
    """Lower case, apostrophes and punctuation to spaces, single-spaced."""
    lowered = text.lower().replace("\u2019", "'")
    return " ".join(re.sub(r"[^\w$\u20ac\u00a3]+", " ", lowered).split())


def offered_message(turns: Sequence[Turn]) -> bool:
    """Whether the assistant's last turn asked if they want to leave a message."""
    for turn in reversed(turns):
        if turn.role == "assistant":
            return "leave a message?" in turn.text.lower()
    return False


def classify(text: str, turns: Sequence[Turn] = ()) -> str:
    """The intent of `text` given the conversation so far."""
    said = normalise(text)
    if not said:
        return "unknown"
    if offered_message(turns):
        if _YES.match(said):
            return "message"
        if _NO.match(said):
            return "decline"
    checks = (
        ("goodbye", _GOODBYE),
        ("message", _MESSAGE),
        ("human", _HUMAN),
        ("open_now", _OPEN_NOW),
        ("hours", _HOURS),
        ("location", _LOCATION),
        ("prices", _PRICES),
        ("services", _SERVICES),
        ("greeting", _GREETING),
        ("thanks", _THANKS),
    )
    for intent, pattern in checks:
        if pattern.search(said):
            return intent
    if _NO.match(said):
        return "goodbye"
    if _YES.match(said):
        return "acknowledge"
    return "knowledge"


def respond(
    business: Business,
    channel: str,
    turns: Sequence[Turn],
    text: str,
    now: datetime,
) -> Reply:
    """Answer `text` from the business's profile and knowledge base alone."""
    intent = classify(text, turns)
    if intent in _FIXED_ANSWERS:
        return Reply(_FIXED_ANSWERS[intent], "answer", intent, SOURCE)

    composer = _COMPOSERS.get(intent, _knowledge)
    words, action, intent = composer(business, channel, text, now)
    return Reply(for_channel(words, channel), action, intent, SOURCE)


_Composed = tuple[str, Action, str]
_FIXED_ANSWERS = {
    "thanks": "You're welcome! Is there anything else I can help you with?",
    "acknowledge": "Sure. What can I help you with?",
    "decline": "No problem. Is there anything else I can help you with?",
}


def _dont_know(subject: str, intent: str) -> _Composed:
    return f"I'm sorry, I don't have {subject}. {OFFER_MESSAGE}", "answer", intent


@lru_cache(maxsize=4096)
def _topic_words(topic: str) -> frozenset[str]:
    return frozenset(normalise(topic).split())


@lru_cache(maxsize=4096)
def _question_intent(question: str) -> str:
    return classify(question)


def _entries_for(business: Business, intent: str) -> list[KnowledgeEntry]:
    """The knowledge-base entries about `intent`, by topic or by question.

    Entries are classified once per text and kept, not on every question.
    """
    words = _TOPIC_WORDS.get(intent, frozenset())
    return [
        entry
        for entry in business.knowledge
        if not words.isdisjoint(_topic_words(entry.topic or ""))
        or (entry.question and _question_intent(entry.question) == intent)
    ]


def _best_of(entries: list[KnowledgeEntry], text: str) -> KnowledgeEntry:
    """The entry sharing most with `text`, else the first one."""
    ranked = retrieval.rank(entries, text)
    return ranked[0].entry if ranked else entries[0]


def _noted(business: Business, text: str, intent: str) -> KnowledgeEntry | None:
    """The business's own entry about `intent` that best fits `text`."""
    entries = _entries_for(business, intent)
    return _best_of(entries, text) if entries else None


def _hours(business: Business, channel: str, text: str, now: datetime) -> _Composed:
    said = normalise(text)
    asked_day = next((day for day in WEEKDAYS if day in said.split()), None)
    if asked_day is None and "tomorrow" in said.split():
        local = hours.local_now(business.time_zone, now)
        asked_day = WEEKDAYS[(local.weekday() + 1) % 7]
    if asked_day and hours.has_hours(business.opening_hours):
        return hours.describe_day(business.opening_hours, asked_day), "answer", "hours"

    noted = _noted(business, text, "hours")
    if noted is not None:
        return noted.answer, "answer", "hours"
    described = hours.describe_week(business.opening_hours)
    if described:
        return f"Our hours are {described}.", "answer", "hours"
    return _dont_know("our opening hours on hand", "hours")


def _open_now(business: Business, channel: str, text: str, now: datetime) -> _Composed:
    said = normalise(text).split()
    if "tomorrow" in said or any(day in said for day in WEEKDAYS):
        return _hours(business, channel, text, now)
    if not hours.has_hours(business.opening_hours):
        return _hours(business, channel, text, now)[0], "answer", "open_now"

    local = hours.local_now(business.time_zone, now)
    status = hours.open_status(business.opening_hours, local)
    if status.is_open and status.closes_at is not None:
        closes = hours.spoken_time(status.closes_at.hour * 60 + status.closes_at.minute)
        day = hours.relative_day(status.closes_at, local)
        until = closes if day == "today" else f"{closes} {day}"
        return f"Yes, we're open now until {until}.", "answer", "open_now"
    if status.opens_at is not None:
        opens = hours.spoken_time(status.opens_at.hour * 60 + status.opens_at.minute)
        day = hours.relative_day(status.opens_at, local)
        return (
            f"We're closed right now. We open again {day} at {opens}.",
            "answer",
            "open_now",
        )
    return "We're closed right now.", "answer", "open_now"


def _location(business: Business, channel: str, text: str, now: datetime) -> _Composed:
    noted = _noted(business, text, "location")
    if noted is not None:
        return noted.answer, "answer", "location"
    if business.address:
        return f"We're at {business.address}.", "answer", "location"
    return _dont_know("our address on hand", "location")


def _prices(business: Business, channel: str, text: str, now: datetime) -> _Composed:
    candidates = _entries_for(business, "prices") + [
        entry
        for entry in business.knowledge
        if _PRICE_WORDS.search(f"{entry.question or ''} {entry.answer}")
    ]
    priced = list({id(entry): entry for entry in candidates}.values())
    if not priced:
        return _dont_know("prices to share", "prices")

    # "How much?" gets the price list; "how much is X?" only an entry naming X.
    named = set(retrieval.tokens(text)) - _PRICE_TERMS
    if not named:
        return _best_of(priced, text).answer, "answer", "prices"
    ranked = retrieval.rank(priced, " ".join(sorted(named)))
    if not ranked:
        return _dont_know("a price for that", "prices")
    return ranked[0].entry.answer, "answer", "prices"


def _services(business: Business, channel: str, text: str, now: datetime) -> _Composed:
    match = retrieval.best_match(business.knowledge, text)
    listed = _entries_for(business, "services")
    if match is not None and (not listed or match.coverage >= 0.99):
        return match.entry.answer, "answer", "services"
    if listed:
        return _best_of(listed, text).answer, "answer", "services"
    return _dont_know("a list of our services on hand", "services")


def _ask_for_message(channel: str) -> str:
    if channel == "voice":
        return "Please tell me your name and what your message is about."
    return "Reply with your name and your message, and I'll pass it on to the team."


def _human(business: Business, channel: str, text: str, now: datetime) -> _Composed:
    if channel == "voice" and business.transfer_number:
        return "Sure, let me connect you with someone now.", "transfer", "human"
    words = (
        "No one is available right now, but I can take a message. "
        + _ask_for_message(channel)
    )
    return words, "take_message", "human"


def _message(business: Business, channel: str, text: str, now: datetime) -> _Composed:
    return f"Of course. {_ask_for_message(channel)}", "take_message", "message"


def _goodbye(business: Business, channel: str, text: str, now: datetime) -> _Composed:
    verb = "calling" if channel == "voice" else "contacting"
    return f"Thanks for {verb} {business.name}. Goodbye!", "end", "goodbye"


def _greeting(business: Business, channel: str, text: str, now: datetime) -> _Composed:
    return (
        f"Hello! You've reached {business.name}. How can I help you today?",
        "answer",
        "greeting",
    )


def _knowledge(business: Business, channel: str, text: str, now: datetime) -> _Composed:
    match = retrieval.best_match(business.knowledge, text)
    if match is not None:
        return match.entry.answer, "answer", "knowledge"
    return (
        f"I'm sorry, I don't know the answer to that. {OFFER_MESSAGE}",
        "answer",
        "unknown",
    )


def _unclear(business: Business, channel: str, text: str, now: datetime) -> _Composed:
    if normalise(text):
        return _knowledge(business, channel, text, now)
    return "Sorry, I didn't catch that. How can I help you?", "answer", "unknown"


_COMPOSERS = {
    "hours": _hours,
    "open_now": _open_now,
    "location": _location,
    "prices": _prices,
    "services": _services,
    "human": _human,
    "message": _message,
    "goodbye": _goodbye,
    "greeting": _greeting,
    "knowledge": _knowledge,
    "unknown": _unclear,
}
