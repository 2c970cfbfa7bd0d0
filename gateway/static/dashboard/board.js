/**
 * The operator's view of chats: what the gateway's `board` frames and `chat.update`
 * events say, kept in one map by chat id. Fires `change` after every update.
 */

const OPEN_STATES = new Set(["queued", "active"]);

export class Board extends EventTarget {
  /** @param {string} operatorId the signed-in operator's id */
  constructor(operatorId) {
    super();
    this.operatorId = operatorId;
    /** @type {Map<string, Object>} chat id → ChatView */
    this.chats = new Map();
  }

  /**
   * Replace the state with a `board` frame's chats. My ended chats that the frame
   * leaves out are kept: their Reference Analytics form may still be open.
   */
  replace(chats) {
    const next = new Map(chats.map((chat) => [chat.id, chat]));
    for (const [id, chat] of this.chats) {
      if (!next.has(id) && this.isMine(chat) && chat.state === "ended") next.set(id, chat);
    }
    this.chats = next;
    this.#changed();
  }

  /**
   * Apply a `chat.update` (`event`: queued | claimed | ended | closed). Chats that
   * leave the board (closed, or ended and not mine) are dropped; listeners still get
   * the chat in the event's detail.
   */
  update(event, chat) {
    const keep = chat.state !== "closed" && (OPEN_STATES.has(chat.state) || this.isMine(chat));
    if (keep) this.chats.set(chat.id, chat);
    else this.chats.delete(chat.id);
    this.#changed({ event, chat });
  }

  /** Set one chat's latest view (e.g. from a request's reply). */
  put(chat) {
    this.update(chat.state, chat);
  }

  /** True when the chat is claimed by the signed-in operator. */
  isMine(chat) {
    return Boolean(chat.claimed_by) && chat.claimed_by === this.operatorId;
  }

  /** Queued chats, longest waiting first. */
  get queued() {
    return [...this.chats.values()]
      .filter((chat) => chat.state === "queued")
      .sort((a, b) => Date.parse(a.queued_at) - Date.parse(b.queued_at));
  }

  /** True when I stayed in the chat after transferring it (a participant, not its owner). */
  isParticipant(chat) {
    return (chat.participants ?? []).some((participant) => participant.operator_id === this.operatorId);
  }

  /**
   * My active and ended (not yet closed) chats, and the active chats I take part in
   * after transferring them, oldest claim first.
   */
  get mine() {
    return [...this.chats.values()]
      .filter((chat) => (this.isMine(chat) && (chat.state === "active" || chat.state === "ended"))
        || (chat.state === "active" && this.isParticipant(chat)))
      .sort((a, b) => Date.parse(a.claimed_at ?? a.queued_at) - Date.parse(b.claimed_at ?? b.queued_at));
  }

  #changed(detail = {}) {
    this.dispatchEvent(new CustomEvent("change", { detail }));
  }
}
