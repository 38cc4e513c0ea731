"""Play traffic against a local runtime to see what callers and operators see.

    python -m tools.simulate sms "What are your hours?"
    python -m tools.simulate sms            # one text per line typed
    python -m tools.simulate call           # one utterance per line typed
    python -m tools.simulate alerts [--drill twilio|billing|latency|error-rate]

Every webhook is signed as Twilio signs it (its own `RequestValidator`, with
`TWILIO_AUTH_TOKEN` or the development default), so the runtime checks it
exactly as in production. For a call, each line typed is the caller's
`SpeechResult` for the `<Gather>` the receptionist opened; an empty line is
silence; end of input hangs up. `<Redirect>`, `<Dial>` and `<Record>` are
followed the way Twilio follows them. `sms` and `call` talk to a runtime
that is already running (`make run`).

`alerts` plays the staging alert drills (tools/drills.py): each starts its
own local runtime with one threshold lowered, sends the breaching request and
prints the alert that fired with its runbook link. It exits 1 if a drill did
not produce exactly its one alert.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, NoReturn
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

from common.phone import is_e164
from common.settings import DEV_TWILIO_AUTH_TOKEN
from tools import drills

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_TO = "+15005550006"
DEFAULT_FROM = "+15551230001"
ACCOUNT_SID = "AC" + "0" * 32
# A call that keeps redirecting without asking the caller anything is stuck.
MAX_STEPS_WITHOUT_INPUT = 10


class SimulationError(Exception):
    """The runtime could not be reached or answered something unusable."""


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line saying what is wrong, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _phone_number(raw: str) -> str:
    if not is_e164(raw):
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not an E.164 number: write it like +15551230001"
        )
    return raw


def _base_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not an http(s) URL: write it like {DEFAULT_URL}"
        )
    return raw.rstrip("/")


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class Twilio:
    """Signs and posts webhooks the way Twilio does."""

    base_url: str
    token: str
    timeout: float = 15.0
    show_twiml: bool = True
    out: IO[str] = field(default_factory=lambda: sys.stdout)

    def url(self, target: str, current: str | None = None) -> str:
        """`target` (absolute or relative to `current`) as a full URL."""
        return urljoin(current or self.base_url + "/", target)

    def post(self, url: str, params: dict[str, str]) -> ElementTree.Element:
        import requests
        from twilio.request_validator import RequestValidator

        signature = RequestValidator(self.token).compute_signature(url, params)
        try:
            response = requests.post(
                url,
                data=params,
                headers={"X-Twilio-Signature": signature},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise SimulationError(
                f"cannot reach {url}: {type(exc).__name__}; is `make run` running?"
            ) from exc

        body = response.text
        if self.show_twiml:
            self.out.write(f"  [{response.status_code}] {body}\n")
        try:
            document = ElementTree.fromstring(body)  # noqa: S314 (our own runtime)
        except ElementTree.ParseError as exc:
            raise SimulationError(
                f"{url} answered {response.status_code} with something that is "
                f"not TwiML: {body[:200]!r}"
            ) from exc
        if response.status_code >= 400:
            self.out.write(f"  (the runtime answered {response.status_code})\n")
        return document


def spoken(document: ElementTree.Element) -> list[str]:
    """Every `<Say>` and `<Message>` text, in document order."""
    return [
        (element.text or "").strip()
        for element in document.iter()
        if element.tag in ("Say", "Message") and (element.text or "").strip()
    ]


def _lines(source: IO[str], out: IO[str]) -> Iterator[str]:
    """Lines typed (after a prompt), or read from a pipe (echoed)."""
    typing = source.isatty()
    while True:
        if typing:
            out.write("you> ")
            out.flush()
        line = source.readline()
        if not line:
            return
        line = line.rstrip("\n")
        if not typing:
            out.write(f"you: {line}\n")
        yield line


# SMS ---------------------------------------------------------------------


def send_sms(twilio: Twilio, to: str, sender: str, text: str) -> list[str]:
    """Post one inbound SMS; the texts of the reply."""
    message_sid = new_sid("SM")
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "Body": text,
        "From": sender,
        "MessageSid": message_sid,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsMessageSid": message_sid,
        "SmsSid": message_sid,
        "SmsStatus": "received",
        "To": to,
    }
    reply = spoken(twilio.post(twilio.url("/twilio/sms"), params))
    for text_line in reply or ["(no reply)"]:
        twilio.out.write(f"receptionist: {text_line}\n")
    return reply


def run_sms(args: argparse.Namespace) -> int:
    twilio = _twilio(args)
    if args.text:
        send_sms(twilio, args.to, args.sender, " ".join(args.text))
        return 0
    for line in _lines(sys.stdin, twilio.out):
        if line.strip():
            send_sms(twilio, args.to, args.sender, line)
    return 0


# Calls -------------------------------------------------------------------


@dataclass
class Call:
    """One simulated call: Twilio's side of every webhook it makes."""

    twilio: Twilio
    to: str
    caller: str
    dial_status: str
    call_sid: str = field(default_factory=lambda: new_sid("CA"))
    recording_sid: str = ""
    turns: int = 0

    def params(self, status: str = "in-progress", **extra: str) -> dict[str, str]:
        return {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "CallSid": self.call_sid,
            "CallStatus": status,
            "Called": self.to,
            "Caller": self.caller,
            "Direction": "inbound",
            "From": self.caller,
            "To": self.to,
            **extra,
        }

    def post(self, url: str, params: dict[str, str]) -> ElementTree.Element:
        document = self.twilio.post(url, params)
        for text in spoken(document):
            self.twilio.out.write(f"receptionist: {text}\n")
        return document

    def run(self, utterances: Iterator[str]) -> str:
        """Hold the call until the receptionist hangs up or input ends."""
        url = self.twilio.url("/v1/voice")
        document = self.post(url, self.params(status="ringing"))
        idle = 0
        while True:
            step = self._next(document, url, utterances)
            if step is None:
                break
            url, params, asked = step
            idle = 0 if asked else idle + 1
            if idle > MAX_STEPS_WITHOUT_INPUT:
                raise SimulationError("the call keeps redirecting without a Gather")
            document = self.post(url, params)
        self._hang_up()
        return self.call_sid

    def _next(
        self, document: ElementTree.Element, url: str, utterances: Iterator[str]
    ) -> tuple[str, dict[str, str], bool] | None:
        """Where Twilio posts next, with what, and whether the caller spoke."""
        for verb in document:
            if verb.tag == "Gather":
                said = next(utterances, None)
                if said is None:
                    return None
                if said.strip():
                    self.turns += 1
                    speech = {"SpeechResult": said, "Confidence": "0.93"}
                    action = self.twilio.url(verb.attrib["action"], url)
                    return action, self.params(**speech), True
                continue  # silence: Twilio moves on to the next verb
            if verb.tag == "Dial":
                number = (verb.text or "").strip()
                self.twilio.out.write(f"  (dialing {number}: {self.dial_status})\n")
                action = self.twilio.url(verb.attrib["action"], url)
                dialed = {"DialCallStatus": self.dial_status, "DialCallDuration": "0"}
                return action, self.params(**dialed), True
            if verb.tag == "Record":
                said = next(utterances, None)
                if said is None:
                    return None
                if said.strip():
                    return self._recorded(verb, url, said), self._recording(), True
                continue
            if verb.tag == "Redirect":
                return self.twilio.url(verb.text or "", url), self.params(), False
            if verb.tag == "Hangup":
                return None
        return None

    def _recording(self) -> dict[str, str]:
        return self.params(
            RecordingSid=self.recording_sid,
            RecordingUrl=f"https://api.twilio.com/recordings/{self.recording_sid}",
            RecordingDuration="7",
        )

    def _recorded(self, verb: ElementTree.Element, url: str, said: str) -> str:
        """Send the recording callback first, as Twilio does once it is stored."""
        self.recording_sid = new_sid("RE")
        callback = verb.attrib.get("recordingStatusCallback")
        if callback:
            params = self._recording()
            params["RecordingStatus"] = "completed"
            self.twilio.post(self.twilio.url(callback, url), params)
        return self.twilio.url(verb.attrib["action"], url)

    def _hang_up(self) -> None:
        params = self.params(status="completed", CallDuration=str(10 * self.turns))
        self.twilio.post(self.twilio.url("/v1/voice/status"), params)
        self.twilio.out.write("(call ended)\n")


