"""The website widget: the script browsers load and the CORS answers they need.

The script (`widget.js`, shipped as package data) is served as it is, with a
content hash as its ETag so browsers revalidate cheaply. The widget's
endpoints answer only origins on the business's allowlist: an allowed origin
is echoed exactly in `Access-Control-Allow-Origin`; any other origin gets no
CORS allow header at all, so the browser hides the answer from the page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit

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


def normalise_origin(raw: str | None) -> str | None:
    """`scheme://host[:port]` in lower case, or None for anything else.

    Default ports are dropped, so `https://example.com:443` and
    `https://example.com` are the same origin. Browsers send `null` from
    sandboxed frames and files; that is never an allowed origin.
    """
    if not raw or raw.strip().lower() == "null":
        return None
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    default_port = 443 if scheme == "https" else 80
    if port is None or port == default_port:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_allowed(origin: str | None, allowed_origins: list[str]) -> bool:
    """Whether the browser's `Origin` is on the business's allowlist."""
    normalised = normalise_origin(origin)
    if normalised is None:
        return False
    return normalised in {normalise_origin(entry) for entry in allowed_origins}


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
