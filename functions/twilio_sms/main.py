"""twilio_sms: the receptionist over SMS.

`POST /twilio/sms` answers an inbound message with TwiML; `POST
/twilio/sms/status` records delivery status callbacks. Deployed with
`--entry-point=twilio_sms`.
"""

from __future__ import annotations

import functions_framework
from werkzeug.wrappers import Request, Response

from common import guards, tenancy
from common.http import HttpFunction, require_form, twiml
from common.runtime import boot
from common.settings import get_settings
from common.signatures import verify_twilio
from common.sms import delivery, inbound
from functions.twilio_sms import REQUIRED_SECRETS

boot(required_secrets=REQUIRED_SECRETS)
app = HttpFunction("twilio_sms", default_caller="twilio")


@app.route("/twilio/sms")
def inbound_message(request: Request) -> Response:
    require_form(request)
    verify_twilio(request, get_settings())
    sms = inbound.InboundSms.parse(request.form)
    business = tenancy.business_for_twilio(request)
    if business is not None:
        guards.check_business(business.business_id, "sms", "/twilio/sms")
    return twiml(inbound.answer(sms, business))


@app.route("/twilio/sms/status")
def status(request: Request) -> Response:
    require_form(request)
    verify_twilio(request, get_settings())
    return twiml(delivery.record(request.form))


@functions_framework.http
def twilio_sms(request: Request) -> Response:
    return app(request)
