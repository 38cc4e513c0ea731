"""twilio_voice: the receptionist on the phone.

`POST /v1/voice` greets an incoming call; `POST /v1/voice/<step>` serves the
Gather, Dial and Record actions and the status callback. Deployed with
`--entry-point=twilio_voice`.
"""

from __future__ import annotations

import functions_framework
from werkzeug.wrappers import Request, Response

from common import context, errors
from common.http import HttpFunction, require_form
from common.runtime import boot
from common.settings import get_settings
from common.signatures import verify_twilio

boot(required_secrets=("TWILIO_AUTH_TOKEN",))
app = HttpFunction("twilio_voice", default_caller="twilio_voice")


@app.route("/v1/voice")
@app.route("/v1/voice/<path:step>")
def voice(request: Request, step: str = "incoming") -> Response:
    require_form(request)
    verify_twilio(request, get_settings())
    context.update(call_sid=request.form.get("CallSid"))
    raise errors.NotImplementedYet(
        "The voice receptionist is not built yet", reason=f"voice step {step} pending"
    )


@functions_framework.http
def twilio_voice(request: Request) -> Response:
    return app(request)
