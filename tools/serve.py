"""The local runtime: every HTTP function at its public path on one port.

    python -m tools.serve [--host 127.0.0.1] [--port 8080]

It serves what production serves, one process instead of one service per
function, on the embedded defaults (SQLite store, offline assistant, local
outbox). `GET /healthz` answers when it is ready. `GET /demo/widget` is a
page with the website widget of the demo business, to try it in a browser
(the demo business allows the runtime's own origin on port 8080).

With `ENVIRONMENT=prod` it needs the secrets of every function it serves and
seeds no demo business.
"""

from __future__ import annotations

import argparse
import html
import importlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Request
from werkzeug.serving import run_simple
from werkzeug.wrappers import Response

from common import context, errors
from common.http import HttpFunction, error_response, json_response
from common.logs import get_logger
from common.runtime import boot
from common.settings import Settings, SettingsError
from common.store import StoreError, get_store
from common.store.demo import DEMO_BUSINESS_ID, DemoTenant, seed_demo

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30.0

HTTP_FUNCTIONS = ("twilio_sms", "twilio_voice", "chat", "billing_webhook")
DEMO_PAGE_PATH = "/demo/widget"

# Named, not `__name__`: run with `python -m`, this module is `__main__`.
log = get_logger("tools.serve")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def required_secrets(names: Iterable[str] = HTTP_FUNCTIONS) -> tuple[str, ...]:
    """Every secret one of these functions requires, read without booting it."""
    secrets: dict[str, None] = {}
    for name in names:
        package = importlib.import_module(f"functions.{name}")
        secrets.update(dict.fromkeys(package.REQUIRED_SECRETS))
    return tuple(secrets)


def load_functions(names: Iterable[str] = HTTP_FUNCTIONS) -> list[HttpFunction]:
    functions = []
    for name in names:
        module = importlib.import_module(f"functions.{name}.main")
        functions.append(module.app)
    return functions


def build_app(functions: list[HttpFunction]) -> WsgiApp:
    """One WSGI app dispatching each request to the function owning its path."""
    mounts = sorted(
        (
            (prefix, function)
            for function in functions
            for prefix in function.prefixes()
        ),
        key=lambda item: len(item[0]),
        reverse=True,
    )

    def application(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path.rstrip("/") or "/"
        if path == "/healthz":
            response: Response = json_response({"status": "ok"})
        elif path == DEMO_PAGE_PATH:
            response = _demo_page(request)
        else:
            response = _dispatch(request, path, mounts)
        return response(environ, start_response)

    return application


def _dispatch(
    request: Request, path: str, mounts: list[tuple[str, HttpFunction]]
) -> Response:
    for prefix, function in mounts:
        if path == prefix or path.startswith(prefix + "/"):
            return function(request)
    context.bind_request(request.headers)
    try:
        return error_response("api", errors.NotFound(f"No function serves {path}"))
    finally:
        context.clear()


def _demo_page(request: Request) -> Response:
    """A bare web page embedding the demo business's widget from this runtime."""
    business = get_store().get_business(DEMO_BUSINESS_ID)
    if business is None or not business.widget_key:
        context.bind_request(request.headers)
        try:
            missing = errors.NotFound(
                f"The store has no {DEMO_BUSINESS_ID} with a widget key: start "
                "the runtime on an empty store to seed it"
            )
            return error_response("api", missing)
        finally:
            context.clear()

    name = html.escape(business.name)
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{name}</title></head><body style='font-family:sans-serif'>"
        f"<h1>{name}</h1><p>The chat button in the corner is the widget, served "
        "by this runtime.</p>"
        f"<script src='/v1/widget.js' data-key='{html.escape(business.widget_key)}'"
        f" data-title='{name}' async></script></body></html>"
    )
    return Response(page, content_type="text/html; charset=utf-8")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_runtime(env: Mapping[str, str], log_path: Path) -> Iterator[str]:
    """`python -m tools.serve` as its own process on a free port, with exactly
    `env`, until the block ends; yields its base URL. Its output goes to
    `log_path`. Drills and tests start the runtime this way."""
    port = free_port()
    with log_path.open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.serve", "--port", str(port)],
            cwd=ROOT,
            env={**env, "PORT": str(port)},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base_url, process, log_path)
            yield base_url
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_ready(
    base_url: str, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    import requests

    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local runtime exited:\n{log_path.read_text()}")
        try:
            if requests.get(base_url + "/healthz", timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the local runtime did not start:\n{log_path.read_text()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=None, help="default: PORT or 8080")
    args = parser.parse_args(argv)
    if args.port is not None and not 1 <= args.port <= 65535:
        parser.error(f"--port {args.port} is not a TCP port: use 1 to 65535")

    try:
        settings = boot(required_secrets=required_secrets())
        # The demo business is for trying the product, never for prod data.
        demo = None if settings.is_prod else seed_demo(get_store(), settings)
        app = build_app(load_functions())
    except (SettingsError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    port = args.port or settings.port
    _announce(settings, demo, f"http://{args.host}:{port}")
    run_simple(args.host, port, app, threaded=True, use_reloader=False)
    return 0


def _announce(settings: Settings, demo: DemoTenant | None, url: str) -> None:
    """Say where the runtime listens: a banner for a person, else log events.

    A generated demo API key reaches the operator once on stderr, never the logs.
    """
    demo_page = None if settings.is_prod else url + DEMO_PAGE_PATH
    if settings.log_format == "plain":
        print(_banner(demo, url, demo_page), file=sys.stderr)
        return

    log.info(
        "runtime_started",
        f"serving every function on {url}",
        url=url,
        demo_page=demo_page or "-",
    )
    if demo is not None and demo.new_api_key:
        print(
            f"Demo API key for {demo.business_id}, shown once and kept out of "
            f"the logs: {demo.new_api_key}",
            file=sys.stderr,
        )


def _banner(demo: DemoTenant | None, url: str, demo_page: str | None) -> str:
    lines = []
    if demo is not None:
        lines += [
            f"Seeded the demo business {demo.business_id}:",
            f"  phone number  {demo.phone_number}",
            f"  widget key    {demo.widget_key}",
        ]
    if demo is not None and demo.new_api_key:
        lines.append(f"  API key       {demo.new_api_key}  (shown once; keep it)")
    lines.append(f"Serving every function on {url}")
    if demo_page is not None:
        lines.append(f"Try the widget on {demo_page}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
