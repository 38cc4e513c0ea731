"""A business of our own on its own number, served by the local runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import pytest
from werkzeug.test import Client, TestResponse

from common import outbox
from common.notify import OUTBOX_CHANNEL
from common.settings import Settings
from common.store import Business, KnowledgeEntry, get_store
from common.store.base import WEEKDAYS
from tests.builders import TwilioRequest
from tests.conftest import LogCapture
from tests.runtime import local_client

BAKERY_NUMBER = "+15005550010"
CUSTOMER = "+15551230001"

HOURS_ANSWER = "We are open 7 AM to 6 PM Monday to Saturday, closed on Sunday."


def bakery(**changes: Any) -> Business:
    business = Business(
        business_id="biz-corner-bakery",
        name="Corner Bakery",
        status="active",
        time_zone="America/Los_Angeles",
        opening_hours={day: [["07:00", "18:00"]] for day in WEEKDAYS[:6]},
        address="12 Main Street, Oakland",
        knowledge=[
            KnowledgeEntry(
                question="What are your opening hours?",
                answer=HOURS_ANSWER,
                topic="hours",
            ),
            KnowledgeEntry(
                question="Do you bake gluten-free bread?",
                answer="Yes, gluten-free loaves are baked every Tuesday and Friday.",
            ),
        ],
        transfer_number="+15551239999",
        owner_contacts=["+15551238888"],
    )
    for name, value in changes.items():
        setattr(business, name, value)
    return business


@dataclass
class Line:
    """The runtime, a business on `number`, and the logs: post signed webhooks."""

    settings: Settings
    logs: LogCapture
    client: Client
    number: str
    base_url: str = "http://localhost"

    def post(self, path: str, fixture: str, **fields: str | None) -> TestResponse:
        request = TwilioRequest.from_fixture(path, fixture, **fields)
        request.base_url = self.base_url
        response = self.client.post(path, **request.signed().kwargs())
        assert response.headers["Content-Type"].startswith("text/xml")
        return response

    def outbox(self) -> list[dict[str, Any]]:
        """Every owner notification written to the local outbox."""
        return outbox.read(OUTBOX_CHANNEL)


def parse(response: TestResponse) -> ElementTree.Element:
    """The TwiML document; fails the test when it is not well formed."""
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == "Response"
    return root


@pytest.fixture
def line(configure: Callable[..., tuple[Settings, LogCapture]]) -> Callable[..., Line]:
    """`line(**env)`: boot with `env`, put the bakery on its number, serve."""

    def start(business: Business | None = None, **env: str) -> Line:
        settings, logs = configure(**env)
        store = get_store()
        business = business or bakery()
        store.create_business(business)
        store.add_number(business.business_id, BAKERY_NUMBER)
        base_url = env.get("PUBLIC_BASE_URL", "http://localhost")
        return Line(settings, logs, local_client(), BAKERY_NUMBER, base_url)

    return start
