from __future__ import annotations

import io
import json

from common import context
from common.logs import configure_logging, get_logger, mask_phone
from common.settings import load_settings

log = get_logger("tests.logs")


def _capture(**env: str) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(load_settings({"LOG_FORMAT": "json", **env}), stream=stream)
    return stream


def test_json_line_carries_cloud_logging_and_correlation_fields() -> None:
    stream = _capture(GOOGLE_CLOUD_PROJECT="demo-project", ENVIRONMENT="staging")
    context.bind_request(
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    )
    context.update(business_id="biz-1", message_sid="SM1")

    log.info("sms_received", "an SMS arrived", segments=2)
    context.clear()

    line = json.loads(stream.getvalue())
    assert line["severity"] == "INFO"
    assert line["message"] == "an SMS arrived"
    assert line["event"] == "sms_received"
    assert line["service"] == "ai-telephony-backend"
    assert line["environment"] == "staging"
    assert line["business_id"] == "biz-1"
    assert line["message_sid"] == "SM1"
    assert line["call_sid"] == "-"
    assert line["request_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert line["logging.googleapis.com/trace"] == (
        "projects/demo-project/traces/0af7651916cd43dd8448eb211c80319c"
    )
    assert line["logging.googleapis.com/spanId"] == "b7ad6b7169203331"
    assert line["logging.googleapis.com/trace_sampled"] is True
    assert line["segments"] == 2
    assert line["time"].endswith("Z")


def test_absent_correlation_fields_are_dashes() -> None:
    stream = _capture()

    log.info("started")

    line = json.loads(stream.getvalue())
    assert [
        line[k] for k in ("request_id", "business_id", "call_sid", "message_sid")
    ] == ["-"] * 4
    assert "logging.googleapis.com/trace" not in line


def test_phone_numbers_are_masked_and_texts_left_out() -> None:
    stream = _capture()

    log.info(
        "sms_received", "from +15551230001", caller="+15551230001", body="secret plans"
    )

    raw = stream.getvalue()
    assert "+15551230001" not in raw
    assert "secret plans" not in raw
    line = json.loads(raw)
    assert line["caller"] == mask_phone("+15551230001") == "+1******0001"
    assert line["body"] == "<12 chars>"


def test_texts_are_kept_when_operator_opts_in() -> None:
    stream = _capture(LOG_MESSAGE_BODIES="true")

    log.info("sms_received", body="hours?")

    assert json.loads(stream.getvalue())["body"] == "hours?"


def test_traceback_stays_on_one_line() -> None:
    stream = _capture()

    try:
        raise RuntimeError("first\nsecond")
    except RuntimeError:
        log.exception("unhandled_exception")

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["severity"] == "ERROR"
    assert "Traceback" in line["message"]
    assert "RuntimeError: first" in line["message"]


def test_plain_format_shows_the_same_fields_on_one_line() -> None:
    stream = io.StringIO()
    configure_logging(load_settings({"LOG_FORMAT": "plain"}), stream=stream)
    context.bind_request({"X-Request-ID": "req-7"})

    log.warning("request_rejected", "bad\ninput", caller="+15551230001")
    context.clear()

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert "WARNING request_rejected" in lines[0]
    assert "request_id=req-7" in lines[0]
    assert "business_id=-" in lines[0]
    assert "+15551230001" not in lines[0]
