"""The cost of one JSON log line: ours beside python-json-logger and structlog.

Each formatter gets the same record: an access line with the correlation
fields and a nested httpRequest, written to a stream that discards it.
"""

from __future__ import annotations

import io
import logging
import statistics
import timeit
from collections.abc import Callable

from common import context
from common.logs import JsonFormatter
from common.settings import load_settings

_FIELDS = {
    "event": "request_completed",
    "service": "ai-telephony-backend",
    "environment": "prod",
    "request_id": "0af7651916cd43dd8448eb211c80319c",
    "business_id": "biz-demo",
    "call_sid": "-",
    "message_sid": "SM1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a",
    "method": "POST",
    "path": "/twilio/sms",
    "route": "/twilio/sms",
    "status": 200,
    "latency_ms": 12.5,
    "httpRequest": {
        "requestMethod": "POST",
        "requestUrl": "/twilio/sms",
        "status": 200,
        "latency": "0.012500s",
        "remoteIp": "127.0.0.1",
    },
}


def _record() -> logging.LogRecord:
    return logging.LogRecord(
        "bench", logging.INFO, __file__, 1, "POST /twilio/sms 200 12ms", None, None
    )


def ours() -> Callable[[], object]:
    formatter = JsonFormatter(load_settings({"LOG_FORMAT": "json"}))
    context.bind_request({"X-Request-ID": _FIELDS["request_id"]})
    context.update(business_id="biz-demo", message_sid=str(_FIELDS["message_sid"]))
    record = _record()
    record.event = "request_completed"
    record.fields = {
        key: _FIELDS[key]
        for key in ("method", "path", "route", "status", "latency_ms", "httpRequest")
    }
    sink = io.StringIO()

    def one() -> object:
        sink.seek(0)
        return sink.write(formatter.format(record))

    return one


def python_json_logger() -> Callable[[], object]:
    from pythonjsonlogger.json import JsonFormatter as PjlFormatter

    formatter = PjlFormatter(
        "%(message)s %(levelname)s %(asctime)s",
        rename_fields={"levelname": "severity", "asctime": "time"},
    )
    record = _record()
    for key, value in _FIELDS.items():
        setattr(record, key, value)
    sink = io.StringIO()

    def one() -> object:
        sink.seek(0)
        return sink.write(formatter.format(record))

    return one


def structlog_json() -> Callable[[], object]:
    import structlog

    processors = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.JSONRenderer(),
    ]
    sink = io.StringIO()

    def one() -> object:
        event_dict: dict[str, object] = {
            "event": "POST /twilio/sms 200 12ms",
            **_FIELDS,
        }
        for processor in processors:
            event_dict = processor(None, "info", event_dict)  # type: ignore[arg-type,assignment]
        sink.seek(0)
        return sink.write(str(event_dict))

    return one


def measure(rounds: int = 7, number: int = 20_000) -> dict[str, float]:
    """Median microseconds per line for each formatter, rounds interleaved."""
    candidates = {
        "ours": ours(),
        "python-json-logger": python_json_logger(),
        "structlog": structlog_json(),
    }
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, one in candidates.items():
            seconds = timeit.timeit(one, number=number)
            samples[name].append(seconds / number * 1e6)
    context.clear()
    return {name: statistics.median(values) for name, values in samples.items()}
