"""What a request looked like from outside: its public URL and client IP.

Behind Cloud Run or a load balancer the function sees an internal scheme,
host and port. Twilio signs the public URL, so we rebuild it from
`PUBLIC_BASE_URL` when set. Otherwise forwarding headers are believed only
for the number of proxies the operator declares in `TRUSTED_PROXY_COUNT`:
trusting `X-Forwarded-Host` from anyone would let a caller choose the URL
being checked.
"""

from __future__ import annotations

from werkzeug.wrappers import Request

from common.settings import Settings


def _trusted_value(request: Request, header: str, hops: int) -> str | None:
    """The value the outermost trusted proxy wrote, counting from the right."""
    raw = request.headers.get(header)
    if not raw or hops <= 0:
        return None
    values = [value.strip() for value in raw.split(",")]
    if len(values) < hops:
        return None
    return values[-hops] or None


def path_with_query(request: Request) -> str:
    query = request.query_string.decode("latin-1")
    return request.path + ("?" + query if query else "")


def public_url(request: Request, settings: Settings) -> str:
    """The full URL the caller used, as the provider signed it."""
    if settings.public_base_url:
        return settings.public_base_url + path_with_query(request)

    hops = settings.trusted_proxy_count
    scheme = _trusted_value(request, "X-Forwarded-Proto", hops) or request.scheme
    host = _trusted_value(request, "X-Forwarded-Host", hops) or request.host
    port = _trusted_value(request, "X-Forwarded-Port", hops)
    if port and ":" not in host:
        default = (scheme == "https" and port == "443") or (
            scheme == "http" and port == "80"
        )
        if not default:
            host = f"{host}:{port}"
    return f"{scheme}://{host}{path_with_query(request)}"


def client_ip(request: Request, settings: Settings) -> str:
    """The caller's address, trusting `X-Forwarded-For` only as configured."""
    forwarded = _trusted_value(request, "X-Forwarded-For", settings.trusted_proxy_count)
    return forwarded or request.remote_addr or "unknown"
