"""A voice turn while the model endpoint hangs: time to valid TwiML.

A loopback server accepts connections and never answers; the assistant must
give up, fall back to the embedded responder, and the caller must hear an
answer within VOICE_TURN_DEADLINE_MS. The same turn on the embedded
assistant is the baseline.
"""

from __future__ import annotations

import re
import socket
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from xml.etree import ElementTree

from bench.processes import free_port, send, start, stop
from bench.targets import FUNCTIONS, deployed, prepare_store, signed_twilio

VOICE = next(target for target in FUNCTIONS if target.name == "twilio_voice")


class HangingServer:
    """Accepts TCP connections on loopback and never writes a byte."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.socket.close()
        for connection in self.held:
            connection.close()


def _turn_seconds(port: int) -> float:
    base = f"http://127.0.0.1:{port}"
    call_sid = "CA" + uuid.uuid4().hex
    greeting = send(
        port, signed_twilio(base + "/v1/voice", "voice-inbound", CallSid=call_sid)
    )
    action = _gather_action(greeting[1])
    url = action if action.startswith("http") else base + action
    probe = signed_twilio(
        url,
        "voice-gather-speech",
        CallSid=call_sid,
        SpeechResult="Do you sell gift cards?",
    )
    started = time.perf_counter()
    status, body = send(port, probe, timeout=30)
    elapsed = time.perf_counter() - started
    if status != 200 or ElementTree.fromstring(body).tag != "Response":  # noqa: S314
        raise RuntimeError(f"voice turn answered {status}: {body[:200]!r}")
    return elapsed


def _gather_action(twiml: bytes) -> str:
    match = re.search(rb'<Gather[^>]*action="([^"]+)"', twiml)
    if not match:
        raise RuntimeError(f"no Gather action in greeting: {twiml[:300]!r}")
    return match.group(1).decode().replace("&amp;", "&")


def measure(turns: int = 5) -> dict[str, float]:
    hanging = HangingServer()
    results: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            env = prepare_store(Path(scratch))
            voice = deployed((VOICE,), Path(scratch))[0]
            model_env = {
                **env,
                "ASSISTANT_PROVIDER": "openai",
                "ASSISTANT_BASE_URL": f"http://127.0.0.1:{hanging.port}/v1",
                "ASSISTANT_API_KEY": "bench-key",
                "ASSISTANT_MODEL": "bench-model",
            }
            for label, run_env in (("hanging model", model_env), ("embedded", env)):
                port = free_port()
                process = start(voice, port, run_env)
                try:
                    _wait(port)
                    samples = [_turn_seconds(port) for _ in range(turns)]
                finally:
                    stop(process)
                results[label] = statistics.median(samples)
    finally:
        hanging.close()
    return results


def _wait(port: int) -> None:
    for _ in range(3000):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("voice function did not come up")
