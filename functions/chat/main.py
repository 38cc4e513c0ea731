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
from common import errors, gating, guards, tenancy, widget
from common.http import HttpFunction, json_response, read_json
from common.runtime import boot

boot()
app = HttpFunction("chat", default_caller="api")

CHAT_ROUTE = "/v1/chat"
WIDGET_MESSAGES_ROUTE = "/v1/widget/messages"


@app.route(CHAT_ROUTE)
def chat_turn(request: Request) -> Response:
    business = tenancy.business_for_api_key(request)
    guards.check_business(business.business_id, "chat", CHAT_ROUTE)
    if gating.service_decision(business) == "suspend":
        raise gating.suspended_error(business)

    chat_request = chat_channel.parse_chat_request(read_json(request), "chat")
    answer = chat_channel.converse(business, "chat", chat_request)
    return json_response(answer.as_json())


@app.route(widget.SCRIPT_PATH, methods=("GET",), caller="widget")
def widget_script(request: Request) -> Response:
    return widget.script_response(request)


@app.route(WIDGET_MESSAGES_ROUTE, methods=("POST", "OPTIONS"), caller="widget")
def widget_message(request: Request) -> Response:
    origin = request.headers.get("Origin", "").strip()
    try:
        if request.method == "OPTIONS":
            tenancy.business_for_widget(request, request.args.get("key"))
            return Response(status=204, headers=widget.preflight_headers(origin))
        key = _widget_key(request)
        business = tenancy.business_for_widget(request, key)
    except errors.HttpError as error:
        error.headers["Vary"] = "Origin"
        raise

    # From here the origin is allowed: errors too must be readable by the page.
    try:
        guards.check_business(business.business_id, "widget", WIDGET_MESSAGES_ROUTE)
        if gating.service_decision(business) == "suspend":
            raise gating.suspended_error(business)
        chat_request = chat_channel.parse_chat_request(read_json(request), "widget")
        answer = chat_channel.converse(business, "widget", chat_request)
    except errors.HttpError as error:
        error.headers.update(widget.cors_headers(origin))
        raise
    return json_response(answer.as_json(), headers=widget.cors_headers(origin))


def _widget_key(request: Request) -> str | None:
    """The publishable key: header, then `?key=`, then the body's `key` field."""
    key = request.headers.get(tenancy.WIDGET_KEY_HEADER) or request.args.get("key")
    if key:
        return key
    body_key = read_json(request).get("key")
    return body_key if isinstance(body_key, str) else None


@functions_framework.http
def chat(request: Request) -> Response:
    return app(request)
