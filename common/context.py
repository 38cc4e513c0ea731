"""The correlation fields of the request being served.

Set once at the edge (`bind_request`), enriched as the request is understood
(`update`), cleared after the answer (`clear`). Every log line and every
Sentry event reads them from here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace

from werkzeug.datastructures import Headers

ABSENT = "-"

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d+))?(?:;o=([01]))?$")


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ABSENT
    business_id: str = ABSENT
    call_sid: str = ABSENT
    message_sid: str = ABSENT
    trace_id: str | None = None
    span_id: str | None = None
    trace_sampled: bool | None = None

    def correlation(self) -> dict[str, str]:
        """The four ids every log line, alert and Sentry event carries."""
        return {
            "request_id": self.request_id,
            "business_id": self.business_id,
            "call_sid": self.call_sid,
            "message_sid": self.message_sid,
        }


_EMPTY = RequestContext()
_current: ContextVar[RequestContext] = ContextVar("request_context", default=_EMPTY)


def current() -> RequestContext:
    return _current.get()


def update(
    *,
    business_id: str | None = None,
    call_sid: str | None = None,
    message_sid: str | None = None,
) -> RequestContext:
    """Set the correlation ids a handler learned; arguments left out stay."""
    context = _current.get()
    if business_id is not None:
        context = replace(context, business_id=business_id or ABSENT)
    if call_sid is not None:
        context = replace(context, call_sid=call_sid or ABSENT)
    if message_sid is not None:
        context = replace(context, message_sid=message_sid or ABSENT)
    _current.set(context)
    return context


def clear() -> None:
    _current.set(_EMPTY)


def parse_trace(
    headers: Headers | Mapping[str, str],
) -> tuple[str | None, str | None, bool | None]:
    """Trace id, span id (16 hex digits) and sampled flag from the request.

    W3C `traceparent` wins over `X-Cloud-Trace-Context` when both come; an
    unreadable header is ignored rather than trusted.
    """
    traceparent = headers.get("traceparent", "").strip().lower()
    match = _TRACEPARENT.match(traceparent)
    if match and match.group(1) != "0" * 32:
        return match.group(1), match.group(2), bool(int(match.group(3), 16) & 1)

    cloud = headers.get("X-Cloud-Trace-Context", "").strip()
    match = _CLOUD_TRACE.match(cloud)
    if match:
        span = match.group(2)
        span_hex = f"{int(span) & 0xFFFFFFFFFFFFFFFF:016x}" if span else None
        sampled = None if match.group(3) is None else match.group(3) == "1"
        return match.group(1).lower(), span_hex, sampled
    return None, None, None


def bind_request(headers: Headers | Mapping[str, str]) -> RequestContext:
    """Start a fresh context for an incoming request.

    `request_id` comes from `X-Request-ID` when it is a sane token, else the
    trace id, else a new random id.
    """
    trace_id, span_id, sampled = parse_trace(headers)
    supplied = headers.get("X-Request-ID", "").strip()
    if _REQUEST_ID.match(supplied):
        request_id = supplied
    elif trace_id:
        request_id = trace_id
    else:
        request_id = uuid.uuid4().hex
    context = RequestContext(
        request_id=request_id,
        trace_id=trace_id,
        span_id=span_id,
        trace_sampled=sampled,
    )
    _current.set(context)
    return context
