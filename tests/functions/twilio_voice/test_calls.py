from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest

from common.store import get_store
from tests.functions.conftest import BAKERY_NUMBER, Line, bakery, parse

Start = Callable[..., Line]
CALL_SID = "CA8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a"
CALLER = "+15551230003"


@dataclass
class Call:
    """One call in progress: post what Twilio would post, follow its answers."""

    line: Line
    last: ElementTree.Element | None = None
    status: int = 0

    def post(
        self, path: str, fixture: str, **fields: str | None
    ) -> ElementTree.Element:
        changes: dict[str, str | None] = {"To": BAKERY_NUMBER, **fields}
        response = self.line.post(path, fixture, **changes)
        self.status = response.status_code
        self.last = parse(response)
        return self.last

    def start(self) -> ElementTree.Element:
        return self.post("/v1/voice", "voice-inbound")

    def say(self, speech: str) -> ElementTree.Element:
        """Answer the open `<Gather>` with `speech`."""
        return self.post(
            self.gather_action(), "voice-gather-speech", SpeechResult=speech
        )

    def press(self, digits: str) -> ElementTree.Element:
        return self.post(self.gather_action(), "voice-gather-digits", Digits=digits)

    def stay_silent(self) -> ElementTree.Element:
        """Let the `<Gather>` time out: Twilio follows the `<Redirect>`."""
        assert self.last is not None
        redirect = self.last.find("Redirect")
        assert redirect is not None
        assert redirect.text
        return self.post(path_of(redirect.text), "voice-gather-empty")

    def dial_ends(self, dial_status: str) -> ElementTree.Element:
        assert self.last is not None
        dial = self.last.find("Dial")
        assert dial is not None
        return self.post(
            path_of(dial.attrib["action"]),
            "voice-dial-action",
            DialCallStatus=dial_status,
        )

    def ends(self) -> None:
        """The caller hangs up: Twilio posts the status callback."""
        response = self.line.post(
            "/v1/voice/status", "voice-status-completed", To=BAKERY_NUMBER
        )
        assert response.status_code == 200

    def gather_action(self) -> str:
        assert self.last is not None
        gather = self.last.find("Gather")
        assert gather is not None, ElementTree.tostring(self.last)
        return path_of(gather.attrib["action"])

    def spoken(self) -> str:
        assert self.last is not None
        return " ".join(element.text or "" for element in self.last.iter("Say"))

    def hung_up(self) -> bool:
        assert self.last is not None
        return self.last.find("Hangup") is not None


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def notifications(line: Line, kind: str) -> list[dict[str, object]]:
    return [record for record in line.outbox() if record["kind"] == kind]


def test_an_incoming_call_is_greeted_and_listened_to(line: Start) -> None:
    call = Call(line())

    answer = call.start()

    gather = answer.find("Gather")
    assert gather is not None
    assert gather.attrib["input"] == "speech dtmf"
    assert gather.attrib["action"] == "/v1/voice/turn?n=1"
    assert "Corner Bakery" in call.spoken()
    assert answer.find("Redirect") is not None  # what happens on silence
    started = call.line.logs.one("call_started")
    assert started["call_sid"] == CALL_SID
    assert started["business_id"] == "biz-corner-bakery"


def test_action_urls_are_absolute_under_the_public_base_url(line: Start) -> None:
    call = Call(line(PUBLIC_BASE_URL="https://voice.example.com"))

    call.start()

    assert call.gather_action() == "/v1/voice/turn?n=1"
    gather = call.last.find("Gather") if call.last is not None else None
    assert gather is not None
    assert gather.attrib["action"] == "https://voice.example.com/v1/voice/turn?n=1"


def test_a_question_is_answered_and_the_next_turn_listened_for(line: Start) -> None:
    call = Call(line())
    call.start()

    call.say("Do you bake gluten-free bread?")

    assert "Tuesday and Friday" in call.spoken()
    assert call.gather_action() == "/v1/voice/turn?n=2"
    turn = call.line.logs.one("call_turn")
    assert turn["intent"] == "knowledge"
    assert turn["utterance"].startswith("<")  # the words stay out of the logs


def test_a_retried_turn_gets_the_same_answer_without_asking_again(
    line: Start,
) -> None:
    call = Call(line())
    call.start()
    action = call.gather_action()

    first = call.say("Do you bake gluten-free bread?")
    again = call.post(action, "voice-gather-speech", SpeechResult="Something else")

    assert ElementTree.tostring(first) == ElementTree.tostring(again)
    assert len(call.line.logs.events("assistant_replied")) == 1
    assert len(call.line.logs.events("call_turn_replayed")) == 1


