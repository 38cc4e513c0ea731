"""What a newcomer does first: ask the demo business over the chat API."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.runtime import running_server

DEMO_API_KEY = "sk_live_demo_key_for_the_chat_test_0001"


def test_demo_key_gets_a_knowledge_base_answer_and_no_key_gets_401(
    tmp_path: Path,
) -> None:
    env = {
        "LOG_FORMAT": "json",
        "STORE": f"sqlite:///{tmp_path / 'store.db'}",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "DEMO_API_KEY": DEMO_API_KEY,
    }
    question = {"message": "Do I need an appointment for a repair?"}

    with running_server(env, tmp_path / "server.log") as base_url:
        answered = requests.post(
            f"{base_url}/v1/chat",
            json=question,
            headers={"X-API-Key": DEMO_API_KEY},
            timeout=10,
        )
        refused = requests.post(f"{base_url}/v1/chat", json=question, timeout=10)

    assert answered.status_code == 200
    assert answered.headers["Content-Type"] == "application/json"
    assert answered.json()["reply"].startswith("No. Drop your bike off any time")
    assert answered.json()["action"] == "answer"
    assert refused.status_code == 401
    error = refused.json()["error"]
    assert set(error) == {"code", "message", "request_id"}
    assert error["code"] == "missing_api_key"
