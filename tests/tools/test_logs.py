"""`python -m tools.logs` against a faked Cloud Logging API."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import responses
from google.auth.credentials import AnonymousCredentials
from google.cloud import logging as cloud_logging

from tools import logs

ENTRIES_LIST = "https://logging.googleapis.com/v2/entries:list"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _client() -> Any:
    return cloud_logging.Client(
        project="test-project", credentials=AnonymousCredentials(), _use_grpc=False
    )


def _entry(event: str, severity: str, **fields: Any) -> dict[str, Any]:
    payload = {
        "severity": severity,
        "message": f"{event} happened",
        "event": event,
        "service": "ai-telephony-backend",
        "environment": "prod",
        "request_id": "req-42",
        "business_id": "biz-123",
        "call_sid": "-",
        "message_sid": "SM0001",
        "logger": "common.http",
        **fields,
    }
    return {
        "logName": "projects/test-project/logs/run.googleapis.com%2Fstdout",
        "resource": {"type": "cloud_run_revision", "labels": {}},
        "timestamp": "2025-03-01T11:59:58.123456Z",
        "severity": severity,
        "insertId": f"id-{event}",
        "jsonPayload": payload,
    }


def _run(*argv: str) -> str:
    out = io.StringIO()
    status = logs.main(list(argv), client=_client(), now=NOW, out=out)
    assert status == 0
    return out.getvalue()


@responses.activate
def test_entries_for_a_request_print_in_the_plain_format_oldest_first() -> None:
    responses.post(
        ENTRIES_LIST,
        json={
            "entries": [
                _entry("sms_received", "INFO", segments=1),
                _entry("request_completed", "WARNING", status=403, route="/twilio/sms"),
            ]
        },
    )

    printed = _run("--project", "test-project", "--request-id", "req-42")

    lines = printed.splitlines()
    assert lines[0] == (
        "2025-03-01T11:59:58.123Z INFO sms_received service=ai-telephony-backend "
        "environment=prod request_id=req-42 business_id=biz-123 call_sid=- "
        "message_sid=SM0001 segments=1 | sms_received happened"
    )
    assert "WARNING request_completed" in lines[1]
    assert "status=403 route=/twilio/sms" in lines[1]
    assert lines[2] == "# 2 entries"


@responses.activate
def test_the_api_is_asked_for_exactly_the_operators_filter() -> None:
    responses.post(ENTRIES_LIST, json={"entries": []})

    _run(
        "--project",
        "test-project",
        "--business-id",
        "biz-123",
        "--call-sid",
        "CA9",
        "--event",
        "rate_limit_triggered",
        "--severity",
        "warning",
        "--since",
        "6h",
        "--limit",
        "50",
    )

    body = json.loads(responses.calls[0].request.body or "{}")
    assert body["resourceNames"] == ["projects/test-project"]
    assert body["orderBy"] == "timestamp asc"
    assert body["filter"].splitlines() == [
        'resource.type="cloud_run_revision"',
        'jsonPayload.service="ai-telephony-backend"',
        'jsonPayload.business_id="biz-123"',
        'jsonPayload.call_sid="CA9"',
        'jsonPayload.event="rate_limit_triggered"',
        "severity>=WARNING",
        'timestamp>="2025-03-01T06:00:00Z"',
    ]


@responses.activate
def test_after_the_entries_the_same_search_is_printed_for_each_store() -> None:
    responses.post(ENTRIES_LIST, json={"entries": []})

    printed = _run(
        "--project", "test-project", "--message-sid", "SM0001", "--environment", "prod"
    )

    assert "# Cloud Logging (Logs Explorer)" in printed
    assert "console.cloud.google.com/logs/query;query=" in printed
    assert (
        '{service="ai-telephony-backend", environment="prod"} | json '
        '| message_sid="SM0001"'
    ) in printed
    assert "service:ai-telephony-backend env:prod @message_sid:SM0001" in printed


def test_print_query_never_calls_the_api() -> None:
    out = io.StringIO()

    with responses.RequestsMock() as mocked:
        status = logs.main(
            ["--print-query", "--request-id", "req-42", "--severity", "ERROR"],
            client=_client(),
            now=NOW,
            out=out,
        )
        assert len(mocked.calls) == 0

    assert status == 0
    assert 'jsonPayload.request_id="req-42"' in out.getvalue()
    assert 'severity=~"ERROR|CRITICAL|ALERT|EMERGENCY"' in out.getvalue()
    assert "status:(error OR critical OR alert OR emergency)" in out.getvalue()


def test_time_range_accepts_durations_and_iso_times() -> None:
    assert logs.parse_time("30m", NOW) == datetime(2025, 3, 1, 11, 30, tzinfo=UTC)
    assert logs.parse_time("2d", NOW) == datetime(2025, 2, 27, 12, 0, tzinfo=UTC)
    assert logs.parse_time("2025-02-01T08:00:00Z", NOW) == datetime(
        2025, 2, 1, 8, 0, tzinfo=UTC
    )


def test_a_bad_time_stops_with_a_message_naming_the_fix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        logs.main(["--print-query", "--since", "yesterday"], now=NOW)

    assert stopped.value.code == 2
    assert "use a duration such as 30m" in capsys.readouterr().err


def test_searching_without_a_project_names_the_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)

    with pytest.raises(SystemExit):
        logs.main(["--request-id", "req-42"], now=NOW)

    assert "--project is required" in capsys.readouterr().err
