from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses

from common import assistant, outbox
from common.chat import SESSION_ID_PATTERN
from common.store import get_store
from tests.functions.chat.tenants import HOURS_ANSWER, Tenant, create_tenant
from tests.runtime import local_client

Configure = Callable[..., Any]
ACCOUNT_SID = "AC" + "0" * 32
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


@pytest.fixture
def tenant(configure: Configure) -> Tenant:
    configure()
    return create_tenant()


def _post(tenant: Tenant | None, body: Any = None, **headers: str) -> Any:
    sent = {"X-Request-ID": "req-chat-1", **headers}
    if tenant is not None:
        sent.setdefault("X-API-Key", tenant.api_key)
    return local_client().post("/v1/chat", json=body, headers=sent)


def _assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.json == {
        "error": {
            "code": code,
            "message": response.json["error"]["message"],
            "request_id": "req-chat-1",
        }
    }
    assert response.json["error"]["message"]


def test_question_is_answered_from_the_knowledge_base_with_a_new_session(
    tenant: Tenant,
) -> None:
    response = _post(tenant, {"message": "What are your hours?"})

    assert response.status_code == 200
    assert response.json["reply"] == HOURS_ANSWER
    assert response.json["action"] == "answer"
    assert SESSION_ID_PATTERN.match(response.json["session_id"])


def test_conversation_is_remembered_per_session(tenant: Tenant) -> None:
    first = _post(tenant, {"message": "What are your hours?"}).json
    second = _post(
        tenant, {"message": "Do you rent e-bikes?", "session_id": first["session_id"]}
    ).json

    conversation = get_store().get_conversation(
        tenant.business_id, "chat", first["session_id"]
    )
    assert second["session_id"] == first["session_id"]
    assert [turn.role for turn in conversation.turns] == [
        "customer",
        "assistant",
        "customer",
        "assistant",
    ]
    assert conversation.turns[2].text == "Do you rent e-bikes?"


def test_chosen_session_id_is_kept(tenant: Tenant) -> None:
    response = _post(tenant, {"message": "hello", "session_id": "order-4411-chat"})

    assert response.json["session_id"] == "order-4411-chat"


def test_matching_business_id_header_is_accepted(tenant: Tenant) -> None:
    response = _post(
        tenant, {"message": "What are your hours?"}, **{"X-Business-ID": "biz-bikes"}
    )

    assert response.status_code == 200


def test_missing_api_key_gets_401_in_the_documented_shape(tenant: Tenant) -> None:
    _assert_error(_post(None, {"message": "hi"}), 401, "missing_api_key")


def test_unknown_api_key_gets_401(tenant: Tenant) -> None:
    response = _post(None, {"message": "hi"}, **{"X-API-Key": "sk_live_" + "x" * 32})

    _assert_error(response, 401, "invalid_api_key")


def test_revoked_api_key_gets_403(tenant: Tenant) -> None:
    store = get_store()
    key = store.api_key_for_secret(tenant.api_key)
    assert key is not None
    store.revoke_api_key(key.key_id)

    _assert_error(_post(tenant, {"message": "hi"}), 403, "api_key_revoked")


def test_key_of_another_business_gets_403(tenant: Tenant) -> None:
    create_tenant("biz-other", origin="https://other.example")

    response = _post(tenant, {"message": "hi"}, **{"X-Business-ID": "biz-other"})

    _assert_error(response, 403, "business_mismatch")


def test_suspended_business_gets_402_service_suspended(configure: Configure) -> None:
    configure()
    suspended = create_tenant(status="suspended")

    response = _post(suspended, {"message": "What are your hours?"})

    _assert_error(response, 402, "service_suspended")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"message": ""}, "invalid_message"),
        ({"message": "x" * 2001}, "invalid_message"),
        ({"message": "hi", "session_id": "../../etc"}, "invalid_session_id"),
        ({"message": "hi", "customer": {"phone": "0800 123"}}, "invalid_customer"),
        (["message"], "malformed_json"),
    ],
)
def test_invalid_body_gets_400_with_a_stable_code(
    tenant: Tenant, body: Any, code: str
) -> None:
    _assert_error(_post(tenant, body), 400, code)


def test_body_that_is_not_json_gets_400(tenant: Tenant) -> None:
    response = local_client().post(
        "/v1/chat",
        data=b"{not json",
        headers={
            "X-API-Key": tenant.api_key,
            "X-Request-ID": "req-chat-1",
            "Content-Type": "application/json",
        },
    )

    _assert_error(response, 400, "malformed_json")


def test_form_body_gets_415(tenant: Tenant) -> None:
    response = local_client().post(
        "/v1/chat",
        data={"message": "hi"},
        headers={"X-API-Key": tenant.api_key, "X-Request-ID": "req-chat-1"},
    )

    _assert_error(response, 415, "unsupported_media_type")


def test_body_over_the_size_limit_gets_413(configure: Configure) -> None:
    configure(MAX_BODY_BYTES="1024")
    tenant = create_tenant()

    response = _post(tenant, {"message": "x" * 2000})

    _assert_error(response, 413, "payload_too_large")


