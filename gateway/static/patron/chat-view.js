/**
 * The patron's conversation: waiting in line, chatting, ended.
 *
 * Connects with the patron token, subscribes to the chat, shows "You're number N in
 * line" from `queue.position`, the transcript, the librarian's typing, and a reply
 * box (Enter sends). Patrons can send while queued or active. End chat (at the top,
 * away from Send) first asks "End this chat?" in the page: End chat / Keep chatting,
 * Esc keeps chatting. After the chat ends the reply box is disabled and hidden (if it
 * still holds an unsent message it stays, read-only, with "The chat has ended — this
 * message was not sent."); "This chat has ended.", the rating and transcript cards and
 * "Start a new chat" follow the transcript in one scrolling column, scrolled so the last
 * messages stay readable above them.
 */
import { announce } from "../static/js/dom.js";
import { RefdeskSocket } from "../static/js/socket.js";
import { TypingIndicator, TypingSignaller } from "../static/js/typing.js";
import { tellParent } from "./embed.js";
import { Rating } from "./rating.js";
import { ScreenshareCard } from "./screenshare-card.js";
import { TranscriptRequest } from "./transcript-request.js";
import "../static/js/transcript.js";
import "../static/js/composer.js";

const CONNECTION_TEXT = { connecting: "Connecting…", reconnecting: "Connection lost — reconnecting…" };

export class PatronChat {
  /**
   * @param {Object} saved {token, chat_id, name}
   * @param {{setStatus: (text: string, kind: string) => void, onExpired: () => void, onNewChat: () => void}} hooks
   */
  constructor(saved, { setStatus, onExpired, onNewChat }) {
    this.saved = saved;
    this.setStatus = setStatus;
    this.chat = null;
    const $ = (id) => document.getElementById(id);
    this.el = {
      section: $("chat"), bar: $("chat-bar"), waiting: $("waiting"), position: document.querySelector("[data-testid=queue-position]"),
      transcript: $("transcript"), ended: $("ended"), endedText: $("ended-text"), compose: $("compose"),
      composer: $("composer"), end: $("end-chat"), confirm: $("end-confirm"), confirmYes: $("end-confirm-yes"),
      confirmNo: $("end-confirm-no"), newChat: $("new-chat"), conn: $("conn"), unsent: $("unsent-note"),
    };
    this.typing = new TypingIndicator($("typing"));
    this.socket = new RefdeskSocket(saved.token);
    this.signaller = new TypingSignaller((typing) => this.socket.typing(saved.chat_id, typing));
    this.listening = new AbortController(); // removes the page-element listeners on destroy()
    this.rating = new Rating($("rating-slot"), this.socket, saved.chat_id); // "How was this chat?"
    this.screenshare = new ScreenshareCard(this.socket, saved.chat_id, this.el.compose); // the consent card, above the reply box
    this.transcriptRequest = new TranscriptRequest(this.socket, saved.chat_id, this.el.ended); // "Email me a transcript"
    this.#wire(onExpired, onNewChat);
  }

  /** Show the chat section and connect. */
  start() {
    this.el.section.hidden = false;
    this.el.waiting.hidden = false;
    this.el.ended.hidden = true;
    this.el.bar.hidden = false;
    this.#closeConfirm(false); // shows End chat
    this.el.compose.hidden = false;
    this.el.composer.disabled = false;
    this.el.unsent.hidden = true;
    this.el.position.textContent = "Waiting for a librarian…";
    this.el.conn.hidden = true;
    delete this.el.section.dataset.state;
    this.socket.subscribe(this.saved.chat_id);
    this.socket.start();
  }

  focus() {
    if (!this.el.composer.disabled) this.el.composer.focus();
    else this.el.newChat.focus();
  }

  /** Disconnect and hide (before showing the start form again). */
  destroy() {
    this.signaller.stop();
    this.typing.hide();
    this.socket.stop();
    this.listening.abort();
    this.rating.hide();
    this.screenshare.destroy();
    this.transcriptRequest.destroy();
    this.el.section.hidden = true;
    this.el.transcript.clear();
    this.el.composer.value = "";
  }

