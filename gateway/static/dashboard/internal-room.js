/**
 * One open Internal Chat room: its title, "Load earlier", the transcript and the
 * reply box. The latest page of messages loads when the room is first shown; live
 * messages are added as they arrive (the transcript ignores a seq it already shows).
 *
 * Test ids: internal-room-view (data-room-id), internal-room-title, load-earlier,
 * message (see transcript.js), reply-box, send-button.
 */
import { h, uid } from "../static/js/dom.js";
import "../static/js/transcript.js";
import "../static/js/composer.js";

const PAGE = 50;

export class RoomPane {
  /**
   * @param {Object} room the RoomView
   * @param {{socket: import("../static/js/socket.js").RefdeskSocket, me: Object, title: string}} deps
   */
  constructor(room, { socket, me, title }) {
    this.room = room;
    this.socket = socket;
    this.me = me;
    this.loaded = false;
    this.lowest = null; // the lowest seq shown
    const titleId = uid("room-title");
    this.title = h("h3", { id: titleId, class: "room__title", "data-testid": "internal-room-title", text: title });
    this.subtitle = h("p", { class: "room__subtitle", "data-testid": "internal-room-subtitle" });
    this.earlier = h("button", { type: "button", class: "btn btn--small room__earlier", "data-testid": "load-earlier",
      text: "Load earlier messages", hidden: true });
    this.earlier.addEventListener("click", () => this.loadEarlier());
    this.status = h("p", { class: "room__status", role: "status" });
    this.transcript = h("rd-transcript", { viewer: "operator", "aria-label": `Messages in ${title}` });
    this.empty = h("p", { class: "room__empty", text: "No messages yet. Say hello!" });
    this.composer = h("rd-composer", { label: `Message ${title}`, placeholder: `Message ${title}…` });
    if (socket.welcome?.max_message_chars) this.composer.maxLength = socket.welcome.max_message_chars;
    this.composer.addEventListener("compose-send", (event) => this.#send(event.detail.body));
    this.element = h("section", { class: "room", "aria-labelledby": titleId,
      dataset: { testid: "internal-room-view", roomId: room.id } },
      h("header", { class: "room__head" }, this.title, this.subtitle),
      h("div", { class: "room__log" }, this.earlier, this.status, this.empty, this.transcript),
      this.composer);
  }

  /** Rename (e.g. once the staff list names the other operator); `subtitle`: e.g. their status. */
  setTitle(title, subtitle = "") {
    this.subtitle.textContent = subtitle;
    this.subtitle.hidden = !subtitle;
    if (this.title.textContent === title) return;
    this.title.textContent = title;
    this.transcript.setAttribute("aria-label", `Messages in ${title}`);
    this.composer.setPrompt(`Message ${title}`, `Message ${title}…`);
  }

  /** Show a stored message (live or replayed). */
  add(message) {
    this.transcript.add(entry(message, this.me.id));
    this.empty.hidden = true;
    if (this.lowest === null || message.seq < this.lowest) this.lowest = message.seq;
  }

  /** Load the latest page the first time the room is shown. */
  async open() {
    if (this.loaded) return;
    this.loaded = true;
    await this.#page(this.room.top_seq + 1, false);
    this.transcript.scrollToEnd();
  }

  /** "Load earlier": the page before the oldest message shown, keeping the view still. */
  async loadEarlier() {
    if (this.lowest === null || this.lowest <= 1) return;
    const before = this.transcript.scrollHeight - this.transcript.scrollTop;
    await this.#page(this.lowest, true);
    this.transcript.scrollTop = this.transcript.scrollHeight - before;
  }

  focus() {
    this.composer.focus();
  }

  async #page(beforeSeq, keepFocus) {
    if (beforeSeq < 2) {
      this.empty.hidden = this.lowest !== null;
      return;
    }
    this.earlier.disabled = true;
    this.status.textContent = "Loading…";
    try {
      const page = await this.socket.request({ type: "internal.earlier", room_id: this.room.id, before_seq: beforeSeq, limit: PAGE },
        { waitForOpen: true });
      for (const message of page.messages ?? []) this.add(message);
      this.earlier.hidden = !page.more;
      this.status.textContent = "";
      if (keepFocus && !page.more) this.transcript.focus(); // the button went away: keep focus nearby
    } catch (error) {
      this.status.textContent = `Could not load messages: ${error.message}`;
      this.loaded = this.lowest !== null;
    } finally {
      this.earlier.disabled = false;
      this.empty.hidden = this.lowest !== null;
    }
  }

  #send(body) {
    const { cmid, done } = this.socket.sendKept({ type: "internal.send", room_id: this.room.id, body });
    this.empty.hidden = true;
    this.transcript.addPending(cmid, body, this.me.nickname || this.me.full_name);
    this.transcript.scrollToEnd();
    done.then((ack) => this.transcript.acknowledge(cmid, ack), (error) => this.transcript.fail(cmid, error.message));
  }
}

/** An internal message as the transcript shows it: mine as "operator", a colleague's as "colleague". */
function entry(message, myId) {
  return { ...message, author_kind: message.author_id === myId ? "operator" : "colleague" };
}