def test_get_gets_405(tenant: Tenant) -> None:
    response = local_client().get(
        "/v1/chat", headers={"X-API-Key": tenant.api_key, "X-Request-ID": "req-chat-1"}
    )

    _assert_error(response, 405, "method_not_allowed")


def test_failure_inside_gets_500_without_internals(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr("common.assistant.respond", broken)

    response = _post(tenant, {"message": "What are your hours?"})

    _assert_error(response, 500, "internal_error")
    assert "hunter2" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)


def test_visitor_leaving_contact_details_is_a_lead_for_the_owner_once(
    tenant: Tenant,
) -> None:
    customer = {"name": "Ada", "phone": "+15551234567"}
    first = _post(tenant, {"message": "Do you rent e-bikes?", "customer": customer})
    _post(
        tenant,
        {
            "message": "What are your hours?",
            "session_id": first.json["session_id"],
            "customer": customer,
        },
    )

    leads = [n for n in outbox.read("owner-notifications") if n["kind"] == "new_lead"]
    assert len(leads) == 1
    assert leads[0]["business_id"] == "biz-bikes"
    assert "Ada" in leads[0]["text"]
    assert leads[0]["details"]["phone"] == "+15551234567"
    assert leads[0]["details"]["session_id"] == first.json["session_id"]


def test_a_lead_is_sent_to_the_owner_within_the_turn_deadline(
    configure: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(
        ENVIRONMENT="staging",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN="staging-auth-token",
        CHAT_TURN_DEADLINE_MS="3000",
    )
    tenant = create_tenant()
    get_store().add_number(tenant.business_id, "+15005550006")
    budgets: list[int | None] = []

    def respond(*args: Any, deadline_ms: int | None = None, **kwargs: Any) -> Any:
        budgets.append(deadline_ms)
        return answer_from_knowledge(*args, deadline_ms=deadline_ms, **kwargs)

    answer_from_knowledge = assistant.respond
    monkeypatch.setattr(assistant, "respond", respond)
    customer = {"name": "Ada", "phone": "+15551234567"}
    with responses.RequestsMock() as twilio:
        twilio.post(MESSAGES_URL, status=201, json={"sid": "SM" + "1" * 32})
        question = _post(tenant, {"message": "Do you rent e-bikes?"})
        lead = _post(
            tenant,
            {
                "message": "Please call me",
                "session_id": question.json["session_id"],
                "customer": customer,
            },
        )
        send_timeout = twilio.calls[0].request.req_kwargs["timeout"]

    assert question.status_code == lead.status_code == 200
    assert budgets == [3000, 1500]
    assert 0 < send_timeout <= 3.0


def test_call_back_request_followed_by_a_message_is_a_lead(tenant: Tenant) -> None:
    asked = _post(tenant, {"message": "Can someone call me back?"})
    left = _post(
        tenant,
        {
            "message": "It's Ada, about a broken e-bike motor.",
            "session_id": asked.json["session_id"],
        },
    )

    leads = [n for n in outbox.read("owner-notifications") if n["kind"] == "new_lead"]
    assert asked.json["action"] == "take_message"
    assert left.json["reply"].startswith("Thanks, I've passed your message on")
    assert len(leads) == 1
    assert leads[0]["details"]["reason"] == "message"
    assert "broken e-bike motor" in leads[0]["text"]


def test_question_after_the_offer_to_take_a_message_is_answered(
    tenant: Tenant,
) -> None:
    asked = _post(tenant, {"message": "Can someone call me back?"})
    answered = _post(
        tenant,
        {"message": "What are your hours?", "session_id": asked.json["session_id"]},
    )

    assert answered.json["reply"] == HOURS_ANSWER
    assert outbox.read("owner-notifications") == []


def test_phone_number_written_in_the_message_is_a_lead(tenant: Tenant) -> None:
    _post(tenant, {"message": "Please ring me on +1 555 123 4567 about a rental"})

    leads = [n for n in outbox.read("owner-notifications") if n["kind"] == "new_lead"]
    assert len(leads) == 1
    assert leads[0]["details"]["reason"] == "contact_details"


def test_plain_question_tells_the_owner_nothing(tenant: Tenant) -> None:
    _post(tenant, {"message": "What are your hours?"})

    assert outbox.read("owner-notifications") == []


def test_answered_turn_is_logged_with_the_business_and_no_text(
    configure: Configure,
) -> None:
    _, logs = configure()
    tenant = create_tenant()

    _post(tenant, {"message": "What are your hours?"})

    line = logs.one("chat_turn_answered")
    assert line["business_id"] == "biz-bikes"
    assert line["channel"] == "chat"
    assert line["new_session"] is True
    assert "What are your hours?" not in str(logs.lines)
    assert tenant.api_key not in str(logs.lines)


def test_business_over_its_chat_limit_gets_429_with_retry_after(
    configure: Configure,
) -> None:
    configure(RATE_LIMIT_CHAT_PER_BUSINESS="1", RATE_LIMIT_WINDOW_SECONDS="60")
    tenant = create_tenant()

    allowed = _post(tenant, {"message": "What are your hours?"})
    refused = _post(tenant, {"message": "What are your hours?"})

    assert allowed.status_code == 200
    _assert_error(refused, 429, "rate_limited")
    assert refused.headers["Retry-After"] == "60"
