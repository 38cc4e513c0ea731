"""The wrapper every HTTP function is served through.

It binds the request context, enforces the body limit, routes by path and
method, times the request, writes exactly one `request_completed` line, and
answers every failure in the caller's own format: TwiML for Twilio (never an
HTML page, which Twilio reports as error 12100), JSON for the APIs.

Guards (rate limits, fault injection) run before the handler through
`add_guard`; detectors (alert thresholds, latency) see every finished request
through `add_observer`. A function adds headers of its own to every answer,
refusals by a guard and errors included, with `HttpFunction.after_response`.
A failing observer or response hook is logged and never changes the status.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from common import context, errors
from common.edge import client_ip, path_with_query
from common.logs import get_logger
from common.settings import Settings, get_settings

log = get_logger(__name__)

Caller = Literal["twilio", "twilio_voice", "api", "stripe", "widget"]
Handler = Callable[..., Response]

TWIML_CONTENT_TYPE = "text/xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
VOICE_APOLOGY = (
    "We are sorry, we cannot take your call right now. Please try again later."
)


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    handler: Handler
    methods: tuple[str, ...]
    caller: Caller
    # False for what costs nothing to serve (a static script): counting it
    # against the caller's per-IP limit would cost more than answering.
    ip_limited: bool = True


@dataclass
class RequestOutcome:
    """What an observer learns about a finished request."""

    function: str
    route: str
    path: str
    method: str
    caller: Caller
    status: int
    latency_ms: float
    client_ip: str
    error: errors.HttpError | None = None
    exception: BaseException | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Guard = Callable[[Request, Route], None]
Observer = Callable[[RequestOutcome], None]
# Sees the request, its route (None when no route matched) and the answer.
ResponseHook = Callable[[Request, Route | None, Response], None]
_guards: list[Guard] = []
_observers: list[Observer] = []


def add_guard(guard: Guard) -> None:
    """Run `guard(request, route)` before every handler; it may raise HttpError."""
    if guard not in _guards:
        _guards.append(guard)


def add_observer(observer: Observer) -> None:
    """Call `observer(outcome)` after every request."""
    if observer not in _observers:
        _observers.append(observer)


def remove_hooks() -> None:
    """Forget every guard and observer (tests)."""
    _guards.clear()
    _observers.clear()


def twiml(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type=TWIML_CONTENT_TYPE)


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(
        body, status=status, content_type=JSON_CONTENT_TYPE, headers=headers
    )


def error_response(caller: Caller, error: errors.HttpError) -> Response:
    """The caller's kind of answer for an error."""
    if caller == "twilio_voice":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><Response>'
            f"<Say>{VOICE_APOLOGY}</Say><Hangup /></Response>"
        )
        response = twiml(body, error.status)
    elif caller == "twilio":
        response = twiml(EMPTY_TWIML, error.status)
    else:
        payload = {
            "error": {
                "code": error.code,
                "message": error.message,
                "request_id": context.current().request_id,
            }
        }
        response = json_response(payload, error.status)
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def require_form(request: Request) -> None:
    """Twilio posts `application/x-www-form-urlencoded`; anything else is 415."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise errors.UnsupportedMediaType(
            "Send the webhook as application/x-www-form-urlencoded",
            reason=f"content type {request.mimetype or 'missing'!r}",
        )


def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or a 415/400 that says what is wrong."""
    if request.mimetype != "application/json":
        raise errors.UnsupportedMediaType(
            "Send the request body as application/json",
            reason=f"content type {request.mimetype or 'missing'!r}",
        )
    try:
        payload = json.loads(request.get_data(cache=True))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.BadRequest(
            "The body is not valid JSON", code="malformed_json", reason=str(exc)
        ) from exc
    if not isinstance(payload, dict):
        raise errors.BadRequest(
            "The body must be a JSON object",
            code="malformed_json",
            reason="not an object",
        )
    return payload


