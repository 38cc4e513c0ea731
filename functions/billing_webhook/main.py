"""billing_webhook: Stripe events that decide whether a business is served.

`POST /v1/billing/webhook`, signed by Stripe. Deployed with
`--entry-point=billing_webhook`. The work is done in `common.billing`.
"""

from __future__ import annotations

import functions_framework
from werkzeug.wrappers import Request, Response

from common import billing
from common.http import HttpFunction, json_response
from common.runtime import boot
from common.settings import get_settings
from common.signatures import STRIPE_SIGNATURE_HEADER
from common.store import get_store
from functions.billing_webhook import REQUIRED_SECRETS

boot(required_secrets=REQUIRED_SECRETS)
app = HttpFunction("billing_webhook", default_caller="stripe")


@app.route("/v1/billing/webhook")
def webhook(request: Request) -> Response:
    outcome = billing.receive(
        request.get_data(cache=True),
        request.headers.get(STRIPE_SIGNATURE_HEADER),
        get_store(),
        get_settings(),
    )
    return json_response(
        {
            "received": True,
            "verdict": outcome.verdict,
            "event_id": outcome.event_id,
        }
    )


@functions_framework.http
def billing_webhook(request: Request) -> Response:
    return app(request)
