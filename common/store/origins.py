"""Web origins on a business's widget allowlist, in one spelling.

A browser sends `Origin` as scheme, host and port, lower-case, without the
default port. People write `https://Example.com:443` or paste a trailing
slash. `normalize_origin` gives every way of writing an origin the
browser's spelling, and refuses what is not an origin at all (a path, a
query, `*`, `null`). The store keeps allowlists normalised and tenancy
compares normalised origins, so the two always agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from common.store.base import StoreError

DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_WILDCARDS = frozenset({"*", "null"})


def normalize_origin(origin: str) -> str:
    """`scheme://host[:port]`, lower-case, the default port dropped; or StoreError."""
    text = origin.strip()
    if text.lower() in _WILDCARDS:
        raise _not_an_origin(origin, "name each site instead of allowing any")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise _not_an_origin(origin, str(exc)) from exc

    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not text[len(scheme) :].startswith("://"):
        raise _not_an_origin(origin, "it needs http:// or https://")
    if parts.path or "?" in text or "#" in text:
        raise _not_an_origin(origin, "leave out the path, query and trailing slash")
    if "@" in parts.netloc:
        raise _not_an_origin(origin, "leave out the user name")

    host = _host(origin, parts.hostname or "", parts.netloc.startswith("["))
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_allowed(origin: str, allowed: Iterable[str]) -> bool:
    """Whether a browser's `Origin` is on an allowlist, both normalised.

    An entry that is not an origin allows nothing; it never raises.
    """
    try:
        wanted = normalize_origin(origin)
    except StoreError:
        return False
    return any(_normalized_or_none(entry) == wanted for entry in allowed)


def normalize_origins(origins: Iterable[str]) -> list[str]:
    """Each origin normalised, in order, each once."""
    return list(dict.fromkeys(normalize_origin(origin) for origin in origins))


def _host(origin: str, hostname: str, bracketed: bool) -> str:
    if bracketed:
        return f"[{hostname}]"
    try:
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise _not_an_origin(origin, "the host name is not valid") from exc
    if not _HOST.match(host):
        raise _not_an_origin(origin, "the host name is not valid")
    return host


def _normalized_or_none(origin: str) -> str | None:
    try:
        return normalize_origin(origin)
    except StoreError:
        return None


def _not_an_origin(origin: str, why: str) -> StoreError:
    return StoreError(
        f"{origin!r} is not a web origin ({why}): write it as "
        "scheme://host[:port], e.g. https://www.example.com"
    )
