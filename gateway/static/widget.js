/*!
 * refdesk "Ask a Librarian" widget — one script tag on any library page:
 *
 *   <script src="https://refdesk.example.edu/widget.js" data-department="reference" defer></script>
 *
 * Adds a floating button (bottom right) that opens the patron chat page of the
 * script's own origin (/patron/?department=<id>) in an iframe panel; full screen on
 * phones. Esc or the close button closes the panel (the chat keeps going; reopening
 * shows it again). `data-label` changes the button text.
 *
 * Everything lives in a shadow root styled by widget.css from the same origin, so the
 * host page's CSS cannot reach it and no inline styles are needed (strict CSP).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.refdeskWidget) return;

  var scriptUrl = new URL(script.src, location.href);
  var origin = scriptUrl.origin;
  var department = script.getAttribute("data-department") || "reference";
  var label = script.getAttribute("data-label") || "Ask a Librarian";
  var SVG = "http://www.w3.org/2000/svg";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function icon(pathData) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG, "path");
    path.setAttribute("d", pathData);
    svg.appendChild(path);
    return svg;
  }

  function chatUrl() {
    var url = new URL("patron/", scriptUrl);
    url.searchParams.set("department", department);
    url.searchParams.set("page_url", location.href.slice(0, 2000));
    return url.href;
  }

  var host = el("div", { "class": "refdesk-widget", "data-refdesk-widget": "" });
  host.hidden = true; // shown once its stylesheet has loaded
  var root = host.attachShadow({ mode: "open" });
  var stylesheet = el("link", { rel: "stylesheet", href: new URL("static/widget.css", scriptUrl).href });

  var launcherText = el("span", { "class": "launcher__text" }, [label]);
  var launcher = el("button", {
    type: "button", "class": "launcher", "aria-expanded": "false", "aria-controls": "refdesk-panel",
    "aria-haspopup": "dialog", "data-testid": "widget-button",
  }, [icon("M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"), launcherText]);
  var unread = el("span", { "class": "launcher__unread" }, ["New message"]);
  unread.hidden = true;
  launcher.appendChild(unread);

  var close = el("button", { type: "button", "class": "close", "aria-label": "Close chat window", "data-testid": "widget-close" },
    [icon("M6 6l12 12M18 6L6 18")]);
  var title = el("h2", { "class": "panel__title", id: "refdesk-panel-title" }, [label]);
  var frame = el("iframe", { title: label + " chat", "class": "panel__frame", "data-testid": "widget-frame" });
  var panel = el("div", {
    "class": "panel", id: "refdesk-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "refdesk-panel-title", "data-testid": "widget-panel",
  }, [el("div", { "class": "panel__bar" }, [title, close]), frame]);
  panel.hidden = true;

  root.appendChild(stylesheet);
  root.appendChild(launcher);
  root.appendChild(panel);

  function isOpen() {
    return !panel.hidden;
  }

  function askFrameToFocus() {
    frame.focus();
    if (frame.contentWindow) frame.contentWindow.postMessage({ type: "refdesk:focus" }, origin);
  }

  function open() {
    if (isOpen()) return;
    if (!frame.getAttribute("src")) {
      frame.addEventListener("load", askFrameToFocus, { once: true });
      frame.setAttribute("src", chatUrl());
    }
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    host.setAttribute("data-open", "");
    unread.hidden = true;
    askFrameToFocus();
  }

  function shut() {
    if (!isOpen()) return;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    host.removeAttribute("data-open");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (isOpen()) shut(); else open(); });
  close.addEventListener("click", shut);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen()) shut();
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var type = event.data && event.data.type;
    if (type === "refdesk:close") shut();
    else if (type === "refdesk:activity" && !isOpen()) unread.hidden = false;
  });
  stylesheet.addEventListener("load", function () { host.hidden = false; });
  stylesheet.addEventListener("error", function () { host.hidden = false; });

  window.refdeskWidget = { open: open, close: shut };

  function mount() { document.body.appendChild(host); }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
}());
