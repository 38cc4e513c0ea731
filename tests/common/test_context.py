from __future__ import annotations

from common import context


def test_traceparent_wins_over_cloud_trace_header() -> None:
    headers = {
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=0",
    }

    assert context.parse_trace(headers) == (
        "0af7651916cd43dd8448eb211c80319c",
        "b7ad6b7169203331",
        True,
    )


def test_cloud_trace_span_is_written_as_sixteen_hex_digits() -> None:
    headers = {"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/255;o=1"}

    assert context.parse_trace(headers) == (
        "105445aa7843bc8bf206b12000100000",
        "00000000000000ff",
        True,
    )


def test_unreadable_trace_headers_are_ignored() -> None:
    headers = {"traceparent": "garbage", "X-Cloud-Trace-Context": "nope/12"}

    assert context.parse_trace(headers) == (None, None, None)


def test_request_id_from_header_then_trace_then_generated() -> None:
    assert context.bind_request({"X-Request-ID": "abc-123"}).request_id == "abc-123"
    traced = {"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1"}
    assert context.bind_request(traced).request_id == "105445aa7843bc8bf206b12000100000"
    generated = context.bind_request({"X-Request-ID": "bad id with spaces"}).request_id
    assert len(generated) == 32


def test_clear_forgets_every_field() -> None:
    context.bind_request({"X-Request-ID": "r1"})
    context.update(business_id="biz-1", call_sid="CA1")

    context.clear()

    assert context.current().correlation() == {
        "request_id": "-",
        "business_id": "-",
        "call_sid": "-",
        "message_sid": "-",
    }
