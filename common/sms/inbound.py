"""An inbound text, from Twilio's form to the TwiML reply.

Steps: resolve the business by `To`, claim the `MessageSid` (a retried or
concurrent duplicate gets the stored reply and causes nothing twice),
honour opt-out and help keywords, the service status and the reply-loop
cap, then ask the assistant and send its answer cut to `SMS_MAX_SEGMENTS`.
A message passed on to the owner is sent within what is left of
`SMS_TURN_DEADLINE_MS`, counted from the start of the answer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common import context, errors, twiml
from common.gating import service_decision, suspended_notice
from common.logs import get_logger
from common.settings import Settings, get_settings
from common.sms.keywords import keyword_of
from common.sms.segments import count_segments, fit_segments
from common.store import Business, Conversation, Store, Turn, get_store

log = get_logger(__name__)

CLAIM_SOURCE = "twilio_sms"
# Replies one conversation may get per window before we assume another
# machine is answering us and stop.
LOOP_REPLY_LIMIT = 10
LOOP_WINDOW_SECONDS = 600
# How long a duplicate waits for the first delivery's reply.
DUPLICATE_WAIT_SECONDS = 5.0
MAX_BODY_CHARS = 1600
# Twilio attaches at most ten media to one message (`MediaUrl0` ... `MediaUrl9`).
MAX_MEDIA = 10

NOT_IN_SERVICE = "Sorry, this number is not in service."
DEFAULT_HELP = "{name}: text us your question and we'll answer. Reply STOP to opt out."
MESSAGE_PASSED_ON = "Thanks, I've passed your message on to {name}."


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    sender: str
    to: str
    body: str
    media_types: tuple[str, ...]

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> InboundSms:
        """The fields we use; a missing `MessageSid`, `From` or `To` is a 400."""
        message_sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
        context.update(message_sid=message_sid)
        missing = [
            name
            for name, value in (
                ("MessageSid", message_sid),
                ("From", form.get("From")),
                ("To", form.get("To")),
            )
            if not (value or "").strip()
        ]
        if missing:
            raise errors.BadRequest(
                f"{', '.join(missing)} missing from the SMS webhook",
                code="missing_parameter",
                reason=f"missing {', '.join(missing)}",
            )
        return cls(
            message_sid=message_sid,
            sender=str(form.get("From")).strip(),
            to=str(form.get("To")).strip(),
            body=(form.get("Body") or "")[:MAX_BODY_CHARS],
            media_types=_media_types(form),
        )


def _media_types(form: Mapping[str, str]) -> tuple[str, ...]:
    """The type of each attachment whose `MediaUrlN` is present.

    `NumMedia` is only a claim: what counts is the media that came. A count
    that is not a number or disagrees is logged (`sms_bad_input`), never
    trusted, and the message is answered as usual.
    """
    present = [
        index
        for index in range(MAX_MEDIA)
        if (form.get(f"MediaUrl{index}") or "").strip()
    ]
    stated = (form.get("NumMedia") or "").strip()
    if stated and (not stated.isdigit() or int(stated) != len(present)):
        log.warning(
            "sms_bad_input",
            "NumMedia is not the number of media URLs sent; counted the URLs",
            num_media=stated[:20],
            media_count=len(present),
        )
    return tuple(form.get(f"MediaContentType{index}") or "unknown" for index in present)


def answer(sms: InboundSms, business: Business | None) -> str:
    """The TwiML answer to one inbound SMS sent to `business`'s number."""
    if business is None:
        return twiml.message(NOT_IN_SERVICE)

    store = get_store()
    settings = get_settings()
    deadline = time.monotonic() + settings.sms_turn_deadline_ms / 1000
    claim = store.claim(
        CLAIM_SOURCE, sms.message_sid, ttl_seconds=settings.idempotency_ttl_seconds
    )
    if not claim.won:
        return _duplicate(store, settings, sms, claim.result)

    try:
        reply = _reply(store, settings, business, sms, deadline)
    except Exception:
        store.release_claim(CLAIM_SOURCE, sms.message_sid)
        raise
    answer_twiml = twiml.message(reply)
    store.complete_claim(CLAIM_SOURCE, sms.message_sid, {"twiml": answer_twiml})
    return answer_twiml


def _duplicate(
    store: Store, settings: Settings, sms: InboundSms, result: dict[str, Any] | None
) -> str:
    """The first delivery's reply, waiting briefly if it is still being made."""
    deadline = time.monotonic() + DUPLICATE_WAIT_SECONDS
    while result is None and time.monotonic() < deadline:
        time.sleep(0.05)
        claim = store.claim(
            CLAIM_SOURCE, sms.message_sid, settings.idempotency_ttl_seconds
        )
        if claim.won:
            # The first holder gave up; do not answer twice, let Twilio retry.
            store.release_claim(CLAIM_SOURCE, sms.message_sid)
            break
        result = claim.result
    log.info(
        "sms_duplicate",
        "Repeated MessageSid answered with the first reply",
        replayed=result is not None,
    )
    if result is None:
        return twiml.empty()
    return str(result["twiml"])