def test_a_turn_being_answered_elsewhere_asks_twilio_to_come_back(
    line: Start,
) -> None:
    call = Call(line())
    call.start()
    get_store().claim("twilio_voice", f"{CALL_SID}:turn:1", ttl_seconds=3600)

    answer = call.say("Do you bake gluten-free bread?")

    redirect = answer.find("Redirect")
    assert redirect is not None
    assert path_of(redirect.text or "") == "/v1/voice/turn?n=1"
    assert call.line.logs.events("assistant_replied") == []


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("?n=abc", "abc"),
        ("?n=-1", "-1"),
        ("?n=0", "0"),
        ("?n=1000", "1000"),
        ("?n=" + "9" * 40, "9" * 20),
        ("?n=%D9%A1", "\u0661"),  # an Arabic-Indic one
        ("", "missing"),
    ],
)
@pytest.mark.parametrize("step", ["turn", "dial-result"])
def test_a_webhook_without_a_valid_turn_number_is_asked_again_not_replayed(
    line: Start, step: str, query: str, logged: str
) -> None:
    call = Call(line())
    call.start()
    first = call.say("Do you bake gluten-free bread?")

    answer = call.post(
        f"/v1/voice/{step}{query}", "voice-gather-speech", SpeechResult="Hello?"
    )

    assert call.status == 200
    assert ElementTree.tostring(answer) != ElementTree.tostring(first)
    assert call.spoken() == "Sorry, I didn't catch that. How can I help you?"
    assert call.gather_action() == "/v1/voice/turn?n=2"
    assert not call.hung_up()
    bad_input = call.line.logs.one("voice_bad_input")
    assert bad_input["n"] == logged
    assert bad_input["call_sid"] == CALL_SID
    assert call.line.logs.events("call_turn_replayed") == []
    assert len(call.line.logs.events("assistant_replied")) == 1


def test_after_a_malformed_turn_the_call_goes_on(line: Start) -> None:
    call = Call(line())
    call.start()
    call.post("/v1/voice/turn?n=abc", "voice-gather-speech", SpeechResult="Hi")

    call.say("Do you bake gluten-free bread?")

    assert "Tuesday and Friday" in call.spoken()
    assert call.gather_action() == "/v1/voice/turn?n=2"


def test_silence_reprompts_then_the_call_ends_politely(line: Start) -> None:
    call = Call(line())
    call.start()

    first = call.stay_silent()
    second = call.stay_silent()
    call.stay_silent()

    assert first.find("Gather") is not None
    assert second.find("Gather") is not None
    assert call.hung_up()
    assert "call us again" in call.spoken()
    assert len(call.line.logs.events("call_silence")) == 3


def test_a_call_walks_question_answer_message_and_goodbye(line: Start) -> None:
    call = Call(line())

    call.start()
    call.say("Do you bake gluten-free bread?")
    answered = call.spoken()
    call.say("I'd like to leave a message")
    asked_name = call.spoken()
    call.say("Dana Smith")
    call.say("Please save me two rye loaves for Saturday")
    call.ends()

    assert "Tuesday and Friday" in answered
    assert "name" in asked_name
    assert "Goodbye" in call.spoken()
    assert call.hung_up()
    [taken] = notifications(call.line, "message_taken")
    assert "Dana Smith" in str(taken["text"])
    assert "two rye loaves" in str(taken["text"])
    assert CALLER in str(taken["text"])


def test_asking_for_a_person_dials_the_transfer_number(line: Start) -> None:
    call = Call(line())
    call.start()

    answer = call.say("Can I speak to a person please?")

    dial = answer.find("Dial")
    assert dial is not None
    assert (dial.text or "").strip() == "+15551239999"
    assert dial.attrib["timeout"] == "20"
    assert path_of(dial.attrib["action"]) == "/v1/voice/dial-result?n=2"


def test_pressing_zero_asks_for_a_person(line: Start) -> None:
    call = Call(line())
    call.start()

    answer = call.press("0")

    assert answer.find("Dial") is not None


@pytest.mark.parametrize("dial_status", ["no-answer", "busy", "failed"])
def test_an_unanswered_transfer_offers_a_message_and_tells_the_owner_after_the_call(
    line: Start, dial_status: str
) -> None:
    call = Call(line())
    call.start()
    call.say("Can I speak to a person please?")

    call.dial_ends(dial_status)
    offer = call.spoken()
    call.say("Yes please")
    call.say("Sam")
    call.say("Call me back about a cake order")
    during_the_call = call.line.outbox()
    call.ends()
    call.ends()

    assert "leave a message" in offer
    assert call.hung_up()
    assert during_the_call == []
    missed, taken = call.line.outbox()
    assert (missed["kind"], taken["kind"]) == ("missed_transfer", "message_taken")
    assert CALLER in str(missed["text"])
    deferred = call.line.logs.events("owner_notification_deferred")
    assert [line["kind"] for line in deferred] == ["missed_transfer", "message_taken"]


