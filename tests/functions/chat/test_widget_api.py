from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from common.store import get_store
from tests.functions.chat.tenants import HOURS_ANSWER, SITE, Tenant, create_tenant
from tests.runtime import local_client

Configure = Callable[..., Any]
PATH = "/v1/widget/messages"
OTHER_SITE = "https://copycat.example"


@pytest.fixture
def tenant(configure: Configure) -> Tenant:
    configure()
    return create_tenant()


def _post(
    tenant: Tenant, body: dict[str, Any], origin: str | None = SITE, **headers: str
) -> Any:
    sent = dict(headers)
    if origin is not None:
        sent["Origin"] = origin
    return local_client().post(
        f"{PATH}?key={tenant.widget_key}", json=body, headers=sent
    )


def _preflight(key: str, origin: str) -> Any:
    return local_client().options(
        f"{PATH}?key={key}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def test_preflight_from_an_allowed_site_names_methods_headers_and_max_age(
    tenant: Tenant,
) -> None:
    response = _preflight(tenant.widget_key, SITE)

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert response.headers["Vary"] == "Origin"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Access-Control-Max-Age"] == "600"


def test_preflight_from_another_site_gets_403_json_and_no_cors_allow(
    tenant: Tenant,
) -> None:
    response = _preflight(tenant.widget_key, OTHER_SITE)

    assert response.status_code == 403
    assert response.json["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == "Origin"


def test_message_from_an_allowed_site_is_answered_with_its_exact_origin(
    tenant: Tenant,
) -> None:
    response = _post(tenant, {"message": "What are your hours?"})

    assert response.status_code == 200
    assert response.json["reply"] == HOURS_ANSWER
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert response.headers["Vary"] == "Origin"


@pytest.mark.parametrize("origin", [OTHER_SITE, None, "null", SITE + ".evil.test"])
def test_message_from_another_or_no_site_gets_403_and_no_cors_allow(
    tenant: Tenant, origin: str | None
) -> None:
    response = _post(tenant, {"message": "What are your hours?"}, origin=origin)

    assert response.status_code == 403
    assert response.json["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_refused_site_learns_nothing_and_the_operator_log_says_what_to_do(
    configure: Configure,
) -> None:
    _, logs = configure()
    tenant = create_tenant()

    response = _post(tenant, {"message": "hi"}, origin=OTHER_SITE)

    assert response.json["error"]["message"] == (
        "This site is not allowed to use this widget"
    )
    assert tenant.business_id not in response.get_data(as_text=True)
    line = logs.one("request_rejected")
    assert line["business_id"] == tenant.business_id
    assert OTHER_SITE in line["reason"]
    assert f"widget origins {tenant.business_id} --add {OTHER_SITE}" in line["reason"]


def test_key_may_travel_in_the_header_or_the_body(tenant: Tenant) -> None:
    client = local_client()
    by_header = client.post(
        PATH,
        json={"message": "What are your hours?"},
        headers={"Origin": SITE, "X-Widget-Key": tenant.widget_key},
    )
    by_body = client.post(
        PATH,
        json={"message": "What are your hours?", "key": tenant.widget_key},
        headers={"Origin": SITE},
    )

    assert by_header.status_code == 200
    assert by_body.status_code == 200


def test_missing_or_unknown_widget_key_gets_401(tenant: Tenant) -> None:
    client = local_client()
    missing = client.post(PATH, json={"message": "hi"}, headers={"Origin": SITE})
    unknown = client.post(
        f"{PATH}?key=pk_live_nobody", json={"message": "hi"}, headers={"Origin": SITE}
    )

    assert missing.status_code == 401
    assert missing.json["error"]["code"] == "missing_widget_key"
    assert unknown.status_code == 401
    assert unknown.json["error"]["code"] == "invalid_widget_key"
    assert "Access-Control-Allow-Origin" not in unknown.headers


def test_secret_api_key_is_not_a_widget_key(tenant: Tenant) -> None:
    client = local_client()
    response = client.post(
        f"{PATH}?key={tenant.api_key}",
        json={"message": "hi"},
        headers={"Origin": SITE},
    )

    assert response.status_code == 401


def test_invalid_message_from_an_allowed_site_is_readable_by_the_page(
    tenant: Tenant,
) -> None:
    response = _post(tenant, {"message": "   "})

    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_message"
    assert response.headers["Access-Control-Allow-Origin"] == SITE


def test_suspended_business_widget_gets_402_readable_by_the_page(
    configure: Configure,
) -> None:
    configure()
    tenant = create_tenant(status="suspended")

    response = _post(tenant, {"message": "hi"})

    assert response.status_code == 402
    assert response.json["error"]["code"] == "service_suspended"
    assert response.headers["Access-Control-Allow-Origin"] == SITE


def test_widget_cannot_continue_a_conversation_the_api_started(
    tenant: Tenant,
) -> None:
    api = local_client().post(
        "/v1/chat",
        json={"message": "Do you rent e-bikes?", "session_id": "crm-contact-77"},
        headers={"X-API-Key": tenant.api_key},
    )
    widget = _post(tenant, {"message": "hello", "session_id": "crm-contact-77"})

    store = get_store()
    api_turns = store.get_conversation(tenant.business_id, "chat", "crm-contact-77")
    widget_turns = store.get_conversation(
        tenant.business_id, "widget", "crm-contact-77"
    )
    assert api.status_code == widget.status_code == 200
    assert len(api_turns.turns) == 2
    assert len(widget_turns.turns) == 2


def test_visitor_address_over_the_widget_limit_gets_429_with_retry_after(
    configure: Configure,
) -> None:
    _, logs = configure(RATE_LIMIT_WIDGET_PER_IP="2", RATE_LIMIT_WINDOW_SECONDS="30")
    tenant = create_tenant()

    answers = [_post(tenant, {"message": "What are your hours?"}) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] == "30"
    assert answers[2].json["error"]["code"] == "rate_limited"
    assert logs.one("rate_limit_triggered")["channel"] == "widget"


def test_widget_limit_refusal_is_readable_by_an_allowed_page(
    configure: Configure,
) -> None:
    configure(RATE_LIMIT_WIDGET_PER_IP="1", RATE_LIMIT_WINDOW_SECONDS="30")
    tenant = create_tenant()

    _post(tenant, {"message": "What are your hours?"})
    refused = _post(tenant, {"message": "What are your hours?"})

    assert refused.status_code == 429
    assert refused.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in refused.headers["Vary"]
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("origin", [OTHER_SITE, None])
def test_widget_limit_refusal_grants_no_cors_to_another_site(
    configure: Configure, origin: str | None
) -> None:
    configure(RATE_LIMIT_WIDGET_PER_IP="1", RATE_LIMIT_WINDOW_SECONDS="30")
    tenant = create_tenant()

    _post(tenant, {"message": "What are your hours?"}, origin=origin)
    refused = _post(tenant, {"message": "What are your hours?"}, origin=origin)

    assert refused.status_code == 429
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Origin" in refused.headers["Vary"]


def test_every_widget_answer_to_an_allowed_page_exposes_retry_after(
    tenant: Tenant,
) -> None:
    answered = _post(tenant, {"message": "What are your hours?"})
    malformed = local_client().post(
        f"{PATH}?key={tenant.widget_key}",
        data="{not json",
        headers={"Origin": SITE, "Content-Type": "application/json"},
    )

    for response in (answered, malformed):
        assert response.headers["Access-Control-Allow-Origin"] == SITE
        assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
    assert malformed.status_code == 400


def test_site_allowed_in_another_spelling_is_answered_with_the_browser_origin(
    configure: Configure,
) -> None:
    configure()
    tenant = create_tenant(origin="HTTPS://WWW.BaysideBikes.example:443")

    response = _post(tenant, {"message": "What are your hours?"})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SITE
