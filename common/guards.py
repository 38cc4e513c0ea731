"""Guards that run before a handler: rate limits and fault injection.

Rate limits are set per channel (`sms`, `voice`, `chat`, `widget`) for each
client IP and each business, in requests per `RATE_LIMIT_WINDOW_SECONDS`
(`settings.rate_limit(channel)`). They are counted in the store's atomic
windows, so every instance sees the same counts.

- `limit_client_ip` is an HTTP guard: it runs for every request of a route
  registered with `ip_limited` (the default), with the client IP taken
  from forwarding headers only as far as they are trusted. The widget's
  static script is registered without it, so loading pages never spends
  the conversational limit.
- `check_business(business_id, channel, route)` is called by a handler once
  it has resolved the business the request is for.

Over a limit the request is refused with a `rate_limit_triggered` line
(scope, key, route) in the caller's kind of answer: 429 with `Retry-After`
for the APIs; for Twilio a 200 that sends nothing (an empty `<Response/>`
for SMS, an apology and hang-up for a call), so no reply goes out and Twilio
does not retry. If the store cannot count, the request is let through and
`rate_limit_unavailable` is logged: a hiccup of ours never refuses callers.

`FAULT_INJECTION_ROUTES` (dev and staging only; settings refuse it in prod)
makes the named paths fail on purpose, to rehearse alerts: the request is
answered 500 in the caller's format and `fault_injected` is logged.
"""

from __future__ import annotations

from typing import Literal

from werkzeug.wrappers import Request

from common import errors
from common.alerts import detect
from common.edge import client_ip
from common.http import Caller, Route
from common.logs import get_logger
from common.settings import get_settings
from common.store import get_store

log = get_logger(__name__)

Channel = Literal["sms", "voice", "chat", "widget"]
Scope = Literal["business", "ip"]

CHANNEL_OF_CALLER: dict[Caller, Channel] = {
    "twilio": "sms",
    "twilio_voice": "voice",
    "api": "chat",
    "widget": "widget",
}
CALLER_OF_CHANNEL: dict[Channel, Caller] = {
    channel: caller for caller, channel in CHANNEL_OF_CALLER.items()
}
_TWILIO_CALLERS: frozenset[Caller] = frozenset({"twilio", "twilio_voice"})


class FaultInjected(RuntimeError):
    """A deliberate failure asked for by `FAULT_INJECTION_ROUTES`."""


def limit_client_ip(request: Request, route: Route) -> None:
    """HTTP guard: refuse a client IP over its channel's limit."""
    channel = CHANNEL_OF_CALLER.get(route.caller)
    if channel is None or not route.ip_limited:
        return
    settings = get_settings()
    limit = settings.rate_limit(channel)
    if limit.per_ip is None:
        return

    _enforce(
        scope="ip",
        key=client_ip(request, settings),
        channel=channel,
        allowed=limit.per_ip,
        window_seconds=limit.window_seconds,
        route=route.rule,
        function=route.endpoint.split(".", 1)[0],
    )


def check_business(business_id: str, channel: Channel, route: str) -> None:
    """Refuse a request once its business is over the channel's limit.

    Call it after resolving tenancy; it raises the error the HTTP wrapper
    answers in the channel's format.
    """
    limit = get_settings().rate_limit(channel)
    if limit.per_business is None:
        return

    _enforce(
        scope="business",
        key=business_id,
        channel=channel,
        allowed=limit.per_business,
        window_seconds=limit.window_seconds,
        route=route,
        function=None,
    )


def _enforce(
    *,
    scope: Scope,
    key: str,
    channel: Channel,
    allowed: int,
    window_seconds: int,
    route: str,
    function: str | None,
) -> None:
    try:
        count = get_store().increment(
            f"rate_limit:{channel}:{scope}:{key}", window_seconds
        )
    except Exception:
        log.exception(
            "rate_limit_unavailable",
            "the store could not count; the request is let through",
            scope=scope,
            channel=channel,
            route=route,
        )
        return
    if count <= allowed:
        return

    subject = {"business_id": key} if scope == "business" else {"client_ip": key}
    log.warning(
        "rate_limit_triggered",
        f"{scope} {key} is over its {channel} limit of {allowed} per {window_seconds}s",
        scope=scope,
        key=key,
        route=route,
        channel=channel,
        limit=allowed,
        window_seconds=window_seconds,
        count=count,
        **subject,
    )
    detect.record_event(
        "rate_limit_triggered",
        scope=scope,
        key=key,
        route=route,
        channel=channel,
        **subject,
        **({"function": function} if function else {}),
    )
    raise _refusal(CALLER_OF_CHANNEL[channel], window_seconds)


def _refusal(caller: Caller, window_seconds: int) -> errors.TooManyRequests:
    error = errors.TooManyRequests(
        f"Too many requests; retry after {window_seconds} seconds",
        retry_after=window_seconds,
        reason="rate limit",
    )
    if caller in _TWILIO_CALLERS:
        # Twilio sends nothing for this answer and does not retry a 200.
        error.status = 200
    return error


def inject_fault(request: Request, route: Route) -> None:
    """HTTP guard: fail the paths `FAULT_INJECTION_ROUTES` names, on purpose."""
    routes = get_settings().fault_injection_routes
    if not routes or (request.path not in routes and route.rule not in routes):
        return

    log.warning(
        "fault_injected",
        f"failing {request.path} on purpose: FAULT_INJECTION_ROUTES names it",
        route=route.rule,
        path=request.path,
    )
    raise FaultInjected(
        f"deliberate failure of {request.path}; remove it from "
        "FAULT_INJECTION_ROUTES to stop"
    )
