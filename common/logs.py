"""Structured logs: one event per line on stdout.

`LOG_FORMAT=json` writes one JSON object per line with the keys Cloud Logging
lifts out of stdout (`severity`, `message`, `time`, trace, span, sampled,
`httpRequest`); everything else lands in `jsonPayload`. `LOG_FORMAT=plain`
shows the same fields for a person. Every line carries `service`,
`environment`, `event` and the four correlation ids (`-` when absent).

Phone numbers are masked wherever they appear; message texts (fields named in
`TEXT_FIELDS`) are replaced by their length unless `LOG_MESSAGE_BODIES=true`.

Nothing is installed at import: `configure_logging` does it at cold start.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any, TextIO

from common import context
from common.settings import Settings

TEXT_FIELDS = frozenset(
    {"body", "text", "reply", "utterance", "speech", "transcript", "message_text"}
)
_PHONE = re.compile(r"\+\d{7,15}")
_SEVERITY = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
_TRACE_KEY = "logging.googleapis.com/trace"
_SPAN_KEY = "logging.googleapis.com/spanId"
_SAMPLED_KEY = "logging.googleapis.com/trace_sampled"
_MAX_LINE_CHARS = 200_000


def mask_phone(number: str) -> str:
    """`+15551234567` becomes `+1******4567`: enough to tell callers apart."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 6) + number[-4:]


def mask_text(value: str) -> str:
    """Mask every phone number inside free text."""
    if "+" not in value:
        return value
    return _PHONE.sub(lambda match: mask_phone(match.group(0)), value)


class EventLogger:
    """A module's logger: `log.info("sms_received", segments=2)`.

    The first argument is the stable `event` name that metrics and queries key
    on; `message` is an optional sentence for a person; the rest are fields.
    """

    __slots__ = ("_logger",)

    def __init__(self, name: str) -> None:
        self._logger = logging.getLogger(name)

    def _log(
        self,
        level: int,
        event: str,
        message: str | None,
        exc_info: bool,
        fields: dict[str, Any],
    ) -> None:
        if self._logger.isEnabledFor(level):
            self._logger.log(
                level,
                message or event,
                exc_info=exc_info,
                extra={"event": event, "fields": fields},
                stacklevel=3,
            )

    def debug(self, event: str, message: str | None = None, **fields: Any) -> None:
        self._log(logging.DEBUG, event, message, False, fields)

    def info(self, event: str, message: str | None = None, **fields: Any) -> None:
        self._log(logging.INFO, event, message, False, fields)

    def warning(self, event: str, message: str | None = None, **fields: Any) -> None:
        self._log(logging.WARNING, event, message, False, fields)

    def error(
        self,
        event: str,
        message: str | None = None,
        exc_info: bool = False,
        **fields: Any,
    ) -> None:
        self._log(logging.ERROR, event, message, exc_info, fields)

    def critical(self, event: str, message: str | None = None, **fields: Any) -> None:
        self._log(logging.CRITICAL, event, message, False, fields)

    def exception(self, event: str, message: str | None = None, **fields: Any) -> None:
        self._log(logging.ERROR, event, message, True, fields)


def get_logger(name: str) -> EventLogger:
    return EventLogger(name)


def _without_texts(fields: dict[str, Any], keep_bodies: bool) -> dict[str, Any]:
    """Replace message texts by their length unless the operator opted in."""
    if keep_bodies or TEXT_FIELDS.isdisjoint(fields):
        return fields
    cleaned = dict(fields)
    for key in TEXT_FIELDS.intersection(fields):
        value = cleaned[key]
        if isinstance(value, str):
            cleaned[key] = f"<{len(value)} chars>"
    return cleaned


