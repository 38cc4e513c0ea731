"""The voice webhooks: state per call, one answer per turn, the owner told.

Each handler takes the form Twilio posted and returns TwiML. Turn answers
are claimed per `CallSid` and turn number, so a retried webhook gets the
stored TwiML back without a second assistant call or notification; a
concurrent duplicate is asked to come back a moment later.

A caller on the line never waits for an owner notification, which may take
seconds: a turn that takes a message or misses a transfer keeps its notice
in the call's state, and the status callback sends each one once, after
the call has ended. Recorded messages are sent from the recording callback,
which nobody waits on either.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from common import context, errors, twiml
from common.gating import service_decision, suspended_notice
from common.logs import get_logger
from common.settings import get_settings
from common.store import Business, Conversation, Store, Turn, get_store
from common.voice import flow
from common.voice.flow import CallState, Urls

log = get_logger(__name__)

CALLS = "voice_calls"
CALL_TTL_SECONDS = 2 * 24 * 3600
CLAIM_SOURCE = "twilio_voice"
# Time kept back from the turn deadline for our own store writes and TwiML.
DEADLINE_MARGIN_MS = 300
MIN_ASSISTANT_MS = 100
ANSWERED_DIAL = frozenset({"completed", "answered"})


@dataclass(frozen=True)
class Webhook:
    """A voice webhook's form, with the fields every handler needs."""

    form: Mapping[str, str]
    call_sid: str
    caller: str

    @classmethod
    def parse(cls, form: Mapping[str, str]) -> Webhook:
        call_sid = (form.get("CallSid") or "").strip()
        context.update(call_sid=call_sid)
        if not call_sid:
            raise errors.BadRequest(
                "CallSid is missing", code="missing_parameter", reason="no CallSid"
            )
        return cls(
            form=form,
            call_sid=call_sid,
            caller=(form.get("From") or form.get("Caller") or "").strip(),
        )


Act = Callable[[Webhook, Business, CallState, Store], flow.Answer]


def not_in_service() -> str:
    """The answer for a call to a number no business owns."""
    return flow.hang_up(flow.NOT_IN_SERVICE)


def refusal(business: Business) -> str | None:
    """The answer for a business we do not serve now, or None to serve it."""
    if service_decision(business) == "suspend":
        log.info("call_refused_suspended", "Call refused: service suspended")
        return flow.hang_up(suspended_notice(business, "voice"))
    return None


def incoming(hook: Webhook, business: Business, urls: Urls) -> str:
    """A new call: greet and listen."""

    store = get_store()
    if store.get_document(CALLS, hook.call_sid) is None:
        state = CallState(hook.call_sid, business.business_id, hook.caller)
        _save_state(store, state)
    log.info("call_started", "Incoming call answered", caller=hook.caller or "-")
    return flow.ask(flow.greeting_text(business), urls, turn=1)


def turn(
    hook: Webhook, business: Business, number: int, urls: Urls, own_url: str
) -> str:
    """The caller spoke, pressed a key, or said nothing: answer the turn."""
    started = time.monotonic()

    def act(
        hook: Webhook, business: Business, state: CallState, store: Store
    ) -> flow.Answer:
        utterance = flow.caller_input(dict(hook.form))
        next_turn = number + 1
        state.next_turn = max(state.next_turn, next_turn)
        if state.stage == "message_reason" and hook.form.get("RecordingUrl"):
            return flow.Answer(flow.recorded(state, business))
        if not utterance:
            log.info("call_silence", "The caller said nothing", stage=state.stage)
            return flow.Answer(flow.reprompt(state, business, urls, next_turn))

        state.silences = 0
        state.turns += 1
        if state.stage == "message_name":
            return flow.Answer(
                flow.take_name(state, business, utterance, urls, next_turn)
            )
        if state.stage == "message_reason":
            return flow.take_reason(state, business, utterance)
        if state.stage == "offer_message":
            return flow.Answer(
                flow.answer_offer(state, business, utterance, urls, next_turn)
            )
        return _converse(
            hook, business, state, store, utterance, next_turn, urls, started
        )

    return _claimed(hook, business, f"turn:{number}", own_url, act)


