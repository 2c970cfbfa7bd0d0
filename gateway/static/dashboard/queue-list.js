/**
 * The "Waiting patrons" list: one row per queued chat with the patron, question,
 * department, a live waiting time and a Claim Chat button. A chat claimed by someone
 * else shows "Claimed by ⟨name⟩" for a moment before it leaves the list.
 *
 * Each row also has Dismiss (for unanswerable or spam chats: a dialog asks for the
 * note); a chat dismissed by someone else shows "Dismissed by ⟨name⟩" for a moment.
 *
 * Test ids: chat-row (data-chat-id), claim-button, dismiss-button, waiting-time, claimed-by.
 */
import { h, announce } from "../static/js/dom.js";
import { formatElapsed, secondsSince } from "../static/js/time.js";

const LEAVE_AFTER_MS = 3500;

export class QueueList {
  /**
   * @param {{list: HTMLElement, empty: HTMLElement, hint: HTMLElement, count: HTMLElement}} elements
   * @param {import("./board.js").Board} board
   * @param {(chat: Object) => Promise<void>} claim claims a chat; rejects with a SocketError
   * @param {(chat: Object) => Promise<boolean>} [dismiss] asks for a note and dismisses; true once dismissed
   */
  constructor(elements, board, claim, dismiss = null) {
    this.el = elements;
    this.board = board;
    this.claim = claim;
    this.dismiss = dismiss;
    this.rows = new Map(); // chat id → {row, chat, leaving}
    this.online = false;
    this.ticker = setInterval(() => this.#tick(), 1000);
  }

  /**
   * Enable Claim buttons only while Online. Offline operators are not sent the queue,
   * so the offline hint replaces the "No patrons waiting" line rather than joining it.
   */
  setOnline(online) {
    this.online = online;
    this.el.hint.hidden = online;
    for (const { row, leaving } of this.rows.values()) {
      if (!leaving) row.querySelector("[data-testid=claim-button]").disabled = !online;
      // Dismiss stays available Offline: clearing spam needs no claim.
    }
    this.#summarise();
  }

  /** Bring the rows in line with the board; `changed` is the chat of a chat.update, if any. */
  render(changed = null) {
    const queued = this.board.queued;
    const ids = new Set(queued.map((chat) => chat.id));
    for (const [id, entry] of this.rows) {
      if (ids.has(id) || entry.leaving) continue;
      const now = this.board.chats.get(id) ?? (changed?.id === id ? changed : null);
      if (now && now.state === "active" && !this.board.isMine(now)) this.#leave(id, `Claimed by ${now.claimed_by_name || "another librarian"}`);
      else if (now && now.state === "ended") this.#leave(id, "The patron left.");
      else if (now && now.dismissed_by && now.dismissed_by !== this.board.operatorId) this.#leave(id, `Dismissed by ${now.dismissed_by_name || "another librarian"}`);
      else this.#remove(id);
    }
    let previous = null;
    for (const chat of queued) {
      let entry = this.rows.get(chat.id);
      if (!entry) {
        entry = { row: this.#row(chat), chat, leaving: false };
        this.rows.set(chat.id, entry);
        announce(`New chat from ${chat.patron_name} in ${chat.department_name}.`);
      }
      entry.chat = chat;
      const place = previous ? previous.nextSibling : this.el.list.firstChild;
      if (entry.row !== place) this.el.list.insertBefore(entry.row, place);
      previous = entry.row;
    }
    this.#summarise();
  }

  destroy() {
    clearInterval(this.ticker);
    this.rows.clear();
    this.el.list.replaceChildren();
    this.#summarise();
  }

  #row(chat) {
    const button = h("button", { type: "button", class: "btn btn--primary btn--small", "data-testid": "claim-button", text: "Claim Chat", disabled: !this.online });
    button.setAttribute("aria-label", `Claim chat with ${chat.patron_name}`);
    const dismiss = this.dismiss ? h("button", { type: "button", class: "btn btn--small chat-row__dismiss", "data-testid": "dismiss-button", text: "Dismiss" }) : null;
    dismiss?.setAttribute("aria-label", `Dismiss chat from ${chat.patron_name}`);
    dismiss?.addEventListener("click", () => this.#dismiss(chat.id, dismiss));
    const row = h("li", { class: "chat-row", dataset: { testid: "chat-row", chatId: chat.id } },
      h("div", { class: "chat-row__head" },
        h("span", { class: "chat-row__patron", text: chat.patron_name }),
        h("span", { class: "badge", text: chat.department_name })),
      h("p", { class: "chat-row__question", text: chat.question }),
      h("div", { class: "chat-row__foot" },
        h("span", { class: "chat-row__wait", "data-testid": "waiting-time", text: waitingText(chat) }),
        h("span", { class: "chat-row__actions" }, dismiss, button)),
      h("p", { class: "chat-row__note", role: "status", "data-testid": "claimed-by", hidden: true }));
    button.addEventListener("click", () => this.#claim(chat.id, button));
    return row;
  }

  async #claim(id, button) {
    const entry = this.rows.get(id);
    if (!entry || entry.leaving) return;
    button.disabled = true;
    button.textContent = "Claiming…";
    try {
      await this.claim(entry.chat);
      this.#remove(id);
    } catch (error) {
      if (error.code === "409") {
        this.#leave(id, error.message);
      } else {
        button.disabled = !this.online;
        button.textContent = "Claim Chat";
        this.#note(entry.row, error.message);
      }
    }
  }

  async #dismiss(id, button) {
    const entry = this.rows.get(id);
    if (!entry || entry.leaving) return;
    const dismissed = await this.dismiss(entry.chat);
    if (dismissed) this.#remove(id);
    else if (button.isConnected) button.focus();
  }

  #leave(id, text) {
    const entry = this.rows.get(id);
    if (!entry || entry.leaving) return;
    entry.leaving = true;
    entry.row.classList.add("chat-row--leaving");
    entry.row.querySelector("[data-testid=claim-button]").remove();
    entry.row.querySelector("[data-testid=dismiss-button]")?.remove();
    this.#note(entry.row, text);
    setTimeout(() => this.#remove(id), LEAVE_AFTER_MS);
    this.#summarise();
  }

  #note(row, text) {
    const note = row.querySelector("[data-testid=claimed-by]");
    note.textContent = text;
    note.hidden = false;
  }

  #remove(id) {
    this.rows.get(id)?.row.remove();
    this.rows.delete(id);
    this.#summarise();
  }

  #tick() {
    for (const { row, chat, leaving } of this.rows.values()) {
      if (!leaving) row.querySelector("[data-testid=waiting-time]").textContent = waitingText(chat);
    }
  }

  #summarise() {
    const waiting = [...this.rows.values()].filter((entry) => !entry.leaving).length;
    // "No patrons waiting" is only true of an Online operator's list (Offline: see the hint).
    this.el.empty.hidden = this.rows.size > 0 || !this.online;
    this.el.count.textContent = waiting ? String(waiting) : "";
    this.el.count.hidden = waiting === 0;
    document.title = waiting ? `(${waiting}) Patron Chats · refdesk` : "refdesk · Staff dashboard";
  }
}

function waitingText(chat) {
  return `waiting ${formatElapsed(secondsSince(chat.queued_at))}`;
}
