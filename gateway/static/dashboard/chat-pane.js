/**
 * One of my chats: transcript, patron typing, reply box with canned messages, End
 * Chat; after the chat ends, the Reference Analytics form and Close Chat.
 *
 * The pane is a fixed-height column: the transcript is the only part that grows and
 * scrolls while chatting. Once the chat ends the reply box goes, the transcript shrinks
 * to a short scrollable strip and the Reference Analytics form becomes its own region
 * below it (scrolling on its own, with Save always in view).
 *
 * Test ids: chat-pane (data-chat-id, data-state), message, typing, canned-button,
 * reply-box, send-button, end-chat, chat-ended-note, ra-form … (see ra-form.js).
 */
import { h, uid, announce } from "../static/js/dom.js";
import { formatClock } from "../static/js/time.js";
import { TypingIndicator, TypingSignaller } from "../static/js/typing.js";
import { CannedPicker } from "./canned.js";
import { RaForm } from "./ra-form.js";
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
    this.composer.addEventListener("compose-input", (event) => this.signaller.input(event.detail.empty));
    this.composer.addEventListener("compose-send", (event) => this.#send(event.detail.body));
    this.canned = new CannedPicker(this.socket, chat.department_id, (text) => this.composer.insert(text));
    this.endButton = h("button", { type: "button", class: "btn btn--danger btn--small", "data-testid": "end-chat", text: "End Chat" });
    this.endButton.addEventListener("click", () => this.#end());
    this.notice = h("p", { class: "pane__notice", role: "status", "data-testid": "chat-ended-note", hidden: true });
    // The RA form (itself a labelled form landmark) lives here, below the transcript.
    this.raSlot = h("div", { class: "pane__ra", hidden: true });
    this.compose = h("div", { class: "pane__compose" },
      h("div", { class: "pane__tools" }, this.canned.element, this.endButton),
      this.composer);
    const meta = [chat.department_name, chat.patron_email, chat.page_url ? `from ${chat.page_url}` : null].filter(Boolean).join(" · ");
    this.element = h("article", { class: "pane", "aria-labelledby": titleId, dataset: { testid: "chat-pane", chatId: chat.id } },
      h("header", { class: "pane__head" },
        h("div", { class: "pane__who" },
          h("h3", { id: titleId, class: "pane__title", text: chat.patron_name }),
          h("p", { class: "pane__meta", text: meta })),
        this.stateBadge),
      this.transcript,
      typing,
      this.notice,
      this.canned.menu,
      this.compose,
      this.raSlot);
  }

  /** Apply the chat's latest ChatView (e.g. from a chat.update). */
  update(chat) {
    this.chat = chat;
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
    this.signaller.stop();
    this.typingIndicator.hide();
    this.canned.destroy();
    this.socket.removeEventListener("message", this.onMessage);
    this.socket.removeEventListener("typing", this.onTyping);
    this.socket.unsubscribe(this.chat.id);
    this.element.remove();
  }

  #send(body) {
    this.signaller.stop();
    const { cmid, done } = this.socket.send(this.chat.id, body);
    this.transcript.addPending(cmid, body, this.operator.nickname || this.operator.full_name);
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
