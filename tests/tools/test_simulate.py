from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.notify import OUTBOX_CHANNEL
from tests.runtime import ROOT, running_server
from tests.tools.test_serve import embedded_env
from tools.drills import DRILLS


def simulate(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.simulate", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_text_and_a_whole_call_against_a_real_local_runtime(
    tmp_path: Path,
) -> None:
    env = embedded_env(tmp_path)

    with running_server(env, tmp_path / "server.log") as base_url:
        texted = simulate("sms", "--url", base_url, "What are your hours?")
        called = simulate(
            "call",
            "--url",
            base_url,
            "--no-twiml",
            stdin="What are your hours?\nLeave a message\nAlex\nCall me back\n",
        )

    notifications = Path(env["OUTBOX_DIR"]) / f"{OUTBOX_CHANNEL}.jsonl"
    assert texted.returncode == 0, texted.stderr
    assert "<Message>" in texted.stdout
    assert "receptionist: Monday to Friday 9am to 6pm" in texted.stdout
    assert called.returncode == 0, called.stderr
    assert "receptionist: Hi, this is Bayside Bikes" in called.stdout
    assert "Goodbye" in called.stdout
    assert "<Response>" not in called.stdout
    assert called.stdout.rstrip().endswith("(call ended)")
    [taken] = [json.loads(line) for line in notifications.read_text().splitlines()]
    assert taken["kind"] == "message_taken"
    assert "Call me back" in taken["text"]


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["sms", "--to", "5550006", "hi"], "not an E.164 number"),
        (["call", "--url", "localhost:8080"], "not an http(s) URL"),
        (["fax"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_status_2(
    args: list[str], complaint: str
) -> None:
    result = simulate(*args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert complaint in result.stderr


def test_an_unreachable_runtime_is_one_line_and_exit_status_1() -> None:
    result = simulate("sms", "--url", "http://127.0.0.1:9", "hello")

    assert result.returncode == 1
    assert "is `make run` running?" in result.stderr


def _drills(*args: str, environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.simulate", "alerts", *args],
        cwd=ROOT,
        env={**os.environ, "ENVIRONMENT": environment},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_alert_drills_each_print_their_one_alert_with_its_runbook() -> None:
    finished = _drills(environment="staging")

    assert finished.returncode == 0, finished.stdout + finished.stderr
    for drill in DRILLS:
        assert f"[ok] {drill.name}:" in finished.stdout
        assert f"{drill.severity} {drill.alert}:" in finished.stdout
    assert "runbook: wiki/Runbooks#twilio-webhook-failure" in finished.stdout
    assert "runbook: wiki/Runbooks#latency-slo-breach" in finished.stdout


def test_alert_drills_refuse_to_run_in_prod() -> None:
    finished = _drills("--drill", "twilio", environment="prod")

    assert finished.returncode != 0
    assert "ENVIRONMENT=prod" in finished.stderr
