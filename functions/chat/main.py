"""chat: the receptionist for a business's own server and its website widget.

`POST /v1/chat` is the server-to-server JSON API (`X-API-Key`). `GET
/v1/widget.js` serves the embeddable script; `POST /v1/widget/messages` is
what it calls from browsers (publishable key plus an allowed `Origin`, CORS
preflight included). The contract is `docs/openapi.yaml`. Deployed with
`--entry-point=chat`.
"""

from __future__ import annotations

import functions_framework
from werkzeug.wrappers import Request, Response

from common import chat as chat_channel
from common import gating, guards, tenancy, widget
from common.chat import ChatChannel
from common.http import HttpFunction, Route, json_response, read_json
from common.runtime import boot
from common.store import Business
from functions.chat import REQUIRED_SECRETS

boot(required_secrets=REQUIRED_SECRETS)
app = HttpFunction("chat", default_caller="api")

CHAT_ROUTE = "/v1/chat"
WIDGET_MESSAGES_ROUTE = "/v1/widget/messages"


@app.route(CHAT_ROUTE)
def chat_turn(request: Request) -> Response:
    business = tenancy.business_for_api_key(request)
    return _answer_turn(request, business, "chat", CHAT_ROUTE)


# A static, cached script: it must not spend the widget's per-IP limit, or an
# office behind one address could not even load it.
@app.route(widget.SCRIPT_PATH, methods=("GET",), caller="widget", ip_limited=False)
def widget_script(request: Request) -> Response:
    return widget.script_response(request)


@app.route(WIDGET_MESSAGES_ROUTE, methods=("POST", "OPTIONS"), caller="widget")
def widget_message(request: Request) -> Response:
    business = tenancy.business_for_widget(request)
    if request.method == "OPTIONS":
        origin = request.headers.get("Origin", "").strip()
        return Response(status=204, headers=widget.preflight_headers(origin))
    return _answer_turn(request, business, "widget", WIDGET_MESSAGES_ROUTE)


@app.after_response
def widget_cors(request: Request, route: Route | None, response: Response) -> None:
    """Every answer of the widget's endpoint, refusals by a guard included.

    An allowed page can read each one (the per-IP limit's 429 with its
    `Retry-After` among them); any other origin is granted nothing.
    """
    if route is None or route.rule != WIDGET_MESSAGES_ROUTE:
        return
    widget.apply_cors(response, tenancy.widget_origin(request))


def _answer_turn(
    request: Request, business: Business, channel: ChatChannel, route: str
) -> Response:
    """Limit, gate, read and answer one visitor message of a resolved business."""
    guards.check_business(business.business_id, channel, route)
    if gating.service_decision(business) == "suspend":
        raise gating.suspended_error(business)

    chat_request = chat_channel.parse_chat_request(read_json(request), channel)
    answer = chat_channel.converse(business, channel, chat_request)
    return json_response(answer.as_json())


@functions_framework.http
def chat(request: Request) -> Response:
    return app(request)
