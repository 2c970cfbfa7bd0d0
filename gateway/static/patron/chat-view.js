/**
 * The patron's conversation: waiting in line, chatting, ended.
 *
 * Connects with the patron token, subscribes to the chat, shows "You're number N in
 * line" from `queue.position`, the transcript, the librarian's typing, and a reply
 * box (Enter sends). Patrons can send while queued or active; after the chat ends
 * the reply box is disabled and "Start a new chat" appears.
 */
import { announce } from "../static/js/dom.js";
import { RefdeskSocket } from "../static/js/socket.js";
import { TypingIndicator, TypingSignaller } from "../static/js/typing.js";
import { tellParent } from "./embed.js";
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
      section: $("chat"), waiting: $("waiting"), position: document.querySelector("[data-testid=queue-position]"),
      transcript: $("transcript"), ended: $("ended"), compose: $("compose"), composer: $("composer"),
      end: $("end-chat"), newChat: $("new-chat"), conn: $("conn"),
    };
    this.typing = new TypingIndicator($("typing"));
    this.socket = new RefdeskSocket(saved.token);
    this.signaller = new TypingSignaller((typing) => this.socket.typing(saved.chat_id, typing));
    this.listening = new AbortController(); // removes the page-element listeners on destroy()
    this.#wire(onExpired, onNewChat);
  }

  /** Show the chat section and connect. */
  start() {
    this.el.section.hidden = false;
    this.el.waiting.hidden = false;
    this.el.ended.hidden = true;
    this.el.end.hidden = false;
    this.el.end.disabled = false;
    this.el.composer.disabled = false;
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
    el.end.addEventListener("click", () => this.#end(), options);
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
      this.setStatus(`Chatting with ${chat.claimed_by_name || "a librarian"}`, "online");
      return;
    }
    this.#ended();
  }

  #position(position) {
    this.el.position.textContent = `You're number ${position} in line`;
  }

  #ended() {
    if (!this.el.ended.hidden) return;
    this.signaller.stop();
    this.typing.hide();
    this.el.composer.disabled = true;
    this.el.end.hidden = true;
    this.el.conn.hidden = true;
    this.el.ended.hidden = false;
    this.setStatus("Chat ended", "ended");
    announce("This chat has ended.");
    // Stay subscribed: the closing system message ("The chat was ended by …") follows.
  }

  #send(body) {
    this.signaller.stop();
    const { cmid, done } = this.socket.send(this.saved.chat_id, body);
    this.el.transcript.addPending(cmid, body, this.saved.name || "You");
    this.el.transcript.scrollToEnd();
    done.then((ack) => this.el.transcript.acknowledge(cmid, ack), (error) => this.el.transcript.fail(cmid, error.message));
  }

  async #end() {
    this.el.end.disabled = true;
    try {
      this.#setChat(await this.socket.request({ type: "chat.end", chat_id: this.saved.chat_id }));
    } catch (error) {
      this.el.end.disabled = false;
      this.el.conn.textContent = error.message;
      this.el.conn.hidden = false;
    }
  }
}
