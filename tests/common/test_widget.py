from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from common.widget import normalise_origin, origin_allowed, preflight_headers
from tests.runtime import local_client

Configure = Callable[..., Any]


def test_widget_script_is_javascript_with_caching_headers(configure: Configure) -> None:
    configure()

    response = local_client().get("/v1/widget.js")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "max-age=300" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["ETag"]
    assert b"/v1/widget/messages" in response.data


def test_widget_script_revalidation_with_matching_etag_gets_304(
    configure: Configure,
) -> None:
    configure()
    client = local_client()
    etag = client.get("/v1/widget.js").headers["ETag"]

    response = client.get("/v1/widget.js", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.data == b""


def test_widget_script_holds_no_secret_and_no_outside_dependency(
    configure: Configure,
) -> None:
    configure()

    script = local_client().get("/v1/widget.js").get_data(as_text=True)

    assert "X-API-Key" not in script
    assert "sk_live_" not in script
    assert "import " not in script
    assert "http://" not in script
    assert "https://" not in script.replace("https://HOST", "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.example.com", "https://www.example.com"),
        ("HTTPS://WWW.Example.COM/", "https://www.example.com"),
        ("https://example.com:443", "https://example.com"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("null", None),
        ("", None),
        (None, None),
        ("ftp://example.com", None),
        ("https://example.com/path", None),
        ("https://user@example.com", None),
        ("https://example.com:99999", None),
        ("example.com", None),
    ],
)
def test_origin_is_normalised_or_refused(raw: str | None, expected: str | None) -> None:
    assert normalise_origin(raw) == expected


def test_origin_on_the_allowlist_is_allowed_whatever_its_spelling() -> None:
    allowed = ["https://www.example.com", "http://localhost:8080"]

    assert origin_allowed("https://WWW.example.com:443", allowed)
    assert origin_allowed("http://localhost:8080", allowed)
    assert not origin_allowed("http://localhost:8081", allowed)
    assert not origin_allowed("https://example.com", allowed)
    assert not origin_allowed("https://www.example.com.evil.test", allowed)
    assert not origin_allowed("null", [*allowed, "null"])


def test_preflight_headers_name_methods_headers_and_max_age() -> None:
    headers = preflight_headers("https://www.example.com")

    assert headers["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert headers["Vary"] == "Origin"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in headers["Access-Control-Allow-Headers"]
    assert int(headers["Access-Control-Max-Age"]) > 0
