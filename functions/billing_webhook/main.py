"""billing_webhook: Stripe events that decide whether a business is served.

`POST /v1/billing/webhook`, signed by Stripe. Deployed with
`--entry-point=billing_webhook`.
"""

from __future__ import annotations

import functions_framework
from werkzeug.wrappers import Request, Response

from common import errors
from common.http import HttpFunction
from common.runtime import boot
from common.settings import get_settings
from common.signatures import STRIPE_SIGNATURE_HEADER, verify_stripe

boot(required_secrets=("STRIPE_WEBHOOK_SECRET",))
app = HttpFunction("billing_webhook", default_caller="stripe")


@app.route("/v1/billing/webhook")
def webhook(request: Request) -> Response:
    payload = request.get_data(cache=True)
    verify_stripe(
        payload,
        request.headers.get(STRIPE_SIGNATURE_HEADER),
        get_settings().stripe_webhook_secrets,
        get_settings().stripe_webhook_tolerance_seconds,
    )
    raise errors.NotImplementedYet(
        "Billing events are not handled yet", reason="billing handler pending"
    )


@functions_framework.http
def billing_webhook(request: Request) -> Response:
    return app(request)
