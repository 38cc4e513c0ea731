"""The demo business `make run` seeds, over SMS and on the phone."""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree

from common import outbox
from common.notify import OUTBOX_CHANNEL
from common.settings import Settings
from common.store import get_store
from common.store.demo import seed_demo
from tests.builders import TwilioRequest
from tests.conftest import LogCapture
from tests.runtime import local_client

Configure = Callable[..., tuple[Settings, LogCapture]]


def test_a_texted_question_gets_the_demo_business_hours(
    configure: Configure,
) -> None:
    settings, logs = configure()
    seed_demo(get_store(), settings)
    sms = TwilioRequest.from_fixture(
        "/twilio/sms", "sms-inbound", Body="What are your hours?"
    )

    response = local_client().post(sms.path, **sms.signed().kwargs())

    reply = ElementTree.fromstring(response.get_data()).findtext("Message") or ""
    assert response.status_code == 200
    assert "9am to 6pm" in reply
    assert "10am to 4pm" in reply
    assert logs.one("sms_replied")["business_id"] == "biz-demo"


def test_a_call_asks_then_leaves_a_message_that_reaches_the_owner(
    configure: Configure,
) -> None:
    settings, logs = configure()
    seed_demo(get_store(), settings)
    client = local_client()

    def post(path: str, fixture: str, **fields: str) -> ElementTree.Element:
        request = TwilioRequest.from_fixture(path, fixture, **fields).signed()
        response = client.post(path, **request.kwargs())
        assert response.status_code == 200
        return ElementTree.fromstring(response.get_data())

    def said(answer: ElementTree.Element) -> str:
        return " ".join(element.text or "" for element in answer.iter("Say"))

    greeting = post("/v1/voice", "voice-inbound")
    hours = post(
        "/v1/voice/turn?n=1", "voice-gather-speech", SpeechResult="What are your hours?"
    )
    name = post(
        "/v1/voice/turn?n=2", "voice-gather-speech", SpeechResult="Leave a message"
    )
    reason = post("/v1/voice/turn?n=3", "voice-gather-speech", SpeechResult="Alex Kim")
    goodbye = post(
        "/v1/voice/turn?n=4",
        "voice-gather-speech",
        SpeechResult="My e-bike is making a clicking noise, please call me back",
    )
    post("/v1/voice/status", "voice-status-completed")

    assert "Bayside Bikes" in said(greeting)
    assert "9am to 6pm" in said(hours)
    assert "name" in said(name)
    assert "message" in said(reason)
    assert "Goodbye" in said(goodbye)
    assert goodbye.find("Hangup") is not None
    [notification] = outbox.read(OUTBOX_CHANNEL)
    assert notification["kind"] == "message_taken"
    assert notification["to"] == ["+15555550101"]
    assert "Alex Kim (+15551230003)" in notification["text"]
    assert "clicking noise" in notification["text"]
    assert (
        logs.one("owner_notified")["call_sid"] == "CA8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a8a"
    )
