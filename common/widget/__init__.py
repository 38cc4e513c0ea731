"""The website widget: the script browsers load and the CORS answers they need.

The script (`widget.js`, shipped as package data) is served as it is, with a
content hash as its ETag so browsers revalidate cheaply. The widget's
endpoints answer only origins on the business's allowlist (checked by
`common.tenancy.business_for_widget`): an allowed origin is echoed exactly
in `Access-Control-Allow-Origin`; any other origin gets no CORS allow header
at all, so the browser keeps the answer from the page.
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
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def preflight_headers(origin: str) -> dict[str, str]:
    """What a successful preflight carries."""
    return {
        **cors_headers(origin),
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
    }
