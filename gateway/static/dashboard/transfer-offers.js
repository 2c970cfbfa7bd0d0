/**
 * "Transfers to you", above the waiting patrons: one card per chat whose open transfer
 * is for me (I am the target operator, or I monitor the target department).
 *
 * - Pending: "Transfer from Ana", the patron and question, Ana's note, the
 *   conversation so far (the offer's preview; after a reload it is asked for again
 *   with `transfer.preview`) and Accept / Decline. A new offer chimes once and is
 *   announced.
 * - Accepted: the same card with Claim Chat — the usual atomic claim; for a
 *   department everyone monitoring it sees it and the first claim wins (the others
 *   read "Already claimed by ⟨name⟩").
 *
 * Test ids: transfer-offers, transfer-offer (data-chat-id, data-state), transfer-note,
 * transfer-preview, accept-transfer, decline-transfer, claim-transfer, transfer-offer-note.
 */
import { h, announce } from "../static/js/dom.js";
import { formatClock } from "../static/js/time.js";
import { targetOf } from "./transfer-control.js";

const LEAVE_AFTER_MS = 3500;

export class TransferOffers {
  /**
   * @param {HTMLElement} anchor the element the offers go before (the waiting list)
   * @param {import("./board.js").Board} board
   * @param {import("../static/js/socket.js").RefdeskSocket} socket
   * @param {{profile: () => Object, alerts: import("./alerts.js").Alerts, claim: (chat: Object) => Promise<void>}} deps
   */
  constructor(anchor, board, socket, { profile, alerts, claim }) {
    this.board = board;
    this.socket = socket;
    this.profile = profile;
    this.alerts = alerts;
    this.claim = claim;
    this.cards = new Map(); // chat id → {card, transfer id, state, leaving}
    this.previews = new Map(); // transfer id → messages (null while being fetched)
    this.list = h("ul", { class: "transfer-offers__list" });
    this.element = h("section", { class: "transfer-offers", "aria-labelledby": "transfer-offers-title", "data-testid": "transfer-offers", hidden: true },
      h("h2", { id: "transfer-offers-title", class: "transfer-offers__title", text: "Transfers to you" }),
      this.list);
    anchor.before(this.element);
    this.onOffer = (event) => {
      const { chat, transfer, preview } = event.detail;
      if (!chat || !transfer) return;
      this.previews.set(transfer.id, preview ?? []);
      this.board.put(chat);
    };
    this.onChange = () => this.render();
    socket.addEventListener("transfer.offer", this.onOffer);
    board.addEventListener("change", this.onChange);
  }

  /** True when the chat's open transfer is offered to me. */
  isOfferedToMe(chat) {
    const transfer = chat.transfer;
    const me = this.profile();
    if (!transfer || chat.state !== "active" || !me || chat.claimed_by === me.id) return false;
    if (transfer.to_operator_id) return transfer.to_operator_id === me.id;
    return me.status === "online" && (me.monitored ?? []).includes(transfer.to_department_id);
  }

  /** Bring the cards in line with the board. */
  render() {
    const offered = [...this.board.chats.values()].filter((chat) => this.isOfferedToMe(chat))
      .sort((a, b) => Date.parse(a.transfer.requested_at) - Date.parse(b.transfer.requested_at));
    const ids = new Set(offered.map((chat) => chat.id));
    for (const [id, entry] of this.cards) {
      if (!ids.has(id) && !entry.leaving) this.#leave(id, this.board.chats.get(id));
    }
    for (const chat of offered) {
      const entry = this.cards.get(chat.id);
      if (entry && entry.transferId === chat.transfer.id && entry.state === chat.transfer.state && !entry.leaving) continue;
      const fresh = !entry || entry.transferId !== chat.transfer.id;
      const card = this.#card(chat);
      if (entry) entry.card.replaceWith(card);
      else this.list.append(card);
      this.cards.set(chat.id, { card, transferId: chat.transfer.id, state: chat.transfer.state, count: chat.transfer_count ?? 0, leaving: false });
      if (fresh && chat.transfer.state === "pending") {
        this.alerts.chime();
        announce(`${chat.transfer.from_operator_name} wants to transfer the chat with ${chat.patron_name} to ${chat.transfer.to_operator_id ? "you" : chat.transfer.to_department_name}.`);
      }
    }
    this.element.hidden = this.cards.size === 0;
  }

  destroy() {
    this.socket.removeEventListener("transfer.offer", this.onOffer);
    this.board.removeEventListener("change", this.onChange);
    this.element.remove();
  }

