/**
 * Transfer in a chat pane: the Transfer button (owner, active chat, no transfer under
 * way) opening the Transfer dialog, and the status strip while a transfer is under
 * way — "Waiting for Ben to accept…", then "Ben accepted — the chat moves to them
 * when they claim it." — with Cancel transfer. Meanwhile the reply box is locked: in
 * LibraryH3lp typing to the patron silently took the chat back; here the sender
 * cancels first. A declined transfer says so and unlocks the reply box.
 *
 * For an operator who stayed in the chat after transferring it (a participant) the
 * strip says who owns the chat now, and the owner-only buttons (End Chat, Transfer,
 * Dismiss…) are hidden.
 *
 * Test ids: transfer-chat, transfer-status (data-state pending|accepted|declined|
 * participant|group), cancel-transfer.
 */
import { h, announce } from "../static/js/dom.js";
import { openTransferDialog } from "./transfer-dialog.js";

export class TransferControl {
  /**
   * @param {import("../static/js/socket.js").RefdeskSocket} socket
   * @param {Object} chat ChatView
   * @param {string} myId my operator id
   * @param {{composer: HTMLElement, ownerOnly: HTMLElement[], ending: HTMLButtonElement[]}} parts the
   *   pane's reply box (locked while my transfer is under way), the buttons only the owner
   *   has (hidden for a participant) and those that end the chat (disabled while my
   *   transfer is under way: cancel it first)
   */
  constructor(socket, chat, myId, { composer, ownerOnly, ending = [] }) {
    this.socket = socket;
    this.chat = chat;
    this.myId = myId;
    this.composer = composer;
    this.ownerOnly = ownerOnly;
    this.ending = ending;
    this.declined = null; // the text of the last "declined" notice, until a new transfer
    this.button = h("button", { type: "button", class: "btn btn--small", "data-testid": "transfer-chat", text: "Transfer" });
    this.button.setAttribute("aria-label", `Transfer the chat with ${chat.patron_name}`);
    this.button.addEventListener("click", () => this.#open());
    this.text = h("span", { class: "transfer-status__text" });
    this.cancelButton = h("button", { type: "button", class: "btn btn--small", "data-testid": "cancel-transfer", text: "Cancel transfer" });
    this.cancelButton.addEventListener("click", () => this.#cancel());
    this.status = h("div", { class: "transfer-status", role: "status", "data-testid": "transfer-status", hidden: true },
      this.text, this.cancelButton);
    this.onUpdate = (event) => {
      const { chat: changed, event: kind, transfer } = event.detail;
      if (changed?.id !== this.chat.id || !transfer) return;
      if (kind === "transfer_declined" && transfer.from_operator_id === this.myId) {
        this.declined = `${targetOf(transfer)} declined the transfer. You can write to ${changed.patron_name} again.`;
        announce(this.declined);
      } else if (kind === "transfer_accepted" && transfer.from_operator_id === this.myId) {
        announce(`${targetOf(transfer)} accepted the transfer of the chat with ${changed.patron_name}.`);
      }
      this.update(changed);
    };
    socket.addEventListener("chat.update", this.onUpdate);
    this.update(chat);
  }

  /** Apply the chat's latest view. */
  update(chat) {
    this.chat = chat;
    const active = chat.state === "active";
    const owner = chat.claimed_by === this.myId;
    const participant = !owner && (chat.participants ?? []).some((p) => p.operator_id === this.myId);
    const transfer = active ? chat.transfer : null;
    const mine = Boolean(transfer && transfer.from_operator_id === this.myId);
    if (transfer) this.declined = null;
    this.button.hidden = !active || !owner || Boolean(transfer);
    for (const part of this.ownerOnly) if (participant) part.hidden = true;
    if (active && (owner || participant)) this.composer.disabled = mine;
    if (active && owner) for (const button of this.ending) button.disabled = mine;
    this.cancelButton.hidden = !mine;
    this.cancelButton.disabled = false;
    let state = null;
    if (mine && transfer.state === "pending") {
      state = "pending";
      this.text.textContent = `Transfer to ${targetOf(transfer)} requested — waiting for them to accept; reply box locked.`;
    } else if (mine) {
      state = "accepted";
      this.text.textContent = `${targetOf(transfer)} accepted — the chat moves to them when they claim it.`;
    } else if (active && participant) {
      state = "participant";
      this.text.textContent = `You stayed in this chat; ${chat.claimed_by_name || "a colleague"} owns it now and ends it.`;
    } else if (active && owner && this.declined) {
      state = "declined";
      this.text.textContent = this.declined;
    } else if (active && owner && (chat.participants ?? []).length) {
      state = "group";
      const names = chat.participants.map((p) => p.nickname).join(" and ");
      this.text.textContent = `${names} stayed in this chat with you (group chat); you own it and end it.`;
    }
    this.status.hidden = state === null;
    if (state) this.status.dataset.state = state;
  }

  destroy() {
    this.socket.removeEventListener("chat.update", this.onUpdate);
  }

  async #open() {
    const changed = await openTransferDialog(this.chat, this.socket, this.myId);
    if (changed) {
      this.update(changed);
      announce(`Transfer requested. Waiting for ${targetOf(changed.transfer)} to accept.`);
      this.cancelButton.focus();
    } else if (this.button.isConnected && !this.button.hidden) {
      this.button.focus();
    }
  }

  async #cancel() {
    this.cancelButton.disabled = true;
    try {
      const changed = await this.socket.request({ type: "transfer.cancel", chat_id: this.chat.id, transfer_id: this.chat.transfer?.id });
      this.update(changed);
      announce(`Transfer cancelled. You can write to ${changed.patron_name} again.`);
      this.composer.focus();
    } catch (error) {
      this.cancelButton.disabled = false;
      this.text.textContent = error.message;
    }
  }
}

/** The target as people read it: "Ben" or "Archives". */
export function targetOf(transfer) {
  return transfer?.to_operator_name || transfer?.to_department_name || "your colleague";
}