def test_declining_the_message_after_a_missed_transfer_ends_the_call(
    line: Start,
) -> None:
    call = Call(line())
    call.start()
    call.say("Can I speak to a person please?")
    call.dial_ends("no-answer")

    call.say("No thanks")
    call.ends()

    assert call.hung_up()
    assert notifications(call.line, "message_taken") == []


def test_an_answered_transfer_ends_our_part_of_the_call(line: Start) -> None:
    call = Call(line())
    call.start()
    call.say("Can I speak to a person please?")

    call.dial_ends("completed")
    call.ends()

    assert call.hung_up()
    assert notifications(call.line, "missed_transfer") == []


def test_without_a_transfer_number_a_message_is_taken_instead(line: Start) -> None:
    call = Call(line(bakery(transfer_number=None)))
    call.start()

    answer = call.say("Can I speak to a person please?")

    assert answer.find("Dial") is None
    assert "name" in call.spoken()


def test_goodbye_ends_the_call(line: Start) -> None:
    call = Call(line())
    call.start()

    call.say("That's all, goodbye")

    assert call.hung_up()
    assert "Goodbye" in call.spoken()


def test_a_silent_message_is_recorded_and_the_recording_reaches_the_owner(
    line: Start,
) -> None:
    call = Call(line())
    call.start()
    call.say("I'd like to leave a message")
    call.say("Dana")

    answer = call.stay_silent()
    record = answer.find("Record")
    assert record is not None
    assert path_of(record.attrib["recordingStatusCallback"]) == "/v1/voice/recording"
    done = call.post(
        path_of(record.attrib["action"]),
        "voice-gather-empty",
        RecordingUrl="https://api.twilio.com/recording",
        RecordingSid="RE9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b",
    )
    call.post("/v1/voice/recording", "voice-recording")
    call.post("/v1/voice/recording", "voice-recording")

    assert done.find("Hangup") is not None
    [taken] = notifications(call.line, "message_taken")
    details = taken["details"]
    assert isinstance(details, dict)
    assert details["recording_sid"] == "RE9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b9b"
    assert "Dana" in str(taken["text"])
    assert "api.twilio.com" not in str(call.line.logs.lines)


def test_the_status_callback_records_the_outcome_and_duration(line: Start) -> None:
    call = Call(line())
    call.start()
    call.say("Do you bake gluten-free bread?")

    call.post("/v1/voice/status", "voice-status-completed")

    completed = call.line.logs.one("call_completed")
    assert completed["duration_seconds"] == 73
    assert completed["status"] == "completed"
    assert completed["outcome"] == "answered"
    assert completed["business_id"] == "biz-corner-bakery"
    state = get_store().get_document("voice_calls", CALL_SID)
    assert state is not None
    assert state["duration_seconds"] == 73


def test_a_suspended_business_plays_a_notice_and_hangs_up(line: Start) -> None:
    call = Call(line(bakery(status="suspended")))

    call.start()

    assert call.hung_up()
    assert "cannot take calls" in call.spoken()
    assert call.line.logs.events("call_started") == []


def test_an_unknown_number_is_told_not_in_service(line: Start) -> None:
    call = Call(line())

    call.post("/v1/voice", "voice-inbound", To="+15005550099", Called="+15005550099")

    assert call.status == 200
    assert call.hung_up()
    assert "not in service" in call.spoken()
    assert call.line.logs.one("tenant_unresolved")["business_id"] == "-"


def test_a_webhook_without_a_call_sid_gets_twiml_and_a_log_line(line: Start) -> None:
    call = Call(line())

    call.post("/v1/voice", "voice-inbound", CallSid=None)

    assert call.status == 400
    assert call.hung_up()
    assert call.line.logs.one("request_rejected")["code"] == "missing_parameter"


@pytest.mark.parametrize(
    "speech",
    [
        "¿Abren el sábado? 🥐",
        "営業時間は\uff1f",
        "bell\x07 and nul\x00",
        "<Say>&amp;</Say>",
    ],
)
def test_any_unicode_speech_gets_well_formed_twiml(line: Start, speech: str) -> None:
    call = Call(line())
    call.start()

    call.say(speech)

    assert call.status == 200
    assert call.last is not None


def test_a_body_over_the_limit_gets_voice_twiml_not_html(line: Start) -> None:
    call = Call(line(MAX_BODY_BYTES="2048"))

    call.post("/v1/voice/turn?n=1", "voice-gather-speech", SpeechResult="a" * 5000)

    assert call.status == 413
    assert call.hung_up()
