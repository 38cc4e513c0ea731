"""Allowed origins have one spelling, whoever wrote them."""

from __future__ import annotations

import pytest

from common.store import StoreError
from common.store.origins import normalize_origin, origin_allowed


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("https://www.example.com", "https://www.example.com"),
        ("HTTPS://Example.COM", "https://example.com"),
        ("https://Example.com:443", "https://example.com"),
        ("http://example.com:80", "http://example.com"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("  https://example.com  ", "https://example.com"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_an_origin_is_kept_lower_case_without_its_default_port(
    written: str, stored: str
) -> None:
    assert normalize_origin(written) == stored


@pytest.mark.parametrize(
    "written",
    [
        "https://example.com/",
        "https://example.com/shop",
        "https://example.com?page=1",
        "https://example.com#chat",
        "https://user@example.com",
        "example.com",
        "ftp://example.com",
        "https://",
        "https://exa mple.com",
        "https://example.com:99999",
        "*",
        "null",
        "",
    ],
)
def test_anything_but_scheme_host_and_port_is_refused_with_the_fix(
    written: str,
) -> None:
    with pytest.raises(StoreError, match="scheme://host"):
        normalize_origin(written)


def test_a_browser_origin_matches_however_the_allowlist_spelled_it() -> None:
    allowed = ["https://Shop.Example.com:443", "not an origin"]

    assert origin_allowed("https://shop.example.com", allowed)
    assert not origin_allowed("https://shop.example.com.evil.test", allowed)
    assert not origin_allowed("null", allowed)
    assert not origin_allowed("", allowed)
