/**
 * "Email transcript" in a chat pane (LibChat's Email Patron / Librarian Transcript):
 * a button opening a small dialog (address, Patron / Librarian), then the status of
 * the chat's transcript mails — Queued, Sent, Retrying (attempt n, next at …) or
 * Failed with a Retry button — kept current by `mail.status` frames.
 *
 * Test ids: email-transcript, transcript-dialog, transcript-to, transcript-kind-patron,
 * transcript-kind-librarian, transcript-send, transcript-cancel, transcript-error,
 * mail-status, mail-status-item (data-status), mail-retry.
 */
import { h, uid, announce } from "../static/js/dom.js";
import { formatClock } from "../static/js/time.js";

const KIND_LABELS = { "transcript.patron": "Patron transcript", "transcript.librarian": "Librarian transcript" };
const SHOWN = 4;

export class TranscriptMailControl {
  /**
   * @param {import("../static/js/socket.js").RefdeskSocket} socket
   * @param {Object} chat ChatView
   */
  constructor(socket, chat) {
    this.socket = socket;
    this.chat = chat;
    this.mails = new Map();
    this.button = h("button", { type: "button", class: "btn btn--quiet btn--small", "data-testid": "email-transcript", text: "Email transcript" });
    this.button.setAttribute("aria-label", `Email the transcript of the chat with ${chat.patron_name}`);
    this.button.addEventListener("click", () => this.open());
    this.status = h("ul", { class: "mail-status", "data-testid": "mail-status", "aria-label": "Transcript emails", hidden: true });
    this.onStatus = (event) => {
      const mail = event.detail.mail;
      if (mail?.subject_ref !== `chat:${this.chat.id}`) return;
      this.#put(mail);
      if (mail.status === "sent") announce(`${KIND_LABELS[mail.kind] ?? "Mail"} sent to ${mail.to.join(", ")}.`);
      if (mail.status === "failed") announce(`${KIND_LABELS[mail.kind] ?? "Mail"} to ${mail.to.join(", ")} failed.`);
    };
    socket.addEventListener("mail.status", this.onStatus);
    this.#load();
  }

  update(chat) {
    this.chat = chat;
  }

  destroy() {
    this.socket.removeEventListener("mail.status", this.onStatus);
  }

  async #load() {
    try {
      const list = await this.socket.request({ type: "transcript.mails", chat_id: this.chat.id });
      for (const mail of list.mails.slice().reverse()) this.#put(mail, false);
      this.#render();
    } catch { /* the status appears with the next mail */ }
  }

  #put(mail, render = true) {
    const known = this.mails.get(mail.id);
    // events may overtake the reply: never go back from a later state to "queued"
    if (known && mail.status === "queued" && known.status !== "failed" && known.attempts >= mail.attempts) return;
    this.mails.set(mail.id, mail);
    if (render) this.#render();
  }

  #render() {
    const mails = [...this.mails.values()].sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, SHOWN);
    this.status.replaceChildren(...mails.map((mail) => this.#item(mail)));
    this.status.hidden = mails.length === 0;
  }

  #item(mail) {
    const kind = mail.requested_by ? KIND_LABELS[mail.kind] ?? mail.kind : "Patron's own transcript";
    const what = `${kind} to ${mail.to.join(", ")}`;
    const state = h("span", { class: `mail-status__state mail-status__state--${mail.status}`, text: describe(mail) });
    const item = h("li", { class: "mail-status__item", "data-testid": "mail-status-item", dataset: { status: mail.status, mailId: mail.id } },
      h("span", { class: "mail-status__what", text: `${what}: ` }), state);
    if (mail.status !== "sent" && mail.last_error) {
      item.append(h("span", { class: "mail-status__error", text: ` ${mail.last_error}` }));
    }
    if (mail.status === "failed") {
      const retry = h("button", { type: "button", class: "btn btn--small", "data-testid": "mail-retry", text: "Retry" });
      retry.addEventListener("click", async () => {
        retry.disabled = true;
        try {
          this.#put(await this.socket.request({ type: "transcript.retry", chat_id: this.chat.id, mail_id: mail.id }));
        } catch (error) {
          retry.disabled = false;
          announce(error.message);
        }
      });
      item.append(" ", retry);
    }
    return item;
  }

  /** Open the dialog; resolves once the mail is queued or the dialog is cancelled. */
  async open() {
    const mail = await openTranscriptDialog(this.chat, (request) => this.socket.request({ type: "transcript.email", chat_id: this.chat.id, ...request }));
    if (!mail) return;
    this.#put(mail);
    announce(`${KIND_LABELS[mail.kind]} queued for ${mail.to.join(", ")}.`);
    this.button.focus();
  }
}

