from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.widget import preflight_headers
from tests.functions.chat.tenants import SITE, create_tenant
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


def test_preflight_headers_name_methods_headers_and_max_age() -> None:
    headers = preflight_headers("https://www.example.com")

    assert headers["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert headers["Vary"] == "Origin"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in headers["Access-Control-Allow-Headers"]
    assert int(headers["Access-Control-Max-Age"]) > 0


def test_loading_the_script_spends_none_of_the_visitor_address_limit(
    configure: Configure,
) -> None:
    _, logs = configure(RATE_LIMIT_WIDGET_PER_IP="2", RATE_LIMIT_WINDOW_SECONDS="30")
    tenant = create_tenant()
    client = local_client()

    loads = [client.get("/v1/widget.js").status_code for _ in range(5)]
    messages = [
        client.post(
            f"/v1/widget/messages?key={tenant.widget_key}",
            json={"message": "What are your hours?"},
            headers={"Origin": SITE},
        ).status_code
        for _ in range(2)
    ]

    assert loads == [200] * 5
    assert messages == [200, 200]
    assert logs.events("rate_limit_triggered") == []
