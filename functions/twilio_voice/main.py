"""twilio_voice: the receptionist on the phone.

`POST /v1/voice` greets an incoming call; `/v1/voice/turn`,
`/v1/voice/dial-result`, `/v1/voice/recording` and `/v1/voice/status` serve
the Gather, Dial and Record actions and the status callback. Deployed with
`--entry-point=twilio_voice`.
"""

from __future__ import annotations

from collections.abc import Callable

import functions_framework
from werkzeug.wrappers import Request, Response

from common import guards, tenancy
from common.edge import public_url
from common.http import HttpFunction, require_form, twiml
from common.runtime import boot
from common.settings import get_settings
from common.signatures import verify_twilio
from common.store import Business
from common.voice import calls
from common.voice.flow import Urls
from functions.twilio_voice import REQUIRED_SECRETS

boot(required_secrets=REQUIRED_SECRETS)
app = HttpFunction("twilio_voice", default_caller="twilio_voice")
# Turns of one call; no real call comes near it.
MAX_TURN = 999


def _served(
    request: Request, answer: Callable[[calls.Webhook, Business], str]
) -> Response:
    """Verify, resolve the business, refuse or `answer`."""
    require_form(request)
    verify_twilio(request, get_settings())
    hook = calls.Webhook.parse(request.form)
    business = tenancy.business_for_twilio(request)
    if business is None:
        return twiml(calls.not_in_service())
    refused = calls.refusal(business)
    return twiml(refused if refused is not None else answer(hook, business))


def _verified(request: Request) -> calls.Webhook:
    require_form(request)
    verify_twilio(request, get_settings())
    return calls.Webhook.parse(request.form)


def _urls() -> Urls:
    return Urls(base=get_settings().public_base_url)


def _turn_number(request: Request) -> int | None:
    """The `n` our own action URLs carry, 1 to MAX_TURN; None when it is not."""
    raw = request.args.get("n", "")
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_TURN:
        return int(raw)
    return None


def _unnumbered(request: Request) -> Response:
    raw = request.args.get("n")
    return _served(
        request,
        lambda hook, business: calls.unnumbered_turn(hook, business, raw, _urls()),
    )


@app.route("/v1/voice")
def incoming(request: Request) -> Response:
    def greet(hook: calls.Webhook, business: Business) -> str:
        # Only new calls count toward the business's limit: a call already
        # answered is never cut off by it.
        guards.check_business(business.business_id, "voice", "/v1/voice")
        return calls.incoming(hook, business, _urls())

    return _served(request, greet)


@app.route("/v1/voice/turn")
def turn(request: Request) -> Response:
    return _numbered_step(request, calls.turn)


@app.route("/v1/voice/dial-result")
def dial_result(request: Request) -> Response:
    return _numbered_step(request, calls.dial_result)


def _numbered_step(
    request: Request, step: Callable[[calls.Webhook, Business, int, Urls, str], str]
) -> Response:
    """A Gather or Dial action for turn `n`: re-asked when `n` is unreadable."""
    number = _turn_number(request)
    if number is None:
        return _unnumbered(request)
    own_url = public_url(request, get_settings())
    return _served(
        request,
        lambda hook, business: step(hook, business, number, _urls(), own_url),
    )


@app.route("/v1/voice/recording")
def recording(request: Request) -> Response:
    return twiml(calls.recording(_verified(request)))


@app.route("/v1/voice/status")
def status(request: Request) -> Response:
    return twiml(calls.status(_verified(request)))


@functions_framework.http
def twilio_voice(request: Request) -> Response:
    return app(request)