class HttpFunction:
    """One deployable HTTP function: its routes and how it answers failures."""

    def __init__(self, name: str, default_caller: Caller) -> None:
        self.name = name
        self.default_caller = default_caller
        self._routes: dict[str, Route] = {}
        self._map = Map(strict_slashes=False, merge_slashes=False)
        self._response_hooks: list[ResponseHook] = []

    @property
    def routes(self) -> Sequence[Route]:
        return list(self._routes.values())

    def route(
        self,
        rule: str,
        methods: Sequence[str] = ("POST",),
        caller: Caller | None = None,
        ip_limited: bool = True,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            endpoint = f"{self.name}.{handler.__name__}"
            self._routes[endpoint] = Route(
                rule=rule,
                endpoint=endpoint,
                handler=handler,
                methods=tuple(method.upper() for method in methods),
                caller=caller or self.default_caller,
                ip_limited=ip_limited,
            )
            self._map.add(Rule(rule, endpoint=endpoint, methods=list(methods)))
            return handler

        return register

    def after_response(self, hook: ResponseHook) -> ResponseHook:
        """Let `hook(request, route, response)` adjust every answer of this function.

        It runs for handler answers and for every error answer alike, guards'
        refusals among them, before the access line is written.
        """
        if hook not in self._response_hooks:
            self._response_hooks.append(hook)
        return hook

    def prefixes(self) -> list[str]:
        """Static leading parts of every rule, for mounting under one server."""
        return sorted(
            {route.rule.split("<", 1)[0].rstrip("/") for route in self.routes}
        )

    def __call__(self, request: Request) -> Response:
        settings = get_settings()
        started = time.perf_counter()
        context.bind_request(request.headers)
        request.max_content_length = settings.max_body_bytes
        route: Route | None = None
        outcome_error: errors.HttpError | None = None
        exception: BaseException | None = None
        try:
            try:
                route, view_args = self._match(request)
                self._check_size(request, settings)
                for guard in _guards:
                    guard(request, route)
                response = route.handler(request, **view_args)
            except errors.HttpError as error:
                outcome_error = error
                response = self._answer_error(route, error)
            except HTTPException as http_exc:
                outcome_error = self._translate(http_exc)
                response = self._answer_error(route, outcome_error)
            except Exception as exc:
                exception = exc
                outcome_error = errors.HttpError(
                    "Internal error; the request was logged"
                )
                log.exception(
                    "unhandled_exception",
                    f"{type(exc).__name__} while serving {request.path}",
                    path=request.path,
                    route=route.rule if route else "-",
                )
                response = self._answer_error(route, outcome_error)
            self._finish(request, route, response)

            latency_ms = (time.perf_counter() - started) * 1000
            outcome = RequestOutcome(
                function=self.name,
                route=route.rule if route else "-",
                path=request.path,
                method=request.method,
                caller=route.caller if route else self.default_caller,
                status=response.status_code,
                latency_ms=latency_ms,
                client_ip=client_ip(request, settings),
                error=outcome_error,
                exception=exception,
            )
            self._log_completed(request, response, outcome)
            self._observe(outcome)
            return response
        finally:
            context.clear()

    def _match(self, request: Request) -> tuple[Route, dict[str, Any]]:
        adapter = self._map.bind_to_environ(request.environ)
        endpoint, view_args = adapter.match(request.path, method=request.method)
        return self._routes[str(endpoint)], dict(view_args)

    @staticmethod
    def _check_size(request: Request, settings: Settings) -> None:
        length = request.content_length
        if length is not None and length > settings.max_body_bytes:
            raise errors.PayloadTooLarge(
                f"The body is {length} bytes; the limit is {settings.max_body_bytes}",
                reason=f"body of {length} bytes",
            )

    @staticmethod
    def _translate(exc: HTTPException) -> errors.HttpError:
        status = exc.code or 500
        if status == 404:
            return errors.NotFound("No such path", reason="unknown path")
        if status == 405:
            return errors.MethodNotAllowed(
                "This path does not accept that method",
                reason="wrong method",
                headers={"Allow": ", ".join(getattr(exc, "valid_methods", None) or [])},
            )
        if status == 413:
            return errors.PayloadTooLarge("The body is over the size limit")
        if status == 400:
            return errors.BadRequest(
                "The request could not be read", reason=exc.description
            )
        error = errors.HttpError(exc.description or "Request failed")
        error.status = status
        return error

    def _answer_error(self, route: Route | None, error: errors.HttpError) -> Response:
        caller = route.caller if route else self.default_caller
        if error.status < 500:
            log.warning(
                "request_rejected",
                error.message,
                status=error.status,
                code=error.code,
                reason=error.reason,
            )
        return error_response(caller, error)

    def _finish(
        self, request: Request, route: Route | None, response: Response
    ) -> None:
        for hook in self._response_hooks:
            try:
                hook(request, route, response)
            except Exception:
                name = getattr(hook, "__name__", repr(hook))
                log.exception(
                    "response_hook_failed",
                    f"response hook {name} of {self.name} failed; answered without it",
                    hook=name,
                )

    @staticmethod
    def _log_completed(
        request: Request, response: Response, outcome: RequestOutcome
    ) -> None:
        latency = outcome.latency_ms
        http_request = {
            "requestMethod": request.method,
            "requestUrl": path_with_query(request),
            "requestSize": str(request.content_length or 0),
            "status": response.status_code,
            "responseSize": str(response.calculate_content_length() or 0),
            "userAgent": request.user_agent.string,
            "remoteIp": outcome.client_ip,
            "latency": f"{latency / 1000:.6f}s",
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
        }
        fields: dict[str, Any] = {
            "httpRequest": http_request,
            "method": request.method,
            "path": request.path,
            "route": outcome.route,
            "function": outcome.function,
            "status": response.status_code,
            "latency_ms": round(latency, 2),
        }
        if outcome.error is not None:
            fields["error_code"] = outcome.error.code
        message = (
            f"{request.method} {request.path} {response.status_code} {latency:.0f}ms"
        )
        if response.status_code >= 500:
            log.error("request_completed", message, **fields)
        elif response.status_code >= 400:
            log.warning("request_completed", message, **fields)
        else:
            log.info("request_completed", message, **fields)

    @staticmethod
    def _observe(outcome: RequestOutcome) -> None:
        for observer in list(_observers):
            try:
                observer(outcome)
            except Exception:
                name = getattr(observer, "__name__", repr(observer))
                log.exception("observer_failed", f"request observer {name} failed")
