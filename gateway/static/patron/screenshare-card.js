/**
 * The patron's screenshare consent card. When the librarian asks to see the screen
 * (`screenshare.offer`) the card asks "Share your screen?" with Accept and Decline
 * buttons — nothing is shared and no meeting link exists until the patron accepts.
 * On Accept the card shows the meeting link ("Join the screenshare", new tab); on
 * Decline it says so briefly. A reloaded page asks `screenshare.get` and shows a
 * still-pending prompt (or the accepted link) again. The card does not take the
 * focus (a framed widget must never pull focus off the library page); it is
 * announced, and Tab reaches it.
 *
 * Test ids: screenshare-offer, screenshare-accept, screenshare-decline,
 * screenshare-link, screenshare-result.
 */
import { h, uid, announce } from "../static/js/dom.js";
import { tellParent } from "./embed.js";

export class ScreenshareCard {
  /**
   * @param {import("../static/js/socket.js").RefdeskSocket} socket the patron's socket
   * @param {string} chatId
   * @param {HTMLElement} before the card is inserted just before this element
   */
  constructor(socket, chatId, before) {
    this.socket = socket;
    this.chatId = chatId;
    this.request = null;
    this.element = h("section", { class: "p-consent", hidden: true, "data-testid": "screenshare-offer" });
    before.before(this.element);
    const listening = { signal: (this.listening = new AbortController()).signal };
    socket.addEventListener("screenshare.offer", (event) => this.#receive(event.detail, true), listening);
    socket.addEventListener("screenshare.update", (event) => this.#receive(event.detail, true), listening);
    socket.addEventListener("welcome", () => this.#load(), listening);
    socket.addEventListener("chat.update", (event) => {
      const state = event.detail.chat?.state;
      if (event.detail.chat?.id === chatId && state !== "active" && this.request) this.hide(); // the chat is over
    }, listening);
  }

  hide() {
    this.element.hidden = true;
    this.element.replaceChildren();
  }

  destroy() {
    this.listening.abort();
    this.element.remove();
  }

  #load() {
    this.socket.request({ type: "screenshare.get", chat_id: this.chatId })
      .then((data) => { // a pending prompt, or an accepted link, comes back after a reload
        if (data.request && data.request.state !== "declined") this.#receive({ chat_id: this.chatId, request: data.request }, false);
      },
        () => {});
  }

  #receive(frame, live) {
    if (frame.chat_id !== this.chatId || !frame.request) return;
    const request = frame.request;
    if (this.request && request.id !== this.request.id && Date.parse(request.requested_at) < Date.parse(this.request.requested_at)) return;
    this.request = request;
    if (request.state === "pending") this.#ask(request, live);
    else if (request.state === "accepted") this.#accepted(request);
    else this.#declined();
  }

  #ask(request, live) {
    const titleId = uid("consent-title");
    const who = request.operator_name || "The librarian";
    const accept = h("button", { type: "button", class: "btn btn--primary", "data-testid": "screenshare-accept", text: "Accept" });
    const decline = h("button", { type: "button", class: "btn", "data-testid": "screenshare-decline", text: "Decline" });
    const error = h("p", { class: "p-consent__error", role: "alert", hidden: true });
    accept.addEventListener("click", () => this.#answer(true, [accept, decline], error));
    decline.addEventListener("click", () => this.#answer(false, [accept, decline], error));
    this.element.setAttribute("aria-labelledby", titleId);
    this.element.dataset.state = "pending";
    this.element.replaceChildren(
      h("h2", { id: titleId, class: "p-consent__title", text: "Share your screen?" }),
      h("p", { class: "p-consent__text", text: `${who} would like to see your screen to help you.` }),
      h("p", { class: "p-consent__hint", text: "Nothing is shared unless you accept, and you can stop sharing at any time." }),
      error,
      h("div", { class: "p-consent__buttons" }, accept, decline));
    this.element.hidden = false;
    if (live) {
      announce(`${who} would like to see your screen. Accept or decline below.`);
      tellParent("activity");
    }
  }

  async #answer(accept, buttons, error) {
    for (const button of buttons) button.disabled = true;
    try {
      const answered = await this.socket.request({ type: "screenshare.answer", chat_id: this.chatId, request_id: this.request.id, accept });
      this.#receive({ chat_id: this.chatId, request: answered }, true);
    } catch (failure) {
      for (const button of buttons) button.disabled = false;
      error.textContent = failure.message;
      error.hidden = false;
    }
  }

  #accepted(request) {
    const titleId = uid("consent-title");
    const hadFocus = this.element.contains(document.activeElement);
    const link = h("a", { href: request.join_url, target: "_blank", rel: "noopener noreferrer", class: "btn btn--primary p-consent__link",
      "data-testid": "screenshare-link", text: "Join the screenshare" });
    this.element.setAttribute("aria-labelledby", titleId);
    this.element.dataset.state = "accepted";
    this.element.replaceChildren(
      h("h2", { id: titleId, class: "p-consent__title", "data-testid": "screenshare-result", text: "Screenshare ready" }),
      h("p", { class: "p-consent__hint", text: "It opens in a new tab; choose to share your screen when it asks." }),
      link);
    this.element.hidden = false;
    if (hadFocus) link.focus();
    announce("Screenshare ready: use the Join the screenshare link.");
  }

  #declined() {
    const hadFocus = this.element.contains(document.activeElement);
    this.element.dataset.state = "declined";
    this.element.removeAttribute("aria-labelledby");
    const text = h("p", { class: "p-consent__text", "data-testid": "screenshare-result", tabindex: "-1", text: "You declined the screenshare. Nothing was shared." });
    this.element.replaceChildren(text);
    this.element.hidden = false;
    if (hadFocus) text.focus();
  }
}
