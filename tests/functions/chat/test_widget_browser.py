"""The website widget in a real headless Chromium, against the local runtime.

A small page server on its own loopback port embeds the widget from the
local runtime (a real process), as a business's website would. A second page
server, on a port the business has not allowed, stands for someone else's
site. Screenshots land in `test-artifacts/` for people to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from common.settings import load_settings
from common.store import Business, KnowledgeEntry, open_store
from tests.runtime import ROOT, running_server

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
WIDGET_KEY = "pk_live_browsertestkey0001"
HOURS_ANSWER = "We are open Tuesday to Saturday, 10am to 6pm."
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHADOW = "document.querySelector('[data-atb-widget]').shadowRoot"


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if Path(path).exists():
        return path
    reason = "Chromium is not installed: apt-get install chromium"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser test)")
    pytest.skip(reason)


class _Html:
    """The business's page; the runtime's URL is filled in once it runs."""

    def __init__(self) -> None:
        self.runtime_url = ""

    def __str__(self) -> str:
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>Bayside Bikes</title></head><body style='font-family:sans-serif'>"
            "<h1>Bayside Bikes</h1><p>Repairs and rentals by the harbour.</p>"
            f"<script src='{self.runtime_url}/v1/widget.js' data-key='{WIDGET_KEY}'"
            " data-title='Bayside Bikes' async></script></body></html>"
        )


@contextmanager
def _site(html: _Html) -> Iterator[str]:
    """Serve the page at / on a free loopback port; yield the site's origin."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = str(html).encode()
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _seed(store_url: str, allowed_origin: str) -> None:
    store = open_store(load_settings({"STORE": store_url, "STORE_CACHE_SECONDS": "0"}))
    store.create_business(
        Business(
            business_id="biz-browser",
            name="Bayside Bikes",
            status="active",
            widget_key=WIDGET_KEY,
            allowed_origins=[allowed_origin],
            knowledge=[KnowledgeEntry(answer=HOURS_ANSWER, topic="hours")],
            owner_contacts=["+15555550101"],
        )
    )
    store.close()


def _completed(log_path: Path) -> list[dict[str, Any]]:
    lines = [
        json.loads(line)
        for line in log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    return [line for line in lines if line.get("event") == "request_completed"]


def test_widget_answers_from_the_knowledge_base_and_refuses_other_sites(
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = _chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    html = _Html()
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    env = {
        "LOG_FORMAT": "json",
        "ENVIRONMENT": "test",
        "STORE": store_url,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    log_path = tmp_path / "server.log"

    with (
        _site(html) as allowed_origin,
        _site(html) as other_origin,
    ):
        _seed(store_url, allowed_origin)
        with running_server(env, log_path) as runtime_url, sync_playwright() as pw:
            html.runtime_url = runtime_url
            browser = pw.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"),
                executable_path=chromium,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1280, "height": 800},
            )
            page = browser.new_page()

            # A visitor opens the chat with the keyboard-reachable button.
            page.goto(allowed_origin + "/")
            launcher = page.get_by_role("button", name="Open chat: Bayside Bikes")
            expect(launcher).to_have_attribute("aria-expanded", "false")
            launcher.click()
            expect(page.get_by_role("dialog")).to_be_visible()
            assert page.evaluate(f"{SHADOW}.activeElement.id") == "message"

            # They ask for the opening hours; the answer lands in the live log.
            page.get_by_label("Your message").fill("What are your hours?")
            page.keyboard.press("Enter")
            log = page.get_by_role("log")
            expect(log).to_contain_text(HOURS_ANSWER)
            assert log.get_attribute("aria-live") == "polite"
            page.screenshot(path=str(ARTIFACTS / "widget.png"))
            stored = page.evaluate(f"localStorage.getItem('atb-widget:{WIDGET_KEY}')")
            session_id = json.loads(stored)["session_id"]

            # Escape closes the panel and gives focus back to the launcher.
            page.keyboard.press("Escape")
            expect(page.get_by_role("dialog")).to_be_hidden()
            expect(launcher).to_have_attribute("aria-expanded", "false")
            assert "launcher" in page.evaluate(f"{SHADOW}.activeElement.className")

            # After a reload the conversation is still there and goes on.
            page.reload()
            page.get_by_role("button", name="Open chat: Bayside Bikes").click()
            expect(page.get_by_role("log")).to_contain_text(HOURS_ANSWER)
            page.get_by_label("Your message").fill("Thanks!")
            page.keyboard.press("Enter")
            expect(page.locator("[data-atb-widget] .msg.assistant")).to_have_count(2)
            stored = page.evaluate(f"localStorage.getItem('atb-widget:{WIDGET_KEY}')")
            assert json.loads(stored)["session_id"] == session_id

            # On a phone-sized screen the panel takes the whole width.
            page.set_viewport_size({"width": 375, "height": 740})
            panel = page.get_by_role("dialog").bounding_box()
            assert panel is not None
            assert panel["width"] == 375
            page.screenshot(path=str(ARTIFACTS / "widget-mobile.png"))

            # Another site using the same key is refused.
            other = browser.new_page()
            other.goto(other_origin + "/")
            other.get_by_role("button", name="Open chat: Bayside Bikes").click()
            other.get_by_label("Your message").fill("What are your hours?")
            other.keyboard.press("Enter")
            expect(other.get_by_role("alert")).to_contain_text("could not be reached")
            assert other.get_by_role("log").inner_text().count(HOURS_ANSWER) == 0
            other.screenshot(path=str(ARTIFACTS / "widget-refused.png"))
            browser.close()

    completed = _completed(log_path)
    refused = [
        line
        for line in completed
        if line["path"] == "/v1/widget/messages" and line["status"] == 403
    ]
    answered = [
        line
        for line in completed
        if line["path"] == "/v1/widget/messages"
        and line["method"] == "POST"
        and line["status"] == 200
    ]
    assert refused
    assert all(line["error_code"] == "origin_not_allowed" for line in refused)
    assert len(answered) == 2