def run_call(args: argparse.Namespace) -> int:
    twilio = _twilio(args)
    call = Call(twilio, args.to, args.sender, args.dial_status)
    call.run(_lines(sys.stdin, twilio.out))
    return 0


# Alert drills ------------------------------------------------------------


def run_alerts(args: argparse.Namespace) -> int:
    chosen = [drills.DRILLS_BY_NAME[args.drill]] if args.drill else drills.DRILLS
    failures = 0
    for drill in chosen:
        result = drills.play(drill)
        print(drills.report(result), flush=True)
        failures += 0 if result.passed else 1
    return 1 if failures else 0


# Command line ------------------------------------------------------------

Runner = Callable[[argparse.Namespace], int]


def _twilio(args: argparse.Namespace) -> Twilio:
    token = os.environ.get("TWILIO_AUTH_TOKEN") or DEV_TWILIO_AUTH_TOKEN
    return Twilio(args.url, token, show_twiml=not args.no_twiml)


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url", type=_base_url, default=DEFAULT_URL, help=f"default {DEFAULT_URL}"
    )
    common.add_argument(
        "--to",
        type=_phone_number,
        default=DEFAULT_TO,
        help=f"the business's number (default {DEFAULT_TO}, the demo business)",
    )
    common.add_argument(
        "--from",
        dest="sender",
        type=_phone_number,
        default=DEFAULT_FROM,
        help=f"the customer's number (default {DEFAULT_FROM})",
    )
    common.add_argument(
        "--no-twiml", action="store_true", help="show only what is said, not TwiML"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The command line; each subcommand sets `run` to its runner."""
    parser = _Parser(
        prog="python -m tools.simulate", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
    common = _common_options()

    sms = commands.add_parser("sms", parents=[common], help="send text messages")
    sms.add_argument("text", nargs="*", help="the message; none reads lines typed")
    sms.set_defaults(run=run_sms)

    call = commands.add_parser("call", parents=[common], help="place a phone call")
    call.add_argument(
        "--dial-status",
        default="no-answer",
        choices=("completed", "no-answer", "busy", "failed"),
        help="how a transfer ends (default no-answer)",
    )
    call.set_defaults(run=run_call)

    alerts = commands.add_parser(
        "alerts", help="play the staging alert drills and print each alert"
    )
    alerts.add_argument(
        "--drill", choices=sorted(drills.DRILLS_BY_NAME), help="play only this one"
    )
    alerts.set_defaults(run=run_alerts)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Runner = args.run
    try:
        return run(args)
    except SimulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
