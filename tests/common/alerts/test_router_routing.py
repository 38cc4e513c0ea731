"""Routing from configuration: the defaults and the routing file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import responses

from common.alerts.router import handle_message
from common.alerts.routing import RoutingError, parse_routing, routing_for
from common.settings import Settings
from tests.common.alerts.conftest import (
    PAGERDUTY_URL,
    SLACK_URL,
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    make_alert,
    pagerduty_ok,
    sent_to,
    slack_ok,
)
from tests.conftest import LogCapture

Configure = Callable[..., tuple[Settings, LogCapture]]
EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "alert-routing.example.yaml"


def test_defaults_send_p0_to_pagerduty_and_slack_and_p1_to_slack(
    configure: Configure,
) -> None:
    settings, _ = configure()
    routing = routing_for(settings)

    assert routing.destinations_for(make_alert()) == ("pagerduty", "slack")
    assert routing.destinations_for(make_alert(severity="P1")) == ("slack",)


def test_a_configured_webhook_receives_every_severity(configure: Configure) -> None:
    settings, _ = configure(ALERT_WEBHOOK_URL=WEBHOOK_URL)
    routing = routing_for(settings)

    assert routing.destinations_for(make_alert())[-1] == "webhook"
    assert routing.destinations_for(make_alert(severity="P1")) == ("slack", "webhook")


def test_routing_file_first_matching_route_wins(
    staging: Configure, http: responses.RequestsMock, tmp_path: Path
) -> None:
    routing_file = tmp_path / "routing.yaml"
    routing_file.write_text(
        "routes:\n"
        "  - match: {alert: rate_limit_ip_anomaly}\n"
        "    destinations: []\n"
        "  - match: {severity: P1, route: /v1/chat}\n"
        "    destinations: [pagerduty, webhook]\n"
        "default: [slack]\n"
    )
    _, logs = staging(
        ALERT_ROUTING_FILE=str(routing_file),
        ALERT_WEBHOOK_URL=WEBHOOK_URL,
        ALERT_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    pagerduty_ok(http)
    slack_ok(http)
    http.post(WEBHOOK_URL, status=200)
    chat_spike = make_alert(
        name="error_rate_spike",
        severity="P1",
        dedup_key="spike:/v1/chat",
        labels={"route": "/v1/chat"},
    )
    noisy = make_alert(name="rate_limit_ip_anomaly", severity="P1", dedup_key="ip")

    handle_message(chat_spike.to_message(), {}, "m-1")
    handle_message(noisy.to_message(), {}, "m-2")
    handle_message(make_alert().to_message(), {}, "m-3")

    assert [event["payload"]["class"] for event in sent_to(http, PAGERDUTY_URL)] == [
        "error_rate_spike"
    ]
    assert len(sent_to(http, WEBHOOK_URL)) == 1
    assert [body["text"][:28] for body in sent_to(http, SLACK_URL)] == [
        "[P0 FIRING] twilio_webhook_f"
    ]
    assert logs.one("alert_unrouted")["alert"] == "rate_limit_ip_anomaly"


def test_unusable_routing_file_falls_back_to_the_defaults_loudly(
    staging: Configure, http: responses.RequestsMock, tmp_path: Path
) -> None:
    routing_file = tmp_path / "routing.yaml"
    routing_file.write_text(
        "routes:\n  - match: {severity: P0}\n    destinations: [sms]\n"
    )
    _, logs = staging(ALERT_ROUTING_FILE=str(routing_file))
    pagerduty_ok(http)
    slack_ok(http)

    handle_message(make_alert().to_message(), {}, "m-1")

    assert (
        "unknown destination(s) ['sms']" in logs.one("alert_routing_invalid")["reason"]
    )
    assert len(sent_to(http, PAGERDUTY_URL)) == 1


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("routes: {}", "must be a list"),
        ("routs: []", "unknown key(s) ['routs']"),
        ("routes:\n  - match: {severity: P2}\n    destinations: []", "not P0 or P1"),
        ("routes:\n  - match: {severity: P0}", "needs `match` and `destinations`"),
        ("default: slack", "must be a list"),
        ("routes: [", "not valid YAML"),
    ],
)
def test_routing_file_mistakes_are_named(text: str, complaint: str) -> None:
    with pytest.raises(RoutingError) as raised:
        parse_routing(text, "routing.yaml")

    assert complaint in str(raised.value)


def test_the_documented_example_file_is_valid() -> None:
    routing = parse_routing(EXAMPLE.read_text(), str(EXAMPLE))

    assert routing.destinations_for(make_alert()) == ("pagerduty", "slack", "webhook")
