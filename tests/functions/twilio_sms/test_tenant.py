"""An inbound SMS is tied to the business that owns the number texted."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from common.settings import Settings
from common.store import get_store
from common.store.demo import seed_demo
from tests.builders import TwilioRequest
from tests.conftest import LogCapture
from tests.runtime import local_client

Configure = Callable[..., tuple[Settings, LogCapture]]


def test_a_signed_sms_to_the_demo_number_logs_the_demo_business(
    configure: Configure,
) -> None:
    settings, logs = configure()
    seed_demo(get_store(), settings)
    sms = TwilioRequest.from_fixture("/twilio/sms", "sms-inbound").signed()

    local_client().post(sms.path, **sms.kwargs())

    assert logs.one("request_completed")["business_id"] == "biz-demo"


def test_a_signed_sms_to_an_unknown_number_still_gets_valid_twiml(
    configure: Configure,
) -> None:
    _, logs = configure()
    sms = TwilioRequest.from_fixture("/twilio/sms", "sms-inbound", To="+15559990000")

    response = local_client().post(sms.path, **sms.signed().kwargs())

    assert response.status_code == 200
    assert ET.fromstring(response.get_data()).tag == "Response"
    assert logs.one("request_completed")["business_id"] == "-"
    assert logs.one("tenant_unresolved")["to"] != "+15559990000"  # masked
