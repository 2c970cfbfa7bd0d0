/**
 * Request Screenshare in a chat pane (owner, active chat only). The patron is asked
 * first (LibraryH3lp: nothing is shared without the patron's consent); no meeting
 * link exists until they accept. The status line says where the request stands:
 * "Waiting for ⟨patron⟩ to accept…", then "⟨patron⟩ accepted — Open screenshare"
 * (the link, in a new tab) or "⟨patron⟩ declined."
 *
 * Test ids: screenshare-button, screenshare-status, screenshare-link.
 */
import { h, announce } from "../static/js/dom.js";

export class ScreenshareControl {
  /**
   * @param {import("../static/js/socket.js").RefdeskSocket} socket
   * @param {Object} chat ChatView (mine)
   */
  constructor(socket, chat) {
    this.socket = socket;
    this.chat = chat;
    this.request = null;
    this.button = h("button", { type: "button", class: "btn btn--small", "data-testid": "screenshare-button", text: "Request screenshare" });
    this.button.setAttribute("aria-label", `Ask ${chat.patron_name} to share their screen`);
    this.button.addEventListener("click", () => this.#ask());
    this.status = h("p", { class: "pane__screenshare", role: "status", "data-testid": "screenshare-status", hidden: true });
    this.onUpdate = (event) => {
      if (event.detail.chat_id === this.chat.id) this.#show(event.detail.request, true);
    };
    socket.addEventListener("screenshare.update", this.onUpdate);
    socket.request({ type: "screenshare.get", chat_id: chat.id }, { waitForOpen: true })
      .then((data) => { if (!this.request && data.request) this.#show(data.request, false); }, () => {});
    this.update(chat);
  }

  /** The chat's latest view: the button works only while it is active. */
  update(chat) {
    this.chat = chat;
    this.button.hidden = chat.state !== "active";
    this.#refreshButton();
  }

  destroy() {
    this.socket.removeEventListener("screenshare.update", this.onUpdate);
  }

  async #ask() {
    this.button.disabled = true;
    try {
      this.#show(await this.socket.request({ type: "screenshare.request", chat_id: this.chat.id }), false);
    } catch (error) {
      this.status.replaceChildren(error.message);
      this.status.dataset.state = "error";
      this.status.hidden = false;
      this.#refreshButton();
    }
  }

  #show(request, live) {
    if (this.request && request.id !== this.request.id && Date.parse(request.requested_at) < Date.parse(this.request.requested_at)) return;
    this.request = request;
    const who = this.chat.patron_name;
    this.status.dataset.state = request.state;
    if (request.state === "pending") {
      this.status.replaceChildren(`Waiting for ${who} to accept the screenshare…`);
    } else if (request.state === "accepted") {
      const url = request.host_url || request.join_url;
      const link = h("a", { href: url, target: "_blank", rel: "noopener noreferrer", "data-testid": "screenshare-link", text: "Open screenshare" });
      this.status.replaceChildren(`${who} accepted. `, link, " (opens in a new tab)");
      if (live) announce(`${who} accepted the screenshare.`);
    } else {
      this.status.replaceChildren(`${who} declined the screenshare.`);
      if (live) announce(`${who} declined the screenshare.`);
    }
    this.status.hidden = false;
    this.#refreshButton();
  }

  #refreshButton() {
    const pending = this.request?.state === "pending";
    this.button.disabled = pending || this.chat.state !== "active";
    // Short visible labels keep the tools row on one line; the aria-label says it in full.
    this.button.textContent = pending ? "Requested…" : this.request ? "Screenshare again" : "Screenshare";
    const who = this.chat.patron_name;
    this.button.setAttribute("aria-label", pending ? `Screenshare requested from ${who}`
      : `Ask ${who} to share their screen${this.request ? " again" : ""}`);
  }
}