def unnumbered_turn(
    hook: Webhook, business: Business, raw_number: str | None, urls: Urls
) -> str:
    """A turn or dial-result webhook without a valid `n`: ask again.

    The caller is not at fault, so the call goes on: the stage's question is
    asked once more, listening on the turn the call is at. Nothing is
    claimed or stored, and no stored turn is replayed.
    """
    log.warning(
        "voice_bad_input",
        "Voice webhook without a valid turn number; the caller is asked again",
        n="missing" if raw_number is None else raw_number[:20],
    )
    state = _load_state(get_store(), hook, business)
    if state.stage == "done":
        return flow.hang_up_silently()
    return flow.ask_again(state, urls, state.next_turn)


def dial_result(
    hook: Webhook, business: Business, number: int, urls: Urls, own_url: str
) -> str:
    """A transfer finished: done if answered, else offer to take a message."""

    def act(
        hook: Webhook, business: Business, state: CallState, store: Store
    ) -> flow.Answer:
        dial_status = (hook.form.get("DialCallStatus") or "").strip() or "unknown"
        log.info("call_transfer_finished", dial_status=dial_status)
        state.next_turn = max(state.next_turn, number + 1)
        if dial_status in ANSWERED_DIAL:
            state.stage = "done"
            state.outcome = "transferred"
            return flow.Answer(flow.hang_up_silently())
        return flow.missed_transfer(state, business, dial_status, urls, number + 1)

    return _claimed(hook, business, f"dial:{number}", own_url, act)


def recording(hook: Webhook) -> str:
    """A recorded message is ready: tell the owner, once per recording."""
    form = hook.form
    recording_sid = (form.get("RecordingSid") or "").strip()
    recording_status = (form.get("RecordingStatus") or "").strip() or "unknown"
    duration = _seconds(form.get("RecordingDuration"))
    store = get_store()
    document = store.get_document(CALLS, hook.call_sid)
    if document is not None:
        context.update(business_id=str(document["business_id"]))
    log.info(
        "call_recording",
        f"Recording {recording_status}, {duration}s",
        status=recording_status,
        duration_seconds=duration,
    )
    if recording_status != "completed" or not recording_sid or document is None:
        return twiml.empty()

    state = CallState.from_document(document)
    business = store.get_business(state.business_id)
    claim = store.claim(CLAIM_SOURCE, f"recording:{recording_sid}", CALL_TTL_SECONDS)
    if business is None or not claim.won:
        return twiml.empty()

    name = state.caller_name or "A caller"
    details = {
        "caller": state.caller,
        "caller_name": state.caller_name or "",
        "call_sid": state.call_sid,
        "recording_sid": recording_sid,
        "recording_url": form.get("RecordingUrl") or "",
        "duration_seconds": duration,
        "channel": "voice",
    }
    text = f"{name} ({state.caller}) left a {duration}s voice message."
    _notify(business, "message_taken", text, details)
    store.complete_claim(CLAIM_SOURCE, f"recording:{recording_sid}", None)
    return twiml.empty()


def status(hook: Webhook) -> str:
    """The call ended: record its final status and duration."""
    form = hook.form
    call_status = (form.get("CallStatus") or "").strip() or "unknown"
    duration = _seconds(form.get("CallDuration"))
    store = get_store()

    document = store.get_document(CALLS, hook.call_sid)
    if document is None:
        log.info(
            "call_completed",
            "Status for a call we never answered",
            status=call_status,
            duration_seconds=duration,
            outcome="not_answered",
        )
        return twiml.empty()

    state = CallState.from_document(document)
    context.update(business_id=state.business_id)
    state.status = call_status
    state.duration_seconds = duration
    if state.outcome == "in_progress":
        state.outcome = "answered" if state.turns else "ended"
    _save_state(store, state)
    log.info(
        "call_completed",
        f"Call {call_status} after {duration}s: {state.outcome}",
        status=call_status,
        duration_seconds=duration,
        outcome=state.outcome,
        turns=state.turns,
    )
    _send_notices(store, state)
    return twiml.empty()