def _reply(
    store: Store,
    settings: Settings,
    business: Business,
    sms: InboundSms,
    deadline: float,
) -> str | None:
    """The reply text for this message, or None to send nothing."""
    conversation = store.get_conversation(business.business_id, "sms", sms.sender)
    log.info(
        "sms_received",
        segments=count_segments(sms.body).segments,
        media_count=len(sms.media_types),
        media_types=list(sms.media_types),
        body=sms.body,
    )

    keyword = keyword_of(sms.body)
    if keyword == "opt_out":
        conversation.state["opted_out"] = True
        store.save_conversation(conversation, settings.conversation_max_turns)
        log.info("sms_opt_out", "Customer opted out; no reply is sent")
        return None
    if keyword == "opt_in":
        conversation.state["opted_out"] = False
        store.save_conversation(conversation, settings.conversation_max_turns)
        log.info("sms_opt_in", "Customer opted back in")
        return None
    if conversation.state.get("opted_out"):
        log.info("sms_suppressed", "Customer opted out; no reply", reason="opted_out")
        return None

    if _suspended(business):
        return _suspension_notice(store, settings, business, conversation)
    if _looping(store, business, sms):
        return None

    if keyword == "help":
        help_text = business.help_text or DEFAULT_HELP.format(name=business.name)
        log.info("sms_help", "Help text sent")
        return _send(settings, help_text, intent="help", action="answer")
    reply, intent, action = _assistant_reply(
        store, settings, business, conversation, sms, deadline
    )
    return _send(settings, reply, intent=intent, action=action)


def _suspended(business: Business) -> bool:
    return service_decision(business) == "suspend"


def _suspension_notice(
    store: Store, settings: Settings, business: Business, conversation: Conversation
) -> str | None:
    """Tell a customer once that the service is paused; then stay quiet."""
    if conversation.state.get("suspension_notice_sent"):
        log.info("sms_suppressed", "Service suspended", reason="suspended")
        return None
    conversation.state["suspension_notice_sent"] = True
    store.save_conversation(conversation, settings.conversation_max_turns)
    log.info("sms_suspended_notice", "Service suspended; notice sent once")
    return suspended_notice(business, "sms")


def _looping(store: Store, business: Business, sms: InboundSms) -> bool:
    """Whether this conversation is over its reply cap for the window."""
    key = f"sms_replies:{business.business_id}:{sms.sender}"
    count = store.increment(key, LOOP_WINDOW_SECONDS)
    if count <= LOOP_REPLY_LIMIT:
        return False
    if count == LOOP_REPLY_LIMIT + 1:
        log.warning(
            "sms_reply_loop_capped",
            f"More than {LOOP_REPLY_LIMIT} replies in {LOOP_WINDOW_SECONDS}s to one "
            "sender; replies paused for the window",
            limit=LOOP_REPLY_LIMIT,
            window_seconds=LOOP_WINDOW_SECONDS,
        )
    else:
        log.info("sms_suppressed", "Reply loop capped", reason="reply_loop")
    return True


def _assistant_reply(
    store: Store,
    settings: Settings,
    business: Business,
    conversation: Conversation,
    sms: InboundSms,
    deadline: float,
) -> tuple[str, str, str]:
    """The reply text, the intent and the action, conversation saved."""
    from common.assistant import respond

    text = sms.body.strip()
    media_note = _media_note(sms.media_types)
    if conversation.state.pop("awaiting_message", False) and text:
        reply_text = _pass_message_on(business, sms, text, deadline)
        intent, action = "message", "end"
    elif not text:
        reply_text = f"Thanks, we received your {media_note}." if media_note else ""
        intent, action = "media", "answer"
    else:
        reply = respond(
            business,
            "sms",
            conversation.turns,
            text,
            deadline_ms=settings.sms_turn_deadline_ms,
        )
        reply_text, intent, action = reply.text, reply.intent, reply.action
        if action in ("take_message", "transfer"):
            conversation.state["awaiting_message"] = True
        if media_note:
            reply_text = f"Thanks for the {media_note}. {reply_text}"

    now = time.time()
    said = text or f"[{media_note}]"
    conversation.turns.append(Turn("customer", said, now))
    if reply_text:
        conversation.turns.append(Turn("assistant", reply_text, now))
    store.save_conversation(conversation, settings.conversation_max_turns)
    return reply_text, intent, action


def _pass_message_on(
    business: Business, sms: InboundSms, text: str, deadline: float
) -> str:
    from common.notify import notify_owner

    details = {"from": sms.sender, "channel": "sms", "message": text}
    sent = notify_owner(
        business,
        "message_taken",
        f"Text message from {sms.sender}: {text}",
        details=details,
        deadline=deadline,
    )
    log.info("sms_message_taken", "Message passed to the owner", delivered=sent)
    return MESSAGE_PASSED_ON.format(name=business.name)


def _media_note(media_types: tuple[str, ...]) -> str:
    if not media_types:
        return ""
    if len(media_types) == 1:
        return "photo" if media_types[0].startswith("image/") else "attachment"
    return f"{len(media_types)} attachments"


def _send(settings: Settings, reply: str, intent: str, action: str) -> str | None:
    if not reply:
        return None
    cut = fit_segments(reply, settings.sms_max_segments)
    counted = count_segments(cut)
    log.info(
        "sms_replied",
        segments=counted.segments,
        encoding=counted.encoding,
        truncated=cut != reply,
        intent=intent,
        action=action,
        reply=cut,
    )
    return cut
