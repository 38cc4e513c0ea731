from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from werkzeug.test import Client

from common.settings import Settings
from common.store import Business, Store, get_store
from common.store.demo import seed_demo
from tests.builders import stripe_fixture, stripe_headers
from tests.conftest import LogCapture
from tests.faults import fail_first_call
from tests.runtime import local_client
from tools.replay import main

PATH = "/v1/billing/webhook"
DEMO = "biz-demo"
EVENT = "evt_1Q1w2E3r4T5y6U7iEe"


class Inbox:
    """The local runtime with the demo business and a failed Stripe delivery."""

    def __init__(self, settings: Settings, logs: LogCapture) -> None:
        self.logs = logs
        self.store: Store = get_store()
        seed_demo(self.store, settings)
        self.client: Client = local_client()

    def post(self, fixture: str, request_id: str, **headers: str) -> int:
        payload = stripe_fixture(fixture)
        sent = {**stripe_headers(payload), "X-Request-ID": request_id, **headers}
        return self.client.post(PATH, data=payload, headers=sent).status_code

    def post_failing(self, fixture: str, request_id: str) -> int:
        """Deliver while the store's first business update fails."""
        with pytest.MonkeyPatch.context() as patch:
            fail_first_call(
                patch, self.store, "update_business", OSError("database is locked")
            )
            return self.post(fixture, request_id)

    def status(self) -> str:
        business = self.store.get_business(DEMO)
        assert business is not None
        return business.status


@pytest.fixture
def inbox(configure: Callable[..., tuple[Settings, LogCapture]]) -> Inbox:
    return Inbox(*configure())


def test_failed_delivery_replays_by_request_id(
    inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert inbox.post_failing("customer-subscription-deleted", "req-failed") == 500
    assert inbox.status() == "active"

    code = main(["req-failed"])

    output = capsys.readouterr().out
    assert code == 0
    assert output.startswith(f"accepted: {EVENT} (customer.subscription.deleted)")
    assert "status active -> suspended" in output
    assert inbox.status() == "suspended"


def test_failed_delivery_replays_by_event_id_with_json_report(
    inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox.post_failing("customer-subscription-deleted", "req-failed")

    code = main([EVENT, "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["verdict"] == "accepted"
    assert report["business_id"] == DEMO
    assert report["changes"] == {"status": ["active", "suspended"]}
    assert report["request_id"].startswith("replay-")
    recorded = inbox.store.find_delivery(report["request_id"])
    assert recorded is not None
    assert recorded.detail is not None
    assert recorded.detail.startswith("replay of req-failed")


def test_replay_after_stripe_already_retried_changes_nothing(
    inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox.post_failing("customer-subscription-deleted", "req-failed")
    assert inbox.post("customer-subscription-deleted", "req-retried") == 200
    inbox.store.update_business(DEMO, status="active")

    code = main(["req-failed"])

    assert code == 0
    assert capsys.readouterr().out.startswith("duplicate:")
    assert inbox.status() == "active"


def test_dry_run_changes_nothing(
    inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox.post_failing("customer-subscription-deleted", "req-failed")

    code = main(["req-failed", "--dry-run"])

    assert code == 0
    assert capsys.readouterr().out.startswith(f"would replay {EVENT}")
    assert inbox.status() == "active"


def test_unknown_reference_is_a_one_line_error(
    inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["req-nobody-sent"])

    error = capsys.readouterr().err
    assert code == 2
    assert error.count("\n") == 1
    assert error.startswith("error: no Stripe delivery has request id or event id")


def test_rejected_delivery_is_never_replayed(
    inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = stripe_fixture("customer-subscription-deleted")
    forged = stripe_headers(payload, secret="whsec_attacker")
    sent = {**forged, "X-Request-ID": "req-forged"}
    assert inbox.client.post(PATH, data=payload, headers=sent).status_code == 400

    code = main(["req-forged"])

    assert code == 2
    assert "never verified" in capsys.readouterr().err
    assert inbox.status() == "active"


def test_replay_that_fails_again_exits_1(
    inbox: Inbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox.post_failing("customer-subscription-deleted", "req-failed")

    def broken(business_id: str, **changes: Any) -> Business:
        raise OSError("disk full")

    monkeypatch.setattr(inbox.store, "update_business", broken)
    code = main(["req-failed"])

    output = capsys.readouterr().out
    assert code == 1
    assert output.startswith(f"failed: {EVENT}")
    assert "disk full" in output


def test_list_shows_recent_and_failed_deliveries(
    inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox.post("checkout-session-completed", "req-link")
    inbox.post_failing("customer-subscription-deleted", "req-failed")

    assert main(["--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert main(["--list", "--failed", "--json"]) == 0
    failed = json.loads(capsys.readouterr().out)

    assert len(listed) == 2
    assert "req-failed" in listed[0]
    assert "req-link" in listed[1]
    assert [row["request_id"] for row in failed] == ["req-failed"]
    assert failed[0]["replayable"] is True


def test_a_shared_request_id_replays_its_only_failed_delivery_and_says_so(
    inbox: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert inbox.post("checkout-session-completed", "req-shared") == 200
    assert inbox.post_failing("customer-subscription-deleted", "req-shared") == 500

    code = main(["req-shared"])

    output = capsys.readouterr()
    assert code == 0
    assert "replaying the only failed one, event " + EVENT in output.err
    assert output.out.startswith(f"accepted: {EVENT}")
    assert inbox.status() == "suspended"


@pytest.mark.parametrize("failing", [False, True], ids=["none-failed", "both-failed"])
def test_a_shared_request_id_without_one_failed_delivery_lists_them(
    inbox: Inbox, capsys: pytest.CaptureFixture[str], failing: bool
) -> None:
    inbox.post("checkout-session-completed", "req-link")
    deliver = inbox.post_failing if failing else inbox.post
    deliver("invoice-payment-failed", "req-shared")
    deliver("customer-subscription-deleted", "req-shared")
    recorded = len(inbox.store.list_deliveries())

    code = main(["req-shared"])

    error = capsys.readouterr().err
    verdict = "failed" if failing else "accepted"
    assert code == 2
    assert "give the event id" in error
    listed = error.splitlines()[1:]
    assert [line.split()[:3] for line in listed] == [
        [EVENT, "customer.subscription.deleted", verdict],
        ["evt_1Q1w2E3r4T5y6U7iFf", "invoice.payment_failed", verdict],
    ]
    assert all(" received 20" in line for line in listed)
    assert len(inbox.store.list_deliveries()) == recorded
