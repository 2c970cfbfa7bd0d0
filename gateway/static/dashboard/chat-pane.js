/**
 * One of my chats: transcript, patron typing, reply box with canned messages, End
 * Chat; after the chat ends, the Reference Analytics form and Close Chat.
 *
 * The pane is a fixed-height column: the transcript is the only part that grows and
 * scrolls while chatting. Once the chat ends the reply box goes, the transcript shrinks
 * to a short scrollable strip and the Reference Analytics form becomes its own region
 * below it (scrolling on its own, with Save always in view).
 *
 * The reply box has a "Message patron / Internal note" radio group (LibChat's toggle):
 * an internal note is staff only — drawn pale yellow in the transcript, never sent
 * to the patron, and writing one sends no typing signal. The tools row also has
 * Request screenshare (screenshare-control.js) and Dismiss (a dialog with a note).
 * The head has "Email transcript" (transcript-mail.js: dialog, then the mail status).
 * Transfer (transfer-control.js) opens the Transfer dialog; while my transfer is under
 * way the reply box is locked and a strip offers Cancel transfer.
 *
 * Test ids: chat-pane (data-chat-id, data-state), message, typing, canned-button,
 * reply-mode, mode-patron, mode-note, reply-box, send-button, end-chat, dismiss-chat,
 * screenshare-button, screenshare-status, chat-ended-note, ra-form … (see ra-form.js),
 * pane-status (the bounded area holding the status strips), ticket-created-dismiss,
 * toggle-transcript ("Show conversation" once ended).
 */
import { h, uid, announce } from "../static/js/dom.js";
import { formatClock } from "../static/js/time.js";
import { TypingIndicator, TypingSignaller } from "../static/js/typing.js";
import { CannedPicker } from "./canned.js";
import { RaForm } from "./ra-form.js";
import { openDismissDialog } from "./dismiss-dialog.js";
import { ScreenshareControl } from "./screenshare-control.js";
import { TranscriptMailControl } from "./transcript-mail.js";
import { openTicketDialog } from "./ticket-dialog.js";
import { TransferControl } from "./transfer-control.js";
import "../static/js/transcript.js";
import "../static/js/composer.js";

const STATE_LABELS = { queued: "Waiting", active: "Active", ended: "Ended", closed: "Closed" };

export class ChatPane {
  /**
   * @param {Object} chat ChatView claimed by me
   * @param {{socket: import("../static/js/socket.js").RefdeskSocket, operator: Object, onClosed: (chat: Object) => void}} deps
   */
  constructor(chat, { socket, operator, onClosed }) {
    this.chat = chat;
    this.socket = socket;
    this.operator = operator;
    this.onClosed = onClosed;
    this.ra = null;
    this.mode = "patron"; // or "note": the reply box writes an internal note
    this.#build();
    this.onMessage = (event) => {
      if (event.detail.chatId !== this.chat.id) return;
      this.transcript.add(event.detail.message);
      if (event.detail.message.author_kind === "patron") this.typingIndicator.hide();
    };
    this.onTyping = (event) => {
      const frame = event.detail;
      if (frame.chat_id === this.chat.id && frame.author_kind === "patron") this.typingIndicator.show(frame.author_name, frame.typing);
    };
    socket.addEventListener("message", this.onMessage);
    socket.addEventListener("typing", this.onTyping);
    socket.subscribe(chat.id);
    this.update(chat);
  }

