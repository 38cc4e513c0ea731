/*
 * The receptionist's website chat widget. No dependencies, no cookies.
 *
 * Embed with one tag:
 *   <script src="https://HOST/v1/widget.js" data-key="pk_live_..." async></script>
 *
 * Optional attributes: data-title (panel heading), data-color (accent colour),
 * data-api (API origin, when it differs from the script's own).
 *
 * It talks to POST /v1/widget/messages?key=... with JSON. The key is the
 * business's publishable key: it only works from origins the business has
 * allowed. The conversation (session id and transcript) is kept in
 * localStorage per key, so it survives page loads.
 */
(function () {
  "use strict";

  var PREFIX = "atb-widget";
  var MAX_LENGTH = 2000;
  var MAX_KEPT = 50;

  function findScript() {
    if (document.currentScript && document.currentScript.getAttribute("data-key")) {
      return document.currentScript;
    }
    var scripts = document.querySelectorAll("script[data-key][src*='/v1/widget.js']");
    return scripts.length ? scripts[scripts.length - 1] : null;
  }

  var script = findScript();
  if (!script || script.getAttribute("data-" + PREFIX + "-loaded")) {
    return;
  }
  script.setAttribute("data-" + PREFIX + "-loaded", "1");

  var key = script.getAttribute("data-key") || "";
  var apiBase = script.getAttribute("data-api") || new URL(script.src, location.href).origin;
  var title = script.getAttribute("data-title") || "Chat with us";
  var accent = script.getAttribute("data-color") || "#1f5fbf";
  var storageKey = PREFIX + ":" + key;

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(storageKey) || "null");
      if (saved && typeof saved === "object" && Array.isArray(saved.messages)) {
        return saved;
      }
    } catch (ignored) {
      // Storage blocked or corrupt: start afresh.
    }
    return { session_id: null, messages: [] };
  }

  function save() {
    state.messages = state.messages.slice(-MAX_KEPT);
    try {
      window.localStorage.setItem(storageKey, JSON.stringify(state));
    } catch (ignored) {
      // Private browsing can refuse storage; the chat still works on this page.
    }
  }

  var state = load();

  var css = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;",
    "  width: 56px; height: 56px; border-radius: 50%; border: none; cursor: pointer;",
    "  background: var(--accent); color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); }",
    ".launcher svg { width: 28px; height: 28px; fill: currentColor; }",
    ".launcher:focus-visible, button:focus-visible, input:focus-visible {",
    "  outline: 3px solid #ffbf47; outline-offset: 2px; }",
    ".panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483000;",
    "  width: 360px; max-width: calc(100vw - 40px); height: 520px; max-height: calc(100vh - 110px);",
    "  display: flex; flex-direction: column; background: #fff; color: #1a1a1a;",
    "  border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.3); overflow: hidden; }",
    ".panel[hidden] { display: none; }",
    ".header { display: flex; align-items: center; justify-content: space-between;",
    "  padding: 12px 16px; background: var(--accent); color: #fff; }",
    ".header h2 { margin: 0; font-size: 16px; font-weight: 600; }",
    ".close { background: transparent; border: none; color: #fff; font-size: 24px;",
    "  line-height: 1; cursor: pointer; padding: 4px 8px; border-radius: 4px; }",
    ".log { flex: 1; overflow-y: auto; padding: 12px 16px; margin: 0; list-style: none; }",
    ".msg { margin: 8px 0; padding: 8px 12px; border-radius: 10px; max-width: 85%;",
    "  font-size: 15px; line-height: 1.4; white-space: pre-wrap; overflow-wrap: anywhere; }",
    ".msg.visitor { margin-left: auto; background: var(--accent); color: #fff; }",
    ".msg.assistant { background: #eef1f5; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0;",
    "  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }",
    ".status { min-height: 1.2em; padding: 0 16px; font-size: 13px; color: #555; }",
    ".error { margin: 0 16px 8px; padding: 8px 12px; border-radius: 8px; font-size: 14px;",
    "  background: #fdecea; color: #8a1c12; }",
    ".error[hidden] { display: none; }",
    ".form { display: flex; gap: 8px; padding: 12px 16px; border-top: 1px solid #e3e6ea; }",
    ".form input { flex: 1; min-width: 0; font-size: 16px; padding: 10px 12px;",
    "  border: 1px solid #8a8f98; border-radius: 8px; color: #1a1a1a; background: #fff; }",
    ".form button { font-size: 15px; padding: 10px 14px; border: none; border-radius: 8px;",
    "  background: var(--accent); color: #fff; cursor: pointer; }",
    ".form button[disabled] { opacity: .6; cursor: default; }",
    "@media (max-width: 480px) {",
    "  .panel { right: 0; left: 0; bottom: 0; top: 0; width: 100%; max-width: 100%;",
    "    height: 100%; max-height: 100%; border-radius: 0; }",
    "  .launcher { right: 16px; bottom: 16px; }",
    "}",
  ].join("\n");

  var host = document.createElement("div");
  host.setAttribute("data-" + PREFIX, "");
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" + css + "</style>" +
    '<button type="button" class="launcher" aria-expanded="false" aria-controls="panel"' +
    ' aria-haspopup="dialog">' +
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>' +
    "</button>" +
    '<section class="panel" id="panel" role="dialog" aria-labelledby="title" hidden>' +
    '<div class="header"><h2 id="title"></h2>' +
    '<button type="button" class="close" aria-label="Close chat">&times;</button></div>' +
    '<ol class="log" role="log" aria-live="polite" aria-relevant="additions" aria-label="Conversation"></ol>' +
    '<p class="status" aria-live="polite"></p>' +
    '<p class="error" role="alert" hidden></p>' +
    '<form class="form" novalidate>' +
    '<label class="sr-only" for="message">Your message</label>' +
    '<input id="message" name="message" type="text" autocomplete="off" maxlength="' + MAX_LENGTH + '"' +
    ' placeholder="Type your question">' +
    '<button type="submit">Send</button>' +
    "</form></section>";
  host.style.setProperty("--accent", accent);

  var launcher = root.querySelector(".launcher");
  var panel = root.querySelector(".panel");
  var closeButton = root.querySelector(".close");
  var log = root.querySelector(".log");
  var statusLine = root.querySelector(".status");
  var errorBox = root.querySelector(".error");
  var form = root.querySelector(".form");
  var input = root.querySelector("input");
  var sendButton = root.querySelector(".form button");
  root.querySelector("#title").textContent = title;
  launcher.setAttribute("aria-label", "Open chat: " + title);

  function show(role, text) {
    var item = document.createElement("li");
    item.className = "msg " + role;
    var who = document.createElement("span");
    who.className = "sr-only";
    who.textContent = role === "visitor" ? "You: " : "Assistant: ";
    item.appendChild(who);
    item.appendChild(document.createTextNode(text));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function showError(text) {
    panel.setAttribute("data-state", "error");
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function clearError() {
    panel.removeAttribute("data-state");
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close chat: " + title);
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat: " + title);
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) {
      open();
    } else {
      close();
    }
  });
  closeButton.addEventListener("click", close);
  root.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      close();
    }
  });

  function errorText(status, payload) {
    var error = payload && payload.error;
    if ((status === 402 || status === 429) && error && error.message) {
      return error.message;
    }
    if (status === 403) {
      return "This chat is not available on this website.";
    }
    return "Sorry, the chat could not be reached. Please try again in a moment.";
  }

  function send(text) {
    var body = { message: text };
    if (state.session_id) {
      body.session_id = state.session_id;
    }
    var url = apiBase + "/v1/widget/messages?key=" + encodeURIComponent(key);
    return fetch(url, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(
        function (payload) { return { status: response.status, payload: payload }; },
        function () { return { status: response.status, payload: null }; }
      );
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text || sendButton.disabled) {
      return;
    }
    clearError();
    show("visitor", text);
    state.messages.push({ role: "visitor", text: text });
    save();
    input.value = "";
    sendButton.disabled = true;
    statusLine.textContent = "The assistant is typing…";

    send(text)
      .then(function (result) {
        var payload = result.payload;
        if (result.status === 200 && payload && typeof payload.reply === "string") {
          state.session_id = payload.session_id;
          state.messages.push({ role: "assistant", text: payload.reply });
          save();
          show("assistant", payload.reply);
          return;
        }
        if (payload && payload.error && payload.error.code === "invalid_session_id") {
          state.session_id = null;
          save();
        }
        showError(errorText(result.status, payload));
      })
      .catch(function () {
        // A refused origin gets no CORS header, so the browser hides the answer.
        showError(errorText(0, null));
      })
      .then(function () {
        sendButton.disabled = false;
        statusLine.textContent = "";
        input.focus();
      });
  });

  state.messages.forEach(function (message) {
    show(message.role === "visitor" ? "visitor" : "assistant", message.text);
  });

  function mount() {
    document.body.appendChild(host);
  }

  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();
