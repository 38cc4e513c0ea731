"""`docs/openapi.yaml` checked against the chat function running as a process.

Schemathesis generates requests from the document (valid and invalid) and
checks every answer against it: status codes, content types, headers and
bodies, errors included.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case

from common.settings import load_settings
from common.store import Business, KnowledgeEntry, open_store
from tests.functions.chat.tenants import HOURS_ANSWER, SITE
from tests.runtime import ROOT, running_server

schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")
API_KEY = "sk_live_contract_test_key_0123456789"
WIDGET_KEY = "pk_live_contract_test"
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("contract")
    store_url = f"sqlite:///{folder / 'store.db'}"
    store = open_store(load_settings({"STORE": store_url, "STORE_CACHE_SECONDS": "0"}))
    store.create_business(
        Business(
            business_id="biz-contract",
            name="Bayside Bikes",
            status="active",
            knowledge=[KnowledgeEntry(answer=HOURS_ANSWER, topic="hours")],
            widget_key=WIDGET_KEY,
            allowed_origins=[SITE],
        )
    )
    store.create_api_key("biz-contract", API_KEY)
    store.close()
    env = {
        "LOG_FORMAT": "json",
        "ENVIRONMENT": "test",
        "STORE": store_url,
        "OUTBOX_DIR": str(folder / "outbox"),
        # Thousands of generated requests from one address, on purpose.
        "RATE_LIMIT_CHAT_PER_IP": "0",
        "RATE_LIMIT_CHAT_PER_BUSINESS": "0",
        "RATE_LIMIT_WIDGET_PER_IP": "0",
        "RATE_LIMIT_WIDGET_PER_BUSINESS": "0",
    }
    with running_server(env, folder / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


@schema.parametrize()
@EXAMPLES
def test_answers_match_the_contract_with_valid_credentials(
    case: Case, base_url: str, session: requests.Session
) -> None:
    if case.operation.path == "/v1/widget/messages":
        case.query = {**(case.query or {}), "key": WIDGET_KEY}
        case.headers = {**(case.headers or {}), "Origin": SITE}
    case.call_and_validate(
        base_url=base_url, session=session, headers={"X-API-Key": API_KEY}
    )


@schema.parametrize()
@EXAMPLES
def test_answers_match_the_contract_with_whatever_credentials(
    case: Case, base_url: str, session: requests.Session
) -> None:
    case.call_and_validate(base_url=base_url, session=session)