def _send_notices(store: Store, state: CallState) -> None:
    """Tell the owner what the call's turns kept for them, each notice once."""
    business = store.get_business(state.business_id) if state.notices else None
    if business is None:
        return
    for index, notice in enumerate(state.notices):
        key = f"notice:{state.call_sid}:{index}"
        if not store.claim(CLAIM_SOURCE, key, CALL_TTL_SECONDS).won:
            continue
        _notify(business, notice["kind"], notice["text"], notice["details"])
        store.complete_claim(CLAIM_SOURCE, key, None)


def _converse(
    hook: Webhook,
    business: Business,
    state: CallState,
    store: Store,
    utterance: str,
    next_turn: int,
    urls: Urls,
    started: float,
) -> flow.Answer:
    from common.assistant import respond

    settings = get_settings()
    elapsed_ms = (time.monotonic() - started) * 1000
    budget_ms = settings.voice_turn_deadline_ms - elapsed_ms - DEADLINE_MARGIN_MS
    conversation = store.get_conversation(business.business_id, "voice", hook.call_sid)
    reply = respond(
        business,
        "voice",
        conversation.turns,
        utterance,
        deadline_ms=max(int(budget_ms), MIN_ASSISTANT_MS),
    )
    _remember(
        store, conversation, utterance, reply.text, settings.conversation_max_turns
    )
    log.info(
        "call_turn",
        action=reply.action,
        intent=reply.intent,
        source=reply.source,
        utterance=utterance,
        reply=reply.text,
    )

    if reply.action == "end":
        state.stage = "done"
        if state.outcome == "in_progress":
            state.outcome = "answered"
        return flow.Answer(flow.hang_up(reply.text))
    if reply.action == "take_message":
        return flow.Answer(flow.start_message(state, business, urls, next_turn))
    if reply.action == "transfer":
        if business.transfer_number:
            state.outcome = "transferred"
            return flow.Answer(
                flow.dial(reply.text, business.transfer_number, urls, next_turn)
            )
        log.info("call_transfer_unavailable", "No transfer number; taking a message")
        return flow.Answer(flow.start_message(state, business, urls, next_turn))
    return flow.Answer(flow.ask(reply.text, urls, next_turn))


def _remember(
    store: Store,
    conversation: Conversation,
    utterance: str,
    reply: str,
    max_turns: int,
) -> None:
    now = time.time()
    conversation.turns.append(Turn("customer", utterance, now))
    conversation.turns.append(Turn("assistant", reply, now))
    store.save_conversation(conversation, max_turns)


def _claimed(
    hook: Webhook, business: Business, step: str, own_url: str, act: Act
) -> str:
    store = get_store()
    key = f"{hook.call_sid}:{step}"
    claim = store.claim(CLAIM_SOURCE, key, ttl_seconds=CALL_TTL_SECONDS)
    if claim.state == "done" and claim.result:
        log.info("call_turn_replayed", "Retried turn answered from the store")
        return str(claim.result["twiml"])
    if not claim.won:
        log.info("call_turn_in_progress", "Duplicate turn asked to come back")
        return flow.come_back(own_url)

    try:
        state = _load_state(store, hook, business)
        result = act(hook, business, state, store)
        for kind, text, details in result.notify:
            state.notices.append({"kind": kind, "text": text, "details": details})
            log.info(
                "owner_notification_deferred",
                "The owner is told once the call has ended",
                kind=kind,
            )
        _save_state(store, state)
    except Exception:
        store.release_claim(CLAIM_SOURCE, key)
        raise
    store.complete_claim(CLAIM_SOURCE, key, {"twiml": result.twiml})
    return result.twiml


def _load_state(store: Store, hook: Webhook, business: Business) -> CallState:
    document = store.get_document(CALLS, hook.call_sid)
    if document is None:
        return CallState(hook.call_sid, business.business_id, hook.caller)
    return CallState.from_document(document)


def _save_state(store: Store, state: CallState) -> None:
    store.put_document(CALLS, state.call_sid, state.to_document(), CALL_TTL_SECONDS)


def _notify(business: Business, kind: str, text: str, details: dict[str, Any]) -> None:
    from common.notify import notify_owner

    notify_owner(business, kind, text, details=details)


def _seconds(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None
