from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests

from common.settings import SECRET_NAMES
from tests.builders import TwilioRequest
from tests.runtime import running_server
from tools.serve import ROOT, free_port


def embedded_env(tmp_path: Path) -> dict[str, str]:
    return {
        "LOG_FORMAT": "json",
        "STORE": f"sqlite:///{tmp_path / 'store.db'}",
        "OUTBOX_DIR": str(tmp_path / "outbox"),
    }


def test_local_runtime_serves_signed_twilio_webhooks_as_a_real_process(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "server.log"
    env = embedded_env(tmp_path)

    with running_server(env, log_path) as base_url:
        twilio = TwilioRequest.from_fixture("/twilio/sms", "sms-inbound")
        twilio.base_url = base_url
        unsigned = requests.post(twilio.url, **twilio.kwargs(), timeout=10)
        signed = requests.post(twilio.url, **twilio.signed().kwargs(), timeout=10)

    lines = [
        json.loads(line)
        for line in log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    completed = [line for line in lines if line["event"] == "request_completed"]
    assert unsigned.status_code == 403
    assert signed.status_code != 403
    assert signed.headers["Content-Type"].startswith("text/xml")
    assert len(completed) == 2  # /healthz is answered by the runtime, not logged
    assert completed[-1]["message_sid"] == twilio.field("MessageSid")
    assert any(line["event"] == "twilio_signature_rejected" for line in lines)


def test_make_run_seeds_the_demo_business_and_an_sms_to_it_carries_its_id(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "server.log"
    env = {**embedded_env(tmp_path), "LOG_FORMAT": "plain"}

    with running_server(env, log_path) as base_url:
        sms = TwilioRequest.from_fixture("/twilio/sms", "sms-inbound")
        sms.base_url = base_url
        requests.post(sms.url, **sms.signed().kwargs(), timeout=10)

    output = log_path.read_text()
    completed = [line for line in output.splitlines() if "request_completed" in line]
    assert "Seeded the demo business biz-demo" in output
    assert "API key       sk_live_" in output
    assert f"Try the widget on {base_url}/demo/widget" in output
    assert "business_id=biz-demo" in completed[-1]


def test_json_logs_carry_the_start_as_events_and_the_key_in_one_marked_line(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "server.log"

    with running_server(embedded_env(tmp_path), log_path) as base_url:
        pass

    output = log_path.read_text().splitlines()
    lines = [json.loads(line) for line in output if line.startswith("{")]
    others = [line for line in output if not line.startswith("{")]
    started = [line for line in lines if line["event"] == "runtime_started"]
    assert started[0]["url"] == base_url
    assert started[0]["demo_page"] == f"{base_url}/demo/widget"
    assert any(line["event"] == "demo_seeded" for line in lines)
    assert len(others) == 1
    assert others[0].startswith("Demo API key for biz-demo, shown once")
    assert "sk_live_" in others[0]
    assert not any("sk_live_" in json.dumps(line) for line in lines)


def test_demo_page_embeds_the_demo_widget_served_by_the_runtime(
    tmp_path: Path,
) -> None:
    with running_server(embedded_env(tmp_path), tmp_path / "server.log") as base_url:
        page = requests.get(f"{base_url}/demo/widget", timeout=10)
        script = requests.get(f"{base_url}/v1/widget.js", timeout=10)

    output = (tmp_path / "server.log").read_text().splitlines()
    seeded = [json.loads(line) for line in output if '"demo_seeded"' in line]
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "src='/v1/widget.js'" in page.text
    assert f"data-key='{seeded[0]['widget_key']}'" in page.text
    assert "sk_live_" not in page.text
    assert script.status_code == 200


def serve_until_it_exits(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `python -m tools.serve` that is expected to refuse to start."""
    return subprocess.run(
        [sys.executable, "-m", "tools.serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def prod_env(tmp_path: Path, **secrets: str) -> dict[str, str]:
    env = {
        name: value for name, value in os.environ.items() if name not in SECRET_NAMES
    }
    return {**env, **embedded_env(tmp_path), "ENVIRONMENT": "prod", **secrets}


def test_prod_without_secrets_stops_at_start_naming_the_first_missing_one(
    tmp_path: Path,
) -> None:
    env = prod_env(tmp_path, PORT=str(free_port()))

    finished = serve_until_it_exits(env)

    assert finished.returncode != 0
    assert finished.stderr.startswith(
        "error: TWILIO_AUTH_TOKEN is required when ENVIRONMENT=prod; "
    )
    assert "STRIPE_WEBHOOK_SECRET" in finished.stderr
    assert "sk_live_" not in finished.stderr + finished.stdout


def test_prod_runtime_with_its_secrets_seeds_no_demo_and_shows_no_key(
    tmp_path: Path,
) -> None:
    env = prod_env(
        tmp_path, TWILIO_AUTH_TOKEN="live-token", STRIPE_WEBHOOK_SECRET="whsec_live"
    )

    with running_server(env, tmp_path / "server.log") as base_url:
        page = requests.get(f"{base_url}/demo/widget", timeout=10)

    output = (tmp_path / "server.log").read_text()
    assert page.status_code == 404
    assert "Seeded the demo business" not in output
    assert "sk_live_" not in output
    assert '"demo_seeded"' not in output


def test_a_port_out_of_range_stops_the_runtime_naming_port(tmp_path: Path) -> None:
    env = {**os.environ, **embedded_env(tmp_path), "PORT": "99999"}

    finished = serve_until_it_exits(env)

    assert finished.returncode != 0
    assert finished.stderr.startswith("error: PORT='99999' is not valid")