  #build() {
    const chat = this.chat;
    const titleId = uid("pane-title");
    this.stateBadge = h("span", { class: "state-badge" });
    this.transcript = h("rd-transcript", { viewer: "operator", "aria-label": `Conversation with ${chat.patron_name}` });
    const typing = h("p", { class: "typing", "data-testid": "typing", role: "status" });
    this.typingIndicator = new TypingIndicator(typing);
    this.composer = h("rd-composer", { label: `Reply to ${chat.patron_name}`, placeholder: "Type your reply…" });
    if (this.socket.welcome?.max_message_chars) this.composer.maxLength = this.socket.welcome.max_message_chars;
    this.signaller = new TypingSignaller((typing) => this.socket.typing(chat.id, typing));
    this.composer.addEventListener("compose-input", (event) => {
      if (this.mode === "patron") this.signaller.input(event.detail.empty); // notes never show as typing
    });
    this.composer.addEventListener("compose-send", (event) => this.#send(event.detail.body));
    this.canned = new CannedPicker(this.socket, chat.department_id, (text) => this.composer.insert(text));
    this.canned.button.textContent = "Canned"; // short, so the tools row fits narrow panes
    this.canned.button.setAttribute("aria-label", "Canned messages");
    this.endButton = h("button", { type: "button", class: "btn btn--danger btn--small", "data-testid": "end-chat", text: "End Chat" });
    this.endButton.addEventListener("click", () => this.#end());
    this.dismissButton = h("button", { type: "button", class: "btn btn--small", "data-testid": "dismiss-chat", text: "Dismiss" });
    this.dismissButton.setAttribute("aria-label", `Dismiss chat with ${chat.patron_name}`);
    this.dismissButton.addEventListener("click", () => this.#dismiss());
    this.screenshare = new ScreenshareControl(this.socket, chat);
    this.transfer = new TransferControl(this.socket, chat, this.operator.id,
      { composer: this.composer, ownerOnly: [this.endButton, this.dismissButton, this.screenshare.button],
        ending: [this.endButton, this.dismissButton] });
    this.mail = new TranscriptMailControl(this.socket, chat);
    this.ticketButton = h("button", { type: "button", class: "btn btn--quiet btn--small", "data-testid": "create-ticket", text: "Create ticket" });
    this.ticketButton.setAttribute("aria-label", `Create a ticket from the chat with ${chat.patron_name}`);
    this.ticketButton.addEventListener("click", () => this.#createTicket());
    this.ticketNote = h("p", { class: "pane__strip-text", role: "status", "data-testid": "ticket-created" });
    const dismissTicketNote = h("button", { type: "button", class: "pane__strip-close", "data-testid": "ticket-created-dismiss",
      "aria-label": "Dismiss the ticket notice", text: "×" });
    this.ticketStrip = h("div", { class: "pane__notice pane__notice--closable", hidden: true }, this.ticketNote, dismissTicketNote);
    dismissTicketNote.addEventListener("click", () => { this.ticketStrip.hidden = true; this.composer.focus(); });
    this.notice = h("p", { class: "pane__notice", role: "status", "data-testid": "chat-ended-note", hidden: true });
    // Once ended the transcript is a short strip; this toggle lets it take half the pane.
    this.showConversation = h("button", { type: "button", class: "btn btn--quiet btn--small pane__show-conversation",
      "data-testid": "toggle-transcript", "aria-expanded": "false", text: "Show conversation", hidden: true });
    this.showConversation.addEventListener("click", () => this.#toggleConversation());
    // The RA form (itself a labelled form landmark) lives here, below the transcript.
    this.raSlot = h("div", { class: "pane__ra", hidden: true });
    this.#keepNewestInView();
    this.compose = h("div", { class: "pane__compose" },
      h("div", { class: "pane__tools" }, this.canned.element,
        h("div", { class: "pane__actions" }, this.screenshare.button, this.transfer.button, this.dismissButton, this.endButton)),
      this.#modeSwitch(),
      this.composer);
    const meta = [chat.department_name, chat.patron_email, chat.page_url ? `from ${chat.page_url}` : null].filter(Boolean).join(" · ");
    this.element = h("article", { class: "pane", "aria-labelledby": titleId, dataset: { testid: "chat-pane", chatId: chat.id } },
      h("header", { class: "pane__head" },
        h("div", { class: "pane__who" },
          h("h3", { id: titleId, class: "pane__title", text: chat.patron_name }),
          h("p", { class: "pane__meta", text: meta })),
        h("div", { class: "pane__headside" }, this.mail.button, this.ticketButton, this.stateBadge)),
      this.transcript,
      typing,
      // The notices share one small bounded area (it scrolls) so the transcript keeps its room.
      h("div", { class: "pane__status", "data-testid": "pane-status" },
        this.screenshare.status,
        this.transfer.status,
        h("div", { class: "pane__ended" }, this.notice, this.showConversation),
        this.ticketStrip,
        this.mail.status),
      this.canned.menu,
      this.compose,
      this.raSlot);
  }

  /** Apply the chat's latest ChatView (e.g. from a chat.update). */
  update(chat) {
    this.chat = chat;
    this.screenshare.update(chat);
    this.transfer.update(chat);
    this.mail.update(chat);
    this.element.dataset.state = chat.state;
    this.stateBadge.textContent = STATE_LABELS[chat.state] ?? chat.state;
    this.stateBadge.dataset.state = chat.state;
    if (chat.state !== "ended" || this.ra) return;
    this.signaller.stop();
    this.typingIndicator.hide();
    this.composer.disabled = true;
    this.canned.close(false);
    this.compose.hidden = true;
    const who = chat.ended_by === "patron" ? `${chat.patron_name} ended the chat` : "You ended the chat";
    this.notice.textContent = `${who}${chat.ended_at ? ` at ${formatClock(chat.ended_at)}` : ""}.`;
    this.notice.hidden = false;
    this.showConversation.hidden = false;
    announce(`Chat with ${chat.patron_name} ended. Please complete Reference Analytics.`);
    this.ra = new RaForm(chat, this.socket, () => this.#close());
    this.raSlot.replaceChildren(this.ra.element);
    this.raSlot.hidden = false;
    this.ra.load().then(() => this.#revealRa());
  }

  /** Move keyboard focus into the pane: the reply box, or the RA form once ended. */
  focus() {
    if (this.ra) this.ra.focusFirst();
    else this.composer.focus();
  }

  /** True when keyboard focus is somewhere in this pane. */
  get hasFocus() {
    return this.element.contains(document.activeElement);
  }

  destroy() {
    this.resizeWatch.disconnect();
    this.screenshare.destroy();
    this.transfer.destroy();
    this.mail.destroy();
    this.signaller.stop();
    this.typingIndicator.hide();
    this.canned.destroy();
    this.socket.removeEventListener("message", this.onMessage);
    this.socket.removeEventListener("typing", this.onTyping);
    this.socket.unsubscribe(this.chat.id);
    this.element.remove();
  }

  /**
   * Keep the newest message in view when the transcript's height changes (a status
   * strip appears or goes, the chat ends): if it was scrolled to the end, it stays there.
   */
  #keepNewestInView() {
    const NEAR_END_PX = 24;
    let atEnd = true;
    this.transcript.addEventListener("scroll", () => {
      const t = this.transcript;
      atEnd = t.scrollHeight - t.scrollTop - t.clientHeight < NEAR_END_PX;
    }, { passive: true });
    this.resizeWatch = new ResizeObserver(() => { if (atEnd) this.transcript.scrollToEnd(); });
    this.resizeWatch.observe(this.transcript);
  }

  /** Ended chats: the "Show conversation" toggle between a short strip and half the pane. */
  #toggleConversation() {
    const open = this.showConversation.getAttribute("aria-expanded") !== "true";
    this.showConversation.setAttribute("aria-expanded", String(open));
    this.showConversation.textContent = open ? "Hide conversation" : "Show conversation";
    this.element.dataset.conversation = open ? "open" : "";
  }

  /** The "Message patron / Internal note" radio group (arrow keys move between them). */
  #modeSwitch() {
    const name = uid("reply-mode");
    const option = (value, text, testid) => {
      const input = h("input", { type: "radio", name, value, checked: value === this.mode, "data-testid": testid });
      input.addEventListener("change", () => { if (input.checked) this.#setMode(value); });
      return h("label", { class: `mode__option mode__option--${value}` }, input, h("span", { text }));
    };
    return h("fieldset", { class: "mode", "data-testid": "reply-mode" },
      h("legend", { class: "visually-hidden", text: "Reply as" }),
      option("patron", "Message patron", "mode-patron"),
      option("note", "Internal note", "mode-note"));
  }

  #setMode(mode) {
    this.mode = mode;
    this.compose.dataset.mode = mode;
    const patron = this.chat.patron_name;
    if (mode === "note") {
      this.signaller.stop(); // the patron must not see "typing…" for a note
      this.composer.setPrompt(`Internal note about the chat with ${patron} (staff only)`, "Write an internal note — staff only, the patron won't see it…", "Add note");
    } else {
      this.composer.setPrompt(`Reply to ${patron}`, "Type your reply…");
    }
  }

  /** "Create ticket from this chat": the dialog, then a notice naming where it went. */
  async #createTicket() {
    const ticket = await openTicketDialog(this.chat, this.socket, this.operator.id);
    this.ticketButton.focus();
    if (!ticket) return;
    const whom = ticket.owner_operator_name ? ` for ${ticket.owner_operator_name}` : "";
    const said = `Ticket created in ${ticket.department_name}${whom}.`;
    this.ticketNote.textContent = said;
    this.ticketStrip.hidden = false;
    announce(said);
  }

  async #dismiss() {
    const nickname = this.operator.nickname || this.operator.full_name;
    const dismissed = await openDismissDialog(this.chat, nickname, async (note) => {
      this.dismissedChat = await this.socket.request({ type: "chat.dismiss", chat_id: this.chat.id, note });
    });
    if (!dismissed) return;
    announce(`Chat with ${this.chat.patron_name} dismissed.`);
    this.onClosed(this.dismissedChat);
  }

  #send(body) {
    const internal = this.mode === "note";
    this.signaller.stop();
    const { cmid, done } = this.socket.send(this.chat.id, body, undefined, { internal });
    this.transcript.addPending(cmid, body, this.operator.nickname || this.operator.full_name, { internal });
    this.transcript.scrollToEnd();
    done.then((ack) => this.transcript.acknowledge(cmid, ack), (error) => this.transcript.fail(cmid, error.message));
  }

  /**
   * Bring the loaded RA form into view and focus its first field — unless the
   * operator is busy elsewhere (e.g. typing in another pane when this patron left):
   * then the announcement is enough and nothing moves under them.
   */
  #revealRa() {
    const active = document.activeElement;
    if (active && active !== document.body && !this.element.contains(active)) return;
    this.element.scrollIntoView({ block: "nearest" });
    this.raSlot.scrollTop = 0; // start at the form's title; focusing scrolls on only if needed
    this.ra.focusFirst();
  }

  async #end() {
    this.endButton.disabled = true;
    try {
      // update() hides End Chat and shows the RA form, which takes the focus.
      this.update(await this.socket.request({ type: "chat.end", chat_id: this.chat.id }));
    } catch (error) {
      this.endButton.disabled = false;
      this.notice.textContent = error.message;
      this.notice.hidden = false;
    }
  }

  async #close() {
    const chat = await this.socket.request({ type: "chat.close", chat_id: this.chat.id });
    announce(`Chat with ${this.chat.patron_name} closed.`);
    this.onClosed(chat);
  }
}
