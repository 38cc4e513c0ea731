"""Error tracking with Sentry, on when `SENTRY_DSN` is set.

`init` runs at cold start (common.runtime.boot). Without a DSN it does
nothing and `sentry_sdk` is never imported. With one, the SDK starts with its
Flask integration (the framework the functions are served by), the
environment, `SENTRY_RELEASE` and `SENTRY_TRACES_SAMPLE_RATE`, which the SDK
itself does not read. Unhandled exceptions of every HTTP function are
captured by a request observer, since the HTTP wrapper answers them before
Flask could see them.

Nothing secret or personal leaves: credentials and signatures in headers,
cookies, request bodies and query strings are replaced, local variables are
not collected, phone numbers in messages and exception texts are masked,
and log breadcrumbs keep their sentence but not their fields. Each event is
tagged with `request_id`, `business_id`, `call_sid` and `message_sid` of the
request being served. A CloudEvent handler calls `flush()` before returning.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from common import context, http
from common.logs import mask_text
from common.settings import Settings

if TYPE_CHECKING:
    from sentry_sdk._types import Breadcrumb, BreadcrumbHint, Event, Hint

FILTERED = "[Filtered]"
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "x-api-key",
        "cookie",
        "set-cookie",
        "x-twilio-signature",
        "stripe-signature",
        "proxy-authorization",
    }
)
# Request parts that may carry phone numbers or message texts.
_REQUEST_PARTS_DROPPED = ("data", "query_string", "cookies")
_FLUSH_TIMEOUT_SECONDS = 2.0

_enabled = False


def init(settings: Settings, transport: Any = None) -> bool:
    """Start Sentry when `SENTRY_DSN` is set; return whether it is on.

    `transport` replaces the network transport (tests collect events).
    """
    global _enabled
    if not settings.sentry_dsn:
        return False

    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment,
        release=settings.sentry_release,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        include_local_variables=False,
        max_request_body_size="never",
        event_scrubber=EventScrubber(
            denylist=[*DEFAULT_DENYLIST, *sorted(SECRET_HEADERS)], recursive=True
        ),
        before_send=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        # Errors reach Sentry as exceptions (capture_failure), not log lines.
        integrations=[
            FlaskIntegration(),
            LoggingIntegration(level=logging.INFO, event_level=None),
        ],
        # Only what we name: probing for every supported library costs start-up.
        auto_enabling_integrations=False,
        transport=transport,
    )
    http.add_observer(capture_failure)
    _enabled = True
    return True


def enabled() -> bool:
    return _enabled


def capture_failure(outcome: http.RequestOutcome) -> None:
    """Request observer: send an unhandled exception to Sentry."""
    if not _enabled or outcome.exception is None:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        scope.set_tag("function", outcome.function)
        scope.set_tag("route", outcome.route)
        sentry_sdk.capture_exception(outcome.exception)


def flush(timeout: float = _FLUSH_TIMEOUT_SECONDS) -> None:
    """Send what is queued; call before a CloudEvent handler returns."""
    if not _enabled:
        return
    import sentry_sdk

    sentry_sdk.flush(timeout=timeout)


def close() -> None:
    """Flush and stop Sentry (tests, shutdown)."""
    global _enabled
    if not _enabled:
        return
    import sentry_sdk

    sentry_sdk.get_client().close(timeout=_FLUSH_TIMEOUT_SECONDS)
    _enabled = False


def scrub_event(sentry_event: Event, hint: Hint) -> Event:
    """`before_send`: remove secrets and personal data, add correlation tags."""
    event = cast(dict[str, Any], sentry_event)
    request = event.get("request")
    if isinstance(request, dict):
        _scrub_request(request)

    for entry in _values(event.get("exception")) + _values(event.get("threads")):
        if isinstance(entry.get("value"), str):
            entry["value"] = mask_text(entry["value"])
        stacktrace = entry.get("stacktrace") or {}
        for frame in stacktrace.get("frames") or []:
            frame.pop("vars", None)

    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        for key in ("message", "formatted"):
            if isinstance(logentry.get(key), str):
                logentry[key] = mask_text(logentry[key])
        logentry.pop("params", None)
    if isinstance(event.get("message"), str):
        event["message"] = mask_text(event["message"])

    for crumb in _values(event.get("breadcrumbs")):
        _scrub_breadcrumb(crumb)

    tags = event.setdefault("tags", {})
    tags.update(context.current().correlation())
    return sentry_event


def scrub_breadcrumb(breadcrumb: Breadcrumb, hint: BreadcrumbHint) -> Breadcrumb:
    """`before_breadcrumb`: keep the sentence, masked; drop the fields."""
    _scrub_breadcrumb(breadcrumb)
    return breadcrumb


def _scrub_breadcrumb(crumb: dict[str, Any]) -> None:
    if isinstance(crumb.get("message"), str):
        crumb["message"] = mask_text(crumb["message"])
    data = crumb.get("data")
    if isinstance(data, dict):
        event_name = data.get("event")
        crumb["data"] = {"event": event_name} if isinstance(event_name, str) else {}


def _scrub_request(request: dict[str, Any]) -> None:
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {
            name: FILTERED if name.lower() in SECRET_HEADERS else mask_text(str(value))
            for name, value in headers.items()
        }
    for part in _REQUEST_PARTS_DROPPED:
        if part in request:
            request[part] = FILTERED
    url = request.get("url")
    if isinstance(url, str):
        request["url"] = mask_text(url.split("?", 1)[0])


def _values(section: Any) -> list[dict[str, Any]]:
    if isinstance(section, dict):
        return [item for item in section.get("values") or [] if isinstance(item, dict)]
    return []
