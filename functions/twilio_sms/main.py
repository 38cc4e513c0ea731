"""twilio_sms: the receptionist over SMS.

`POST /twilio/sms` answers an inbound message with TwiML; `POST
/twilio/sms/status` records delivery status callbacks. Deployed with
`--entry-point=twilio_sms`.
"""

from __future__ import annotations

import functions_framework
from werkzeug.wrappers import Request, Response

from common import context, errors, tenancy
from common.http import EMPTY_TWIML, HttpFunction, require_form, twiml
from common.runtime import boot
from common.settings import get_settings
from common.signatures import verify_twilio

boot(required_secrets=("TWILIO_AUTH_TOKEN",))
app = HttpFunction("twilio_sms", default_caller="twilio")


@app.route("/twilio/sms")
def inbound(request: Request) -> Response:
    require_form(request)
    verify_twilio(request, get_settings())
    context.update(message_sid=request.form.get("MessageSid"))
    if tenancy.business_for_twilio(request) is None:
        return twiml(EMPTY_TWIML)
    raise errors.NotImplementedYet(
        "The SMS receptionist is not built yet", reason="sms handler pending"
    )


@app.route("/twilio/sms/status")
def status(request: Request) -> Response:
    require_form(request)
    verify_twilio(request, get_settings())
    context.update(message_sid=request.form.get("MessageSid"))
    raise errors.NotImplementedYet(
        "SMS status callbacks are not built yet", reason="status handler pending"
    )


@functions_framework.http
def twilio_sms(request: Request) -> Response:
    return app(request)
