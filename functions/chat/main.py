"""chat: the receptionist for a business's own server and its website widget.

`POST /v1/chat` is the server-to-server JSON API (`X-API-Key`); `/v1/widget`
serves the embeddable script and the browser endpoints (publishable key plus
an allowed `Origin`). Deployed with `--entry-point=chat`.
"""

from __future__ import annotations

import functions_framework
from werkzeug.wrappers import Request, Response

from common import errors
from common.http import HttpFunction
from common.runtime import boot

boot()
app = HttpFunction("chat", default_caller="api")


@app.route("/v1/chat")
def chat_turn(request: Request) -> Response:
    raise errors.NotImplementedYet(
        "The chat API is not built yet", reason="chat pending"
    )


@app.route("/v1/widget", methods=("GET", "POST", "OPTIONS"), caller="widget")
@app.route(
    "/v1/widget/<path:rest>", methods=("GET", "POST", "OPTIONS"), caller="widget"
)
def widget(request: Request, rest: str = "") -> Response:
    raise errors.NotImplementedYet(
        "The widget is not built yet", reason="widget pending"
    )


@functions_framework.http
def chat(request: Request) -> Response:
    return app(request)
