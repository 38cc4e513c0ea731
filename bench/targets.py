"""What each benchmark starts and sends: the five functions, the baselines,
a seeded embedded store, and requests signed the way the providers sign."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

from bench.processes import ROOT, Probe, Target, free_port, send, stop

DEMO_API_KEY = "sk_test_benchmark_demo_key_0000000000"
DEMO_NUMBER = "+15005550006"
TWILIO_TOKEN = "dev-twilio-auth-token"
STRIPE_SECRET = "whsec_dev_secret"

BASELINE_HELLO = Target("baseline hello-world", "bench/baseline/hello.py", "hello")
BASELINE_TWIML = Target("baseline TwiML view", "bench/baseline/twiml.py", "twiml")

FUNCTIONS = (
    Target("twilio_sms", "functions/twilio_sms/main.py", "twilio_sms"),
    Target("twilio_voice", "functions/twilio_voice/main.py", "twilio_voice"),
    Target("chat", "functions/chat/main.py", "chat"),
    Target("billing_webhook", "functions/billing_webhook/main.py", "billing_webhook"),
    Target(
        "alert_router", "functions/alert_router/main.py", "alert_router", "cloudevent"
    ),
)


def deployed(targets: tuple[Target, ...], workdir: Path) -> tuple[Target, ...]:
    """The functions as they deploy: each built by `make package`'s code and
    unpacked into its own folder, importing nothing from the repository."""
    import zipfile

    from tools.package import build

    archives = build([target.target for target in targets], workdir / "build")
    unpacked = []
    for target, archive in zip(targets, archives, strict=True):
        folder = workdir / "deployed" / target.target
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(folder)
        unpacked.append(
            replace(
                target,
                source=str(folder / "main.py"),
                cwd=folder,
                env={**target.env, "PYTHONPATH": str(folder)},
            )
        )
    return tuple(unpacked)


def prepare_store(workdir: Path) -> dict[str, str]:
    """A SQLite store seeded with the demo business, and the env that uses it.

    The local runtime seeds an empty store on start, so it is started once
    against the scratch store and stopped when healthy.
    """
    env = {
        "ENVIRONMENT": "dev",
        "LOG_FORMAT": "json",
        "STORE": f"sqlite:///{workdir / 'store.db'}",
        "OUTBOX_DIR": str(workdir / "outbox"),
        "DEMO_API_KEY": DEMO_API_KEY,
        "DEMO_PHONE_NUMBER": DEMO_NUMBER,
        # Measure the whole job on every request, not the rate limiter.
        "RATE_LIMIT_SMS_PER_BUSINESS": "0",
        "RATE_LIMIT_VOICE_PER_BUSINESS": "0",
        "RATE_LIMIT_CHAT_PER_BUSINESS": "0",
    }
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            try:
                if send(port, Probe(path="/healthz"), timeout=2)[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the local runtime did not start to seed the store")
    finally:
        stop(process)
    return env


def _twilio_form(name: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    raw = (ROOT / "tests" / "fixtures" / "twilio" / f"{name}.form").read_text().strip()
    return parse_qsl(raw, keep_blank_values=True)


def _twilio_signature(url: str, params: list[tuple[str, str]]) -> str:
    from twilio.request_validator import RequestValidator
    from werkzeug.datastructures import MultiDict

    return str(RequestValidator(TWILIO_TOKEN).compute_signature(url, MultiDict(params)))


def signed_twilio(url: str, fixture: str, **fields: str) -> Probe:
    params = [(k, v) for k, v in _twilio_form(fixture) if k not in fields]
    params += list(fields.items())
    path = "/" + url.split("/", 3)[3]
    return Probe(
        method="POST",
        path=path,
        body=urlencode(params).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": _twilio_signature(url, params),
        },
    )


def signed_sms(url: str, count: int, salt: int) -> list[str]:
    """`signature<TAB>body` lines of distinct inbound SMS asking the hours."""
    lines = []
    base = _twilio_form("sms-inbound")
    for number in range(count):
        sid = f"SM{salt:04d}{number:028d}"
        fields = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "Body": "What are your hours?",
            "From": f"+1555{number % 10_000_000:07d}",
        }
        params = [(k, v) for k, v in base if k not in fields] + list(fields.items())
        lines.append(_twilio_signature(url, params) + "\t" + urlencode(params))
    return lines


def signed_stripe(name: str) -> Probe:
    import stripe

    payload = (ROOT / "tests" / "fixtures" / "stripe" / f"{name}.json").read_bytes()
    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), STRIPE_SECRET
    )
    return Probe(
        method="POST",
        path="/v1/billing/webhook",
        body=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
    )


def alert_cloud_event(index: int = 0) -> Probe:
    """A Pub/Sub messagePublished CloudEvent carrying a Monitoring incident."""
    incident = json.loads(
        (ROOT / "tests" / "fixtures" / "monitoring" / "incident-open.json").read_text()
    )
    incident["incident"]["incident_id"] = f"bench-{index}-{time.time_ns()}"
    data = {
        "message": {
            "data": base64.b64encode(json.dumps(incident).encode()).decode(),
            "attributes": {},
            "messageId": f"bench-{index}-{time.time_ns()}",
            "publishTime": "2026-12-03T12:00:00Z",
        },
        "subscription": "projects/bench/subscriptions/alerts",
    }
    return Probe(
        method="POST",
        path="/",
        body=json.dumps(data).encode(),
        headers={
            "Content-Type": "application/json",
            "ce-id": f"bench-{index}",
            "ce-specversion": "1.0",
            "ce-source": "//pubsub.googleapis.com/projects/bench/topics/alerts",
            "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        },
    )


def first_request(target: Target, port: int) -> Probe:
    """The request that proves a cold instance serves its real work."""
    base = f"http://127.0.0.1:{port}"
    if target.name == "twilio_sms":
        return signed_twilio(
            base + "/twilio/sms", "sms-inbound", Body="What are your hours?"
        )
    if target.name == "twilio_voice":
        return signed_twilio(base + "/v1/voice", "voice-inbound")
    if target.name == "chat":
        return Probe(
            method="POST",
            path="/v1/chat",
            body=json.dumps({"message": "What are your hours?"}).encode(),
            headers={"Content-Type": "application/json", "X-API-Key": DEMO_API_KEY},
        )
    if target.name == "billing_webhook":
        return signed_stripe("invoice-paid")
    if target.name == "alert_router":
        return alert_cloud_event()
    if target is BASELINE_TWIML:
        return Probe(method="POST", path="/twilio/sms")
    return Probe()
