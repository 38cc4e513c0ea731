"""The exceptions a handler raises to answer a request with an error.

Each carries the HTTP status, a stable `code` for API clients, the `event`
that the access log records, and whether the caller's retry can help. The
HTTP wrapper turns them into the caller's format: TwiML for Twilio, JSON for
the APIs.
"""

from __future__ import annotations

from typing import Any


class HttpError(Exception):
    status = 500
    code = "internal_error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        # A precise reason for the log line; `message` is what the caller sees.
        self.reason = reason or code or self.code
        self.headers = headers or {}
        self.details = details or {}


class BadRequest(HttpError):
    status = 400
    code = "invalid_request"


class Unauthorized(HttpError):
    status = 401
    code = "unauthorized"


class PaymentRequired(HttpError):
    status = 402
    code = "service_suspended"


class Forbidden(HttpError):
    status = 403
    code = "forbidden"


class NotFound(HttpError):
    status = 404
    code = "not_found"


class MethodNotAllowed(HttpError):
    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(HttpError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(HttpError):
    status = 415
    code = "unsupported_media_type"


class TooManyRequests(HttpError):
    status = 429
    code = "rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.headers["Retry-After"] = str(retry_after)


class NotImplementedYet(HttpError):
    status = 501
    code = "not_implemented"


class ServiceUnavailable(HttpError):
    """Our side failed in a way a retry may fix (Stripe and Twilio do retry)."""

    status = 503
    code = "unavailable"
    retryable = True
