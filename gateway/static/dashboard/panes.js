/**
 * The chat panes area: one {@link ChatPane} per chat claimed by me that is active or
 * ended (Reference Analytics pending). A pane leaves when its chat is closed; the area
 * then scrolls back to the top, and when the focus was in that pane it moves to the
 * first remaining pane (or, with none left, to the "Waiting patrons" heading).
 */
import { announce } from "../static/js/dom.js";
import { ChatPane } from "./chat-pane.js";

export class Panes {
  /**
   * @param {{scroller: HTMLElement, grid: HTMLElement, empty: HTMLElement, fallback: HTMLElement}} elements
   *   the scrolling panes area, the grid of panes, the "Chats you claim open here" line
   *   and where focus goes when the last pane closes
   * @param {import("./board.js").Board} board
   * @param {import("../static/js/socket.js").RefdeskSocket} socket
   * @param {Object} operator OperatorProfile (for my display name)
   */
  constructor(elements, board, socket, operator) {
    this.el = elements;
    this.board = board;
    this.socket = socket;
    this.operator = operator;
    this.panes = new Map(); // chat id → ChatPane
  }

  /**
   * Open panes for new chats of mine, update the others, drop closed ones and those
   * no longer mine (transferred to a colleague, and I left).
   */
  render(changed = null) {
    const mine = this.board.mine;
    for (const chat of mine) {
      const pane = this.panes.get(chat.id);
      if (pane) pane.update(chat);
      else this.#open(chat);
    }
    if (changed?.state === "closed") this.#drop(changed.id);
    const kept = new Set(mine.map((chat) => chat.id));
    for (const id of [...this.panes.keys()]) {
      if (kept.has(id)) continue;
      const now = this.board.chats.get(id);
      if (now?.state === "active") announce(`${now.claimed_by_name || "A colleague"} has the chat with ${now.patron_name} now.`);
      this.#drop(id);
    }
    this.el.empty.hidden = this.panes.size > 0;
    this.el.grid.dataset.count = String(Math.min(this.panes.size, 3));
  }

  /** Move keyboard focus into a chat's pane (its reply box, or its RA form once ended). */
  focus(chatId) {
    this.panes.get(chatId)?.focus();
  }

  destroy() {
    for (const pane of this.panes.values()) pane.destroy();
    this.panes.clear();
  }

  #open(chat) {
    const pane = new ChatPane(chat, {
      socket: this.socket,
      operator: this.operator,
      onClosed: (closed) => this.board.put(closed),
    });
    this.panes.set(chat.id, pane);
    this.el.grid.append(pane.element);
  }

  #drop(chatId) {
    const pane = this.panes.get(chatId);
    if (!pane) return;
    // Close Chat is disabled while it works, which may already have dropped the focus.
    const hadFocus = pane.hasFocus || document.activeElement === document.body;
    pane.destroy();
    this.panes.delete(chatId);
    // Whatever was scrolled to has moved: start again from the oldest chats.
    this.el.scroller.scrollTo({ top: 0 });
    if (!hadFocus) return;
    const [first] = this.panes.values();
    if (first) first.focus();
    else this.el.fallback.focus();
  }
}