  #wire(onExpired, onNewChat) {
    const { socket, el } = this;
    const chatId = this.saved.chat_id;
    socket.addEventListener("welcome", (event) => {
      if (event.detail.max_message_chars) el.composer.maxLength = event.detail.max_message_chars;
      if (event.detail.chat) this.#setChat(event.detail.chat);
    });
    socket.addEventListener("chat.update", (event) => {
      if (event.detail.chat?.id === chatId) this.#setChat(event.detail.chat);
    });
    socket.addEventListener("queue.position", (event) => {
      if (event.detail.chat_id === chatId) this.#position(event.detail.position);
    });
    socket.addEventListener("message", (event) => {
      if (event.detail.chatId !== chatId) return;
      const message = event.detail.message;
      el.transcript.add(message);
      if (message.author_kind === "operator") {
        this.typing.hide();
        tellParent("activity");
      }
    });
    socket.addEventListener("typing", (event) => {
      const frame = event.detail;
      if (frame.chat_id === chatId && frame.author_kind === "operator") this.typing.show(frame.author_name, frame.typing);
    });
    socket.addEventListener("state", (event) => {
      const text = this.chat && ["ended", "closed"].includes(this.chat.state) ? "" : CONNECTION_TEXT[event.detail] ?? "";
      el.conn.textContent = text;
      el.conn.hidden = !text;
    });
    socket.addEventListener("unauthorized", () => onExpired());
    const options = { signal: this.listening.signal };
    el.composer.addEventListener("compose-input", (event) => this.signaller.input(event.detail.empty), options);
    el.composer.addEventListener("compose-send", (event) => this.#send(event.detail.body), options);
    el.end.addEventListener("click", () => this.#openConfirm(), options);
    el.confirmYes.addEventListener("click", () => this.#end(), options);
    el.confirmNo.addEventListener("click", () => this.#closeConfirm(), options);
    el.confirm.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      event.stopPropagation(); // framed: Esc here must not close the whole widget
      this.#closeConfirm();
    }, options);
    el.newChat.addEventListener("click", () => onNewChat(), options);
  }

  #setChat(chat) {
    this.chat = chat;
    this.el.section.dataset.state = chat.state;
    if (chat.state === "queued") {
      this.el.waiting.hidden = false;
      this.setStatus("Waiting for a librarian", "waiting");
      return;
    }
    this.el.waiting.hidden = true;
    if (chat.state === "active") {
      // after a transfer where the first librarian stayed: "Chatting with Ben and Ana"
      const names = [chat.claimed_by_name || "a librarian", ...(chat.participants ?? []).map((p) => p.nickname)];
      this.setStatus(`Chatting with ${names.join(" and ")}`, "online");
      return;
    }
    this.#ended();
  }

  #position(position) {
    this.el.position.textContent = `You're number ${position} in line`;
  }

  #ended() {
    if (!this.el.ended.hidden) return;
    // Focus in the parts that go away would be lost: give it to the ended notice (only
    // while this page has focus, so a framed chat never pulls focus off the library page).
    const active = document.activeElement;
    const refocus = document.hasFocus() &&
      (!active || active === document.body || this.el.compose.contains(active) || this.el.bar.contains(active));
    this.signaller.stop();
    this.typing.hide();
    this.el.composer.disabled = true; // nothing can be sent any more
    // A typed, unsent message stays readable (disabled) with a calm note; else the box goes.
    const unsent = Boolean(this.el.composer.value.trim());
    this.el.unsent.hidden = !unsent;
    this.el.compose.hidden = !unsent;
    this.el.bar.hidden = true; // nothing left to end; the connection no longer matters
    this.el.end.hidden = true;
    this.#closeConfirm(false);
    this.el.conn.hidden = true;
    this.el.ended.hidden = false;
    this.transcriptRequest.show(this.chat);
    this.rating.show(this.chat);
    this.setStatus("Chat ended", "ended");
    if (refocus) this.el.endedText.focus({ preventScroll: true });
    else announce("This chat has ended.");
    this.#showLastMessages();
    // Stay subscribed: the closing system message ("⟨name⟩ ended the chat.") follows.
  }

  /**
   * After the end the chat section scrolls as one column (transcript, then the cards):
   * scroll it so the final messages fill the top and the "ended" card starts below them.
   */
  #showLastMessages() {
    requestAnimationFrame(() => {
      const { section, ended } = this.el;
      const top = ended.getBoundingClientRect().top - section.getBoundingClientRect().top + section.scrollTop;
      section.scrollTop = Math.max(0, top - Math.round(section.clientHeight * 0.55));
    });
  }

  #send(body) {
    this.signaller.stop();
    const { cmid, done } = this.socket.send(this.saved.chat_id, body);
    this.el.transcript.addPending(cmid, body, this.saved.name || "You");
    this.el.transcript.scrollToEnd();
    done.then((ack) => this.el.transcript.acknowledge(cmid, ack), (error) => this.el.transcript.fail(cmid, error.message));
  }

  /** Swap End chat for the "End this chat?" question; focus goes to Keep chatting. */
  #openConfirm() {
    this.el.end.hidden = true;
    this.el.confirm.hidden = false;
    this.el.confirmNo.focus();
  }

  /** Back to the End chat button (focused, unless `refocus` is false). */
  #closeConfirm(refocus = true) {
    this.el.confirm.hidden = true;
    this.el.confirmYes.disabled = false;
    this.el.confirmNo.disabled = false;
    if (this.chat && ["ended", "closed"].includes(this.chat.state)) return;
    this.el.end.hidden = false;
    if (refocus) this.el.end.focus();
  }

  async #end() {
    this.el.confirmYes.disabled = true;
    this.el.confirmNo.disabled = true;
    try {
      this.#setChat(await this.socket.request({ type: "chat.end", chat_id: this.saved.chat_id }));
    } catch (error) {
      this.#closeConfirm();
      this.el.conn.textContent = `Couldn't end the chat: ${error.message}`;
      this.el.conn.hidden = false;
    }
  }
}