  #card(chat) {
    const transfer = chat.transfer;
    const accepted = transfer.state === "accepted";
    const to = transfer.to_operator_id ? "to you" : `to ${transfer.to_department_name}`;
    const preview = h("ol", { class: "transfer-offer__preview", "data-testid": "transfer-preview" });
    this.#fillPreview(preview, chat);
    const buttons = accepted
      ? [this.#button("Claim Chat", "claim-transfer", "btn--primary", `Claim the transferred chat with ${chat.patron_name}`, (b) => this.#claim(chat, b))]
      : [this.#button("Accept", "accept-transfer", "btn--primary", `Accept the transfer of the chat with ${chat.patron_name}`, (b) => this.#answer(chat, "transfer.accept", b)),
        this.#button("Decline", "decline-transfer", "", `Decline the transfer of the chat with ${chat.patron_name}`, (b) => this.#answer(chat, "transfer.decline", b))];
    return h("li", { class: "transfer-offer", dataset: { testid: "transfer-offer", chatId: chat.id, state: transfer.state } },
      h("div", { class: "chat-row__head" },
        h("span", { class: "transfer-offer__from", text: `Transfer from ${transfer.from_operator_name}` }),
        h("span", { class: "badge", text: accepted ? "Accepted — claim it" : to })),
      h("p", { class: "chat-row__patron", text: chat.patron_name }),
      h("p", { class: "chat-row__question", text: chat.question }),
      transfer.note ? h("blockquote", { class: "transfer-offer__note", "data-testid": "transfer-offer-note" },
        h("span", { class: "transfer-offer__note-label", text: `${transfer.from_operator_name}'s note` }), transfer.note) : null,
      h("details", { class: "transfer-offer__conversation", open: !accepted },
        h("summary", { text: "Conversation so far" }), preview),
      h("div", { class: "chat-row__foot" },
        h("span", { class: "chat-row__wait", text: `asked ${formatClock(transfer.requested_at)}` }),
        h("span", { class: "chat-row__actions" }, ...buttons)),
      h("p", { class: "chat-row__note", role: "status", "data-testid": "transfer-offer-status", hidden: true }));
  }

  #button(text, testid, kind, label, onClick) {
    const button = h("button", { type: "button", class: `btn btn--small ${kind}`.trim(), "data-testid": testid, text });
    button.setAttribute("aria-label", label);
    button.addEventListener("click", () => onClick(button));
    return button;
  }

  #fillPreview(list, chat) {
    const messages = this.previews.get(chat.transfer.id);
    if (messages === undefined) {
      this.previews.set(chat.transfer.id, null);
      this.socket.request({ type: "transfer.preview", chat_id: chat.id }, { waitForOpen: true }).then((data) => {
        this.previews.set(chat.transfer.id, data.preview ?? []);
        const card = this.cards.get(chat.id)?.card;
        const target = card?.querySelector("[data-testid=transfer-preview]");
        if (target) this.#showPreview(target, data.preview ?? []);
      }, () => this.previews.delete(chat.transfer.id));
      list.append(h("li", { class: "transfer-offer__loading", text: "Loading the conversation…" }));
      return;
    }
    if (messages !== null) this.#showPreview(list, messages);
    else list.append(h("li", { class: "transfer-offer__loading", text: "Loading the conversation…" }));
  }

  #showPreview(list, messages) {
    if (!messages.length) {
      list.replaceChildren(h("li", { class: "transfer-offer__loading", text: "No messages yet." }));
      return;
    }
    list.replaceChildren(...messages.map((message) => h("li", {
      class: `transfer-offer__message transfer-offer__message--${message.internal ? "note" : message.author_kind}`,
    }, h("span", { class: "transfer-offer__author", text: `${message.internal ? "Internal note · " : ""}${message.author_kind === "system" ? "" : message.author_name}` }),
    h("span", { class: "transfer-offer__body", text: message.body }))));
  }

  async #answer(chat, type, button) {
    const card = button.closest("li");
    for (const b of card.querySelectorAll("button")) b.disabled = true;
    try {
      const changed = await this.socket.request({ type, chat_id: chat.id, transfer_id: chat.transfer.id });
      if (type === "transfer.accept") announce(`Transfer accepted. Claim the chat with ${chat.patron_name} when you're ready.`);
      else announce(`Transfer declined. ${chat.transfer.from_operator_name} keeps the chat.`);
      this.board.put(changed);
      this.render();
      this.cards.get(chat.id)?.card.querySelector("button")?.focus();
    } catch (error) {
      for (const b of card.querySelectorAll("button")) b.disabled = false;
      this.#note(card, error.message);
    }
  }

  async #claim(chat, button) {
    button.disabled = true;
    button.textContent = "Claiming…";
    try {
      await this.claim(chat);
      this.#remove(chat.id);
    } catch (error) {
      if (error.code === "409") {
        this.#leave(chat.id, null, error.message);
      } else {
        button.disabled = false;
        button.textContent = "Claim Chat";
        this.#note(button.closest("li"), error.message);
      }
    }
  }

  #leave(id, now, text = null) {
    const entry = this.cards.get(id);
    if (!entry) return;
    const why = text ?? leavingReason(now, entry, this.profile()?.id);
    if (!why) {
      this.#remove(id);
      return;
    }
    entry.leaving = true;
    entry.card.classList.add("chat-row--leaving");
    for (const b of entry.card.querySelectorAll("button")) b.remove();
    this.#note(entry.card, why);
    setTimeout(() => this.#remove(id), LEAVE_AFTER_MS);
  }

  #note(card, text) {
    const note = card.querySelector("[data-testid=transfer-offer-status]");
    note.textContent = text;
    note.hidden = false;
  }

  #remove(id) {
    this.cards.get(id)?.card.remove();
    this.cards.delete(id);
    this.element.hidden = this.cards.size === 0;
  }
}

/** Why an offer card leaves (null: it became my chat, nothing to say). */
function leavingReason(now, entry, myId) {
  if (!now || now.state !== "active") return "The patron left.";
  if (now.claimed_by === myId) return null;
  if ((now.transfer_count ?? 0) > entry.count) return `Claimed by ${now.claimed_by_name || "a colleague"}.`;
  if (now.transfer) return `Now a transfer to ${targetOf(now.transfer)}.`;
  return "This transfer was cancelled or declined.";
}
