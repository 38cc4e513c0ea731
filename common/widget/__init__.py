"""The website widget: the script browsers load and the CORS answers they need.

The script (`widget.js`, shipped as package data) is served as it is, with a
content hash as its ETag so browsers revalidate cheaply. The widget's
endpoints answer only origins on the business's allowlist (checked by
`common.tenancy.widget_origin`): every answer to an allowed origin, errors
and rate-limit refusals included, echoes it exactly in
`Access-Control-Allow-Origin` and lets the page read `Retry-After`; any
other origin gets no CORS allow header at all, so the browser keeps the
answer from the page. Every answer varies by `Origin`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from werkzeug.wrappers import Request, Response

SCRIPT_PATH = "/v1/widget.js"
SCRIPT_CONTENT_TYPE = "text/javascript; charset=utf-8"
# Browsers keep the script five minutes, then revalidate it by ETag.
SCRIPT_CACHE_CONTROL = "public, max-age=300, must-revalidate"

ALLOWED_METHODS = "POST, OPTIONS"
ALLOWED_HEADERS = "Content-Type, X-Widget-Key, X-Request-ID"
# Response headers the page may read beyond the basic ones.
EXPOSED_HEADERS = "Retry-After"
PREFLIGHT_MAX_AGE_SECONDS = 600


@dataclass(frozen=True)
class _Script:
    body: bytes
    etag: str


@lru_cache(maxsize=1)
def _script() -> _Script:
    body = resources.files(__name__).joinpath("widget.js").read_bytes()
    return _Script(body=body, etag=hashlib.sha256(body).hexdigest()[:20])


def script_response(request: Request) -> Response:
    """The widget script, or 304 when the browser's copy is current."""
    script = _script()
    headers = {
        "Cache-Control": SCRIPT_CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
        # Pages that isolate themselves (COEP) may still load it.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if script.etag in request.if_none_match:
        response = Response(status=304, headers=headers)
    else:
        response = Response(
            script.body, content_type=SCRIPT_CONTENT_TYPE, headers=headers
        )
    response.set_etag(script.etag)
    return response


def cors_headers(origin: str) -> dict[str, str]:
    """What an answer to an allowed origin carries."""
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
        "Vary": "Origin",
    }


def apply_cors(response: Response, allowed_origin: str | None) -> None:
    """Mark an answer as varying by `Origin`; open it to the allowed origin only."""
    response.vary.add("Origin")
    if allowed_origin is None:
        return
    for name, value in cors_headers(allowed_origin).items():
        if name != "Vary":
            response.headers[name] = value


def preflight_headers(origin: str) -> dict[str, str]:
    """What a successful preflight carries."""
    return {
        **cors_headers(origin),
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
    }
