/**
 * "Email me a transcript" once the chat has ended (LibraryH3lp: guests can email
 * themselves the transcript from the chat box). The transcript goes only to the email
 * the patron gave when the chat started (shown, not editable); a patron who gave none
 * may type one if a librarian answered the chat, and otherwise reads why there is no
 * transcript to email (the gateway enforces the same rule: docs/protocol.md). Sending
 * says clearly where it goes, then whether it was sent (`mail.status` frames). The
 * patron copy never contains staff notes.
 *
 * Test ids: transcript-request, transcript-email, transcript-send, transcript-result,
 * transcript-hint.
 */
import { h, uid, announce } from "../static/js/dom.js";

export class TranscriptRequest {
  /**
   * @param {import("../static/js/socket.js").RefdeskSocket} socket the patron's socket
   * @param {string} chatId
   * @param {HTMLElement} container the "chat has ended" block; the form goes before its "Start a new chat" button
   */
  constructor(socket, chatId, container) {
    this.socket = socket;
    this.chatId = chatId;
    this.mailId = null;
    const inputId = uid("transcript-email");
    this.input = h("input", { id: inputId, type: "email", autocomplete: "email", maxlength: 320, required: true,
      "data-testid": "transcript-email", placeholder: "you@example.org" });
    this.button = h("button", { type: "submit", class: "btn", "data-testid": "transcript-send", text: "Send transcript" });
    this.result = h("p", { class: "p-transcript__result", role: "status", "data-testid": "transcript-result", hidden: true });
    const hintId = uid("transcript-hint");
    this.hint = h("p", { id: hintId, class: "field__note", "data-testid": "transcript-hint", hidden: true });
    this.input.setAttribute("aria-describedby", hintId);
    this.form = h("form", { class: "p-transcript__form", novalidate: true },
      h("label", { for: inputId, class: "p-transcript__label", text: "Email me a transcript" }),
      h("div", { class: "p-transcript__row" }, this.input, this.button));
    this.element = h("div", { class: "p-transcript", "data-testid": "transcript-request", hidden: true },
      this.form, this.hint, this.result);
    const last = container.querySelector("[data-testid=new-chat]");
    if (last) last.before(this.element);
    else container.append(this.element);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#send();
    });
    this.listening = new AbortController();
    socket.addEventListener("mail.status", (event) => this.#status(event.detail.mail), { signal: this.listening.signal });
  }

  /**
   * Show the form for the ended chat: the address the patron gave, read-only; else an
   * address field when a librarian claimed the chat; else only why nothing can be sent.
   */
  show(chat) {
    if (!this.element.hidden) return;
    const given = chat?.patron_email || "";
    if (given) {
      this.input.value = given;
      this.input.readOnly = true;
      this.hint.textContent = "We can only send it to the email address you gave when the chat started.";
      this.hint.hidden = false;
    } else if (!chat?.claimed_at) {
      this.form.hidden = true;
      this.hint.textContent = "No librarian answered this chat and you gave no email address when it started, " +
        "so there is no transcript to email.";
      this.hint.hidden = false;
    }
    this.element.hidden = false;
  }

  destroy() {
    this.listening.abort();
    this.element.remove();
  }

  async #send() {
    const to = this.input.value.trim();
    if (!to) {
      this.#say("Enter the email address to send the transcript to.", "error");
      this.input.focus();
      return;
    }
    this.button.disabled = true;
    this.button.textContent = "Sending…";
    try {
      const mail = await this.socket.request({ type: "transcript.email", chat_id: this.chatId, to });
      this.mailId = mail.id;
      this.#say(`We're emailing the transcript to ${to}.`, "pending");
      if (mail.status !== "queued") this.#status(mail);
      this.form.hidden = true;
    } catch (error) {
      this.#say(error.message, "error");
      this.input.focus();
    } finally {
      this.button.disabled = false;
      this.button.textContent = "Send transcript";
    }
  }

  #status(mail) {
    if (!mail || mail.id !== this.mailId) return;
    const to = mail.to.join(", ");
    if (mail.status === "sent") this.#say(`Transcript sent to ${to}. Check your inbox (and spam folder).`, "ok");
    else if (mail.status === "retrying") this.#say(`We couldn't send it to ${to} yet — we'll keep trying.`, "pending");
    else if (mail.status === "failed") {
      this.#say(`Sorry, we couldn't send the transcript to ${to}. Please check the address and try again.`, "error");
      this.form.hidden = false;
    }
  }

  #say(text, kind) {
    this.result.textContent = text;
    this.result.dataset.kind = kind;
    this.result.hidden = false;
    announce(text);
  }
}