/** "Queued", "Sent at 14:05", "Retrying (attempt 2, next at 14:06)", "Failed". */
export function describe(mail) {
  switch (mail.status) {
    case "sent": return mail.sent_at ? `Sent at ${formatClock(mail.sent_at)}` : "Sent";
    case "retrying": return `Retrying (attempt ${mail.attempts + 1}${mail.next_attempt_at ? `, next at ${formatClock(mail.next_attempt_at)}` : ""})`;
    case "failed": return `Failed after ${mail.attempts} attempt${mail.attempts === 1 ? "" : "s"}.`;
    default: return "Queued";
  }
}

/**
 * The Email transcript dialog: address and kind. Esc / Cancel closes it.
 * @param {Object} chat ChatView (patron_name, patron_email)
 * @param {(request: {kind: string, to: string}) => Promise<Object>} send answers the queued mail
 * @returns {Promise<Object|null>} the queued mail, or null when cancelled
 */
export function openTranscriptDialog(chat, send) {
  const titleId = uid("transcript-title");
  const toId = uid("transcript-to");
  const name = uid("transcript-kind");
  const to = h("input", { id: toId, type: "email", required: true, autocomplete: "email", maxlength: 320,
    "data-testid": "transcript-to", value: chat.patron_email ?? "", placeholder: "name@example.org" });
  const kind = (value, text, hint, testid) => h("label", { class: "transcript-kind" },
    h("input", { type: "radio", name, value, checked: value === "patron", "data-testid": testid }),
    h("span", {}, h("strong", { text }), h("span", { class: "transcript-kind__hint", text: hint })));
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "transcript-error", hidden: true });
  const confirm = h("button", { type: "submit", class: "btn btn--primary", "data-testid": "transcript-send", text: "Send" });
  const cancel = h("button", { type: "button", class: "btn", "data-testid": "transcript-cancel", text: "Cancel" });
  const form = h("form", { method: "dialog", class: "dismiss__form", novalidate: true },
    h("h2", { id: titleId, class: "dismiss__title", text: `Email the transcript of the chat with ${chat.patron_name}` }),
    h("div", { class: "field" }, h("label", { for: toId, text: "Email address" }), to),
    h("fieldset", { class: "transcript-kinds" },
      h("legend", { text: "Transcript" }),
      kind("patron", "Patron", "Nicknames; no internal notes or system messages.", "transcript-kind-patron"),
      kind("librarian", "Librarian", "Full names, system messages and internal notes — staff only.", "transcript-kind-librarian")),
    error,
    h("div", { class: "dismiss__buttons" }, confirm, cancel));
  const dialog = h("dialog", { class: "dismiss", "aria-labelledby": titleId, "data-testid": "transcript-dialog" }, form);
  document.body.append(dialog);

  return new Promise((resolve) => {
    let done = false;
    const finish = (mail) => {
      if (done) return;
      done = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(mail);
    };
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      if (!confirm.disabled) finish(null);
    });
    dialog.addEventListener("close", () => finish(null));
    cancel.addEventListener("click", () => finish(null));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const address = to.value.trim();
      if (!address) {
        error.textContent = "Enter the email address to send the transcript to.";
        error.hidden = false;
        to.focus();
        return;
      }
      confirm.disabled = true;
      cancel.disabled = true;
      confirm.textContent = "Sending…";
      error.hidden = true;
      try {
        const chosen = form.querySelector(`input[name="${name}"]:checked`).value;
        finish(await send({ kind: chosen, to: address }));
      } catch (failure) {
        confirm.disabled = false;
        cancel.disabled = false;
        confirm.textContent = "Send";
        error.textContent = failure.message;
        error.hidden = false;
        to.focus();
      }
    });
    dialog.showModal();
    to.focus();
    to.select();
  });
}
