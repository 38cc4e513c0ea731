"""chat: the receptionist for a business's own server and its website widget.

`POST /v1/chat` is the server-to-server JSON API (`X-API-Key`). `GET
/v1/widget.js` serves the embeddable script; `POST /v1/widget/messages` is
what it calls from browsers (publishable key plus an allowed `Origin`). The
contract is `docs/openapi.yaml`. Deployed with `--entry-point=chat`.
"""

from __future__ import annotations

import functions_framework
from werkzeug.wrappers import Request, Response

from common import errors, widget
from common.http import HttpFunction
from common.runtime import boot

boot()
app = HttpFunction("chat", default_caller="api")


@app.route("/v1/chat")
def chat_turn(request: Request) -> Response:
    raise errors.NotImplementedYet(
        "The chat API is not built yet", reason="chat pending"
    )


@app.route(widget.SCRIPT_PATH, methods=("GET",), caller="widget")
def widget_script(request: Request) -> Response:
    return widget.script_response(request)


@app.route("/v1/widget/messages", methods=("POST", "OPTIONS"), caller="widget")
def widget_message(request: Request) -> Response:
    raise errors.NotImplementedYet(
        "The widget endpoints are not built yet", reason="widget pending"
    )


@functions_framework.http
def chat(request: Request) -> Response:
    return app(request)
