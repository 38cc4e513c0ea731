from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from common import errors
from common.http import (
    HttpFunction,
    RequestOutcome,
    Route,
    add_observer,
    remove_hooks,
)
from tests.builders import TwilioRequest
from tests.runtime import local_client

Configure = Callable[..., Any]


def test_unsigned_twilio_request_gets_403_twiml_and_one_rejection_line(
    configure: Configure,
) -> None:
    _, logs = configure()
    twilio = TwilioRequest.from_fixture("/twilio/sms", "sms-inbound")

    response = local_client().post(twilio.path, **twilio.kwargs())

    assert response.status_code == 403
    assert response.mimetype == "text/xml"
    assert ElementTree.fromstring(response.data).tag == "Response"
    rejected = logs.one("twilio_signature_rejected")
    assert rejected["reason"] == "missing X-Twilio-Signature header"
    completed = logs.one("request_completed")
    assert completed["status"] == 403
    assert completed["httpRequest"]["status"] == 403


def test_access_line_has_http_request_and_trace(configure: Configure) -> None:
    _, logs = configure(GOOGLE_CLOUD_PROJECT="demo")
    trace = "105445aa7843bc8bf206b12000100000"
    twilio = TwilioRequest.from_fixture("/twilio/sms", "sms-inbound").signed()
    kwargs = twilio.kwargs()
    kwargs["headers"]["X-Cloud-Trace-Context"] = f"{trace}/1;o=1"

    local_client().post(twilio.path, **kwargs)

    line = logs.one("request_completed")
    assert line["logging.googleapis.com/trace"] == f"projects/demo/traces/{trace}"
    assert line["request_id"] == trace
    assert line["message_sid"] == twilio.field("MessageSid")
    assert line["httpRequest"]["requestMethod"] == "POST"
    assert line["httpRequest"]["latency"].endswith("s")
    assert line["route"] == "/twilio/sms"
    assert isinstance(line["latency_ms"], float)


@pytest.mark.parametrize(
    ("method", "path", "headers", "data", "status", "code"),
    [
        ("POST", "/v1/nowhere", {}, b"", 404, "not_found"),
        ("GET", "/v1/billing/webhook", {}, b"", 405, "method_not_allowed"),
        ("POST", "/v1/billing/webhook", {}, b"x" * 70_000, 413, "payload_too_large"),
    ],
)
def test_api_errors_are_json_never_html(
    configure: Configure,
    method: str,
    path: str,
    headers: dict[str, str],
    data: bytes,
    status: int,
    code: str | None,
) -> None:
    configure()

    response = local_client().open(path, method=method, headers=headers, data=data)

    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["request_id"]
    if code:
        assert body["error"]["code"] == code


def test_twilio_route_with_wrong_content_type_gets_415_twiml(
    configure: Configure,
) -> None:
    configure()

    response = local_client().post(
        "/twilio/sms", data="{}", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 415
    assert response.mimetype == "text/xml"


def test_voice_errors_apologise_and_hang_up(configure: Configure) -> None:
    configure()

    response = local_client().post(
        "/v1/voice", data="x=1", headers={"Content-Type": "text/plain"}
    )

    root = ElementTree.fromstring(response.data)
    assert [child.tag for child in root] == ["Say", "Hangup"]


def test_unhandled_exception_is_logged_once_and_answered_500(
    configure: Configure,
) -> None:
    _, logs = configure()
    function = HttpFunction("boom", default_caller="api")

    @function.route("/v1/boom")
    def explode(request: Any) -> Any:
        raise KeyError("internal detail")

    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    request = Request(EnvironBuilder(path="/v1/boom", method="POST").get_environ())
    response = function(request)

    assert response.status_code == 500
    assert b"internal detail" not in response.data
    assert response.get_json()["error"]["code"] == "internal_error"
    failure = logs.one("unhandled_exception")
    assert "KeyError" in failure["message"]
    assert logs.one("request_completed")["severity"] == "ERROR"


def test_observers_see_every_request_and_cannot_break_it(configure: Configure) -> None:
    _, logs = configure()
    seen: list[RequestOutcome] = []

    def broken(outcome: RequestOutcome) -> None:
        raise RuntimeError("observer bug")

    add_observer(seen.append)
    add_observer(broken)
    try:
        response = local_client().post("/v1/chat/nowhere")
    finally:
        remove_hooks()

    assert response.status_code == 404
    assert [outcome.status for outcome in seen] == [404]
    assert isinstance(seen[0].error, errors.NotFound)
    assert logs.one("observer_failed")


def test_response_hooks_adjust_every_answer_and_cannot_break_it(
    configure: Configure,
) -> None:
    _, logs = configure()
    app = HttpFunction("hooked", default_caller="api")
    seen: list[tuple[str, int]] = []

    @app.route("/v1/refused")
    def refused(request: Request) -> Response:
        raise errors.TooManyRequests("Slow down", retry_after=30)

    @app.after_response
    def mark(request: Request, route: Route | None, response: Response) -> None:
        seen.append((route.rule if route else "-", response.status_code))
        response.headers["X-Hooked"] = "yes"

    @app.after_response
    def broken(request: Request, route: Route | None, response: Response) -> None:
        raise RuntimeError("hook bug")

    refused_answer = app(
        Request(EnvironBuilder("/v1/refused", method="POST").get_environ())
    )
    missing_answer = app(
        Request(EnvironBuilder("/v1/nowhere", method="POST").get_environ())
    )

    assert refused_answer.status_code == 429
    assert refused_answer.headers["X-Hooked"] == "yes"
    assert refused_answer.headers["Retry-After"] == "30"
    assert missing_answer.headers["X-Hooked"] == "yes"
    assert seen == [("/v1/refused", 429), ("-", 404)]
    assert len(logs.events("response_hook_failed")) == 2