class _Formatter(logging.Formatter):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._service = settings.service_name
        self._environment = settings.environment
        self._project = settings.google_cloud_project
        self._keep_bodies = settings.log_message_bodies

    def _fields(self, record: logging.LogRecord) -> dict[str, Any]:
        raw: dict[str, Any] = getattr(record, "fields", None) or {}
        return _without_texts(raw, self._keep_bodies)

    def _event(self, record: logging.LogRecord) -> str:
        event = getattr(record, "event", None)
        return event if isinstance(event, str) else record.name

    def _traceback(self, record: logging.LogRecord) -> str | None:
        if record.exc_info:
            return self.formatException(record.exc_info)
        return None


class JsonFormatter(_Formatter):
    """One JSON object per record, never more than one line."""

    def format(self, record: logging.LogRecord) -> str:
        ctx = context.current()
        message = record.getMessage()
        stack = self._traceback(record)
        if stack:
            message = f"{message}\n{stack}"
        entry: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelno, "DEFAULT"),
            "message": message,
            "time": _rfc3339(record.created),
            "event": self._event(record),
            "service": self._service,
            "environment": self._environment,
            "request_id": ctx.request_id,
            "business_id": ctx.business_id,
            "call_sid": ctx.call_sid,
            "message_sid": ctx.message_sid,
            "logger": record.name,
        }
        if ctx.trace_id:
            trace = ctx.trace_id
            if self._project:
                trace = f"projects/{self._project}/traces/{ctx.trace_id}"
            entry[_TRACE_KEY] = trace
            if ctx.span_id:
                entry[_SPAN_KEY] = ctx.span_id
            if ctx.trace_sampled is not None:
                entry[_SAMPLED_KEY] = ctx.trace_sampled
        for key, value in self._fields(record).items():
            if key not in entry:
                entry[key] = value
        line = json.dumps(entry, ensure_ascii=False, default=str)
        if len(line) > _MAX_LINE_CHARS:
            entry["message"] = message[:2000] + " [truncated]"
            entry = {k: v for k, v in entry.items() if not isinstance(v, (dict, list))}
            line = json.dumps(entry, ensure_ascii=False, default=str)
        # One pass over the finished line masks every phone number, nested or not.
        return mask_text(line)


class PlainFormatter(_Formatter):
    """`time SEVERITY event key=value ... | message` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        ctx = context.current()
        parts = [
            _rfc3339(record.created),
            _SEVERITY.get(record.levelno, "DEFAULT"),
            self._event(record),
            f"service={self._service}",
            f"environment={self._environment}",
        ]
        parts.extend(f"{key}={value}" for key, value in ctx.correlation().items())
        if ctx.trace_id:
            parts.append(f"trace={ctx.trace_id}")
        for key, value in self._fields(record).items():
            rendered = (
                value if isinstance(value, str) else json.dumps(value, default=str)
            )
            parts.append(f"{key}={rendered}")
        line = " ".join(str(part) for part in parts) + " | " + record.getMessage()
        stack = self._traceback(record)
        if stack:
            line = f"{line} | {stack}"
        return mask_text(line.replace("\r", "\\r").replace("\n", "\\n"))


_second_cache: tuple[int, str] = (-1, "")


def _rfc3339(created: float) -> str:
    """UTC time with milliseconds; the whole-second part is cached."""
    global _second_cache
    whole = int(created)
    if _second_cache[0] != whole:
        _second_cache = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{_second_cache[1]}.{int((created - whole) * 1000):03d}Z"


_HANDLER_MARK = "_ai_telephony_handler"


def configure_logging(
    settings: Settings, stream: TextIO | None = None
) -> logging.Handler:
    """Install our one stdout handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
    handler = logging.StreamHandler(stream or sys.stdout)
    formatter: logging.Formatter
    if settings.log_format == "json":
        formatter = JsonFormatter(settings)
    else:
        formatter = PlainFormatter(settings)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # No line shows the caller's file, thread or process, so the record need
    # not look them up: the optimisations the logging HOWTO documents.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    # Werkzeug's own access log would duplicate request_completed.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return handler
