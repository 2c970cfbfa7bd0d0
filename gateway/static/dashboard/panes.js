/**
 * The chat panes area: one {@link ChatPane} per chat claimed by me that is active or
 * ended (Reference Analytics pending). A pane leaves when its chat is closed.
 */
import { ChatPane } from "./chat-pane.js";

export class Panes {
  /**
   * @param {{grid: HTMLElement, empty: HTMLElement}} elements
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

  /** Open panes for new chats of mine, update the others, drop closed ones. */
  render(changed = null) {
    for (const chat of this.board.mine) {
      const pane = this.panes.get(chat.id);
      if (pane) pane.update(chat);
      else this.#open(chat);
    }
    if (changed?.state === "closed") this.#drop(changed.id);
    this.el.empty.hidden = this.panes.size > 0;
    this.el.grid.dataset.count = String(Math.min(this.panes.size, 3));
  }

  /** Move keyboard focus to a chat's reply box. */
  focus(chatId) {
    this.panes.get(chatId)?.focus();
  }

  destroy() {
    for (const id of [...this.panes.keys()]) this.#drop(id);
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
    this.panes.get(chatId)?.destroy();
    this.panes.delete(chatId);
    this.el.empty.hidden = this.panes.size > 0;
    this.el.grid.dataset.count = String(Math.min(this.panes.size, 3));
  }
}
