/**
 * The websocket client for the gateway's `/ws` (see docs/protocol.md).
 *
 * - `hello` with the token is the first frame; the connection counts as open once
 *   `welcome` arrives.
 * - `request(frame)` adds a `ref` and resolves with the `reply` frame's `data`, or
 *   rejects with a {@link SocketError} (`code` "400"…"503", or "offline"/"timeout").
 * - An application `ping` every `heartbeat_seconds` (25 s by default); a connection
 *   that stays silent for 2.5 heartbeats is dropped and reopened.
 * - Reconnects with exponential backoff and jitter, then re-sends `chat.subscribe`
 *   for each subscribed chat with the highest seq it has without gaps.
 * - `message` events are de-duplicated by seq per chat (live frames and `history`
 *   both feed them). A patron never receives internal notes, so their seqs have
 *   gaps: a `history` frame's `top_seq` marks everything up to it as covered, so a
 *   reconnect never asks for the gap again.
 * - `send()` keeps a message until it is acknowledged and retries it with the same
 *   `cmid` after a timeout or a reconnect.
 *
 * Events (CustomEvent, frame or data in `detail`): `state` ("connecting" | "open" |
 * "reconnecting" | "closed"), `welcome`, `message` ({chatId, message}), `board`,
 * `chat.update`, `queue.position`, `typing`, `servererror`, `unauthorized`.
 */

const DEFAULT_HEARTBEAT_SECONDS = 25;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_SEND_ATTEMPTS = 6;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const AUTH_FAILED = 4001;

/** A failed request: `code` is the gateway's error code or "offline" / "timeout". */
export class SocketError extends Error {
  constructor(code, message) {
    super(message);
    this.code = String(code);
  }
}

/** A new client message id (a random UUID). */
export function newCmid() {
  return crypto.randomUUID();
}

/** The gateway's websocket URL on the page's own origin. */
export function defaultSocketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/** Per-chat record of the message seqs already delivered. */
class SeqTracker {
  constructor() {
    this.seen = new Set();
    this.contiguous = 0; // highest seq n such that 1..n were all seen
  }

  /** Record `seq`; false when it was already seen. */
  add(seq) {
    if (this.seen.has(seq) || seq <= this.contiguous) return false;
    this.seen.add(seq);
    this.#advance();
    return true;
  }

  /**
   * Everything up to `seq` has been delivered or is not ours to see (a patron's
   * history skips internal notes, leaving gaps): move `contiguous` past the gaps, so
   * a reconnect asks only for what came after.
   */
  coverTo(seq) {
    if (!(seq > this.contiguous)) return;
    this.contiguous = seq;
    for (const known of this.seen) if (known <= seq) this.seen.delete(known);
    this.#advance();
  }

  #advance() {
    while (this.seen.has(this.contiguous + 1)) {
      this.contiguous += 1;
      this.seen.delete(this.contiguous);
    }
  }
}

export class RefdeskSocket extends EventTarget {
  #token;
  #url;
  #ws = null;
  #state = "idle";
  #attempt = 0;
  #refCounter = 0;
  #pending = new Map(); // ref → {resolve, reject, timer}
  #chats = new Map(); // chat id → SeqTracker
  #subscribed = new Set(); // chat ids to (re)subscribe
  #outbox = new Map(); // cmid → {frame, resolve, reject, attempts, inFlight}
  #pingTimer = null;
  #reconnectTimer = null;
  #lastFrameAt = 0;
  #heartbeatMs = DEFAULT_HEARTBEAT_SECONDS * 1000;
  #onOnline = () => { if (this.#state === "reconnecting") this.#connectNow(); };

  /** The last `welcome` frame (role, operator/chat, max_message_chars …) or null. */
  welcome = null;

  /**
   * @param {string} token operator or patron token, sent in `hello`
   * @param {{url?: string}} [options]
   */
  constructor(token, { url = defaultSocketUrl() } = {}) {
    super();
    this.#token = token;
    this.#url = url;
  }

  /** "idle" | "connecting" | "open" | "reconnecting" | "closed". */
  get state() {
    return this.#state;
  }

  /** Open the connection (and keep it open until `stop()`). */
  start() {
    if (this.#state !== "idle") return;
    window.addEventListener("online", this.#onOnline);
    this.#connectNow();
  }

  /** Close for good: no reconnect; pending requests and sends are rejected. */
  stop() {
    if (this.#state === "closed") return;
    this.#setState("closed");
    window.removeEventListener("online", this.#onOnline);
    clearTimeout(this.#reconnectTimer);
    this.#teardown("Disconnected.");
    for (const entry of this.#outbox.values()) entry.reject(new SocketError("offline", "Not sent: disconnected."));
    this.#outbox.clear();
  }

  /**
   * Send a frame that expects a `reply`.
   * @param {Object} frame e.g. {type: "chat.claim", chat_id}
   * @param {{timeoutMs?: number, waitForOpen?: boolean}} [options] `waitForOpen`: while
   *   (re)connecting, wait for the connection (within the timeout) instead of failing
   * @returns {Promise<Object>} the reply's `data`
   * @throws {SocketError} the gateway's `error` frame, "offline" or "timeout"
   */
  request(frame, { timeoutMs = REQUEST_TIMEOUT_MS, waitForOpen = false } = {}) {
    if (this.#state !== "open") {
      const connecting = this.#state === "connecting" || this.#state === "reconnecting";
      if (waitForOpen && connecting) return this.#whenOpen(timeoutMs).then(() => this.request(frame, { timeoutMs }));
      return Promise.reject(new SocketError("offline", "You're offline right now — reconnecting…"));
    }
    this.#refCounter += 1;
    const ref = `r${this.#refCounter}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(ref);
        reject(new SocketError("timeout", "The server didn't answer in time."));
      }, timeoutMs);
      this.#pending.set(ref, { resolve, reject, timer });
      this.#write({ ...frame, ref });
    });
  }

  /** Send a frame without a reply (dropped silently while not connected). */
  notify(frame) {
    if (this.#state === "open") this.#write(frame);
  }

  /** Follow a chat: subscribe now (if open) and again after every reconnect. */
  subscribe(chatId) {
    this.#subscribed.add(chatId);
    this.#tracker(chatId);
    if (this.#state === "open") this.#sendSubscribe(chatId);
  }

  /** Stop following a chat locally (there is no unsubscribe frame). */
  unsubscribe(chatId) {
    this.#subscribed.delete(chatId);
    this.#chats.delete(chatId);
  }

  /**
   * Send a chat message; it is kept and retried with the same cmid until acknowledged.
   * @returns {{cmid: string, done: Promise<Object>}} `done` resolves with the SendAck
   */
  send(chatId, body, cmid = newCmid(), { internal = false } = {}) {
    const frame = { type: "chat.send", chat_id: chatId, cmid, body };
    if (internal) frame.internal = true; // an operator's internal note: staff only
    return this.sendKept(frame);
  }

  /**
   * Send a frame that carries a `cmid` (`chat.send`, `internal.send` …), kept and
   * retried with that cmid until acknowledged, like {@link send}.
   * @returns {{cmid: string, done: Promise<Object>}} `done` resolves with the ack
   */
  sendKept(frame) {
    const cmid = frame.cmid ?? newCmid();
    const done = new Promise((resolve, reject) => {
      const entry = { frame: { ...frame, cmid }, resolve, reject, attempts: 0, inFlight: false };
      this.#outbox.set(cmid, entry);
      if (this.#state === "open") this.#transmit(cmid, entry);
    });
    return { cmid, done };
  }

  /** Tell the other side whether we are typing (lossy, no reply). */
  typing(chatId, typing) {
    this.notify({ type: "chat.typing", chat_id: chatId, typing: Boolean(typing) });
  }

  /** True when the message with this seq was already delivered (or passed) for the chat. */
  hasSeq(chatId, seq) {
    const tracker = this.#chats.get(chatId);
    return tracker ? seq <= tracker.contiguous || tracker.seen.has(seq) : false;
  }

  // ---- connection ----------------------------------------------------------

  /** Resolve once the connection is open; reject on stop() or after `timeoutMs`. */
  #whenOpen(timeoutMs) {
    return new Promise((resolve, reject) => {
      const done = (settle) => {
        clearTimeout(timer);
        this.removeEventListener("state", onState);
        settle();
      };
      const onState = (event) => {
        if (event.detail === "open") done(resolve);
        else if (event.detail === "closed") done(() => reject(new SocketError("offline", "Disconnected.")));
      };
      const timer = setTimeout(() => done(() => reject(new SocketError("timeout", "Still connecting; please try again."))), timeoutMs);
      this.addEventListener("state", onState);
    });
  }

  #connectNow() {
    clearTimeout(this.#reconnectTimer);
    if (this.#state === "closed") return;
    this.#setState(this.#attempt === 0 ? "connecting" : "reconnecting");
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch {
      this.#scheduleReconnect();
      return;
    }
    this.#ws = ws;
    ws.addEventListener("open", () => {
      if (ws !== this.#ws) return;
      this.#lastFrameAt = Date.now();
      ws.send(JSON.stringify({ type: "hello", token: this.#token }));
    });
    ws.addEventListener("message", (event) => {
      if (ws === this.#ws) this.#receive(event.data);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.#ws) return;
      this.#teardown("Connection lost.");
      if (event.code === AUTH_FAILED) this.#unauthorized();
      else if (this.#state !== "closed") this.#scheduleReconnect();
    });
  }

  #scheduleReconnect() {
    this.#setState("reconnecting");
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.#attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter: 50–100 % of the ceiling
    this.#attempt += 1;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => this.#connectNow(), delay);
  }

  /** Drop the current websocket; reject in-flight requests (sends stay queued). */
  #teardown(reason) {
    clearInterval(this.#pingTimer);
    this.#pingTimer = null;
    const ws = this.#ws;
    this.#ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
    for (const { reject, timer } of this.#pending.values()) {
      clearTimeout(timer);
      reject(new SocketError("offline", reason));
    }
    this.#pending.clear();
  }

  #unauthorized() {
    this.stop();
    this.dispatchEvent(new CustomEvent("unauthorized"));
  }

  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  #write(frame) {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(frame));
  }

  #startHeartbeat() {
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      if (Date.now() - this.#lastFrameAt > this.#heartbeatMs * 2.5) {
        this.#ws?.close(4000, "heartbeat timeout"); // the close handler reconnects
        return;
      }
      this.notify({ type: "ping" });
    }, this.#heartbeatMs);
  }

  // ---- incoming frames ---------------------------------------------------------

  #receive(text) {
    this.#lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    switch (frame.type) {
      case "welcome": return this.#welcomed(frame);
      case "pong": return undefined;
      case "reply": return this.#settle(frame.ref, (p) => p.resolve(frame.data ?? {}));
      case "error": return this.#error(frame);
      case "history": return this.#history(frame);
      case "message": return this.#deliver(frame.chat_id ?? frame.message?.chat_id, frame.message);
      default:
        this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
        return undefined;
    }
  }

  #welcomed(frame) {
    this.welcome = frame;
    this.#attempt = 0;
    if (frame.heartbeat_seconds > 0) this.#heartbeatMs = Math.min(frame.heartbeat_seconds, DEFAULT_HEARTBEAT_SECONDS) * 1000;
    this.#setState("open");
    this.#startHeartbeat();
    this.dispatchEvent(new CustomEvent("welcome", { detail: frame }));
    for (const chatId of this.#subscribed) this.#sendSubscribe(chatId);
    for (const [cmid, entry] of this.#outbox) if (!entry.inFlight) this.#transmit(cmid, entry);
  }

  #settle(ref, action) {
    const pending = this.#pending.get(ref);
    if (!pending) return;
    this.#pending.delete(ref);
    clearTimeout(pending.timer);
    action(pending);
  }

  #error(frame) {
    const error = new SocketError(frame.code ?? "400", frame.message || "Something went wrong.");
    if (frame.ref && this.#pending.has(frame.ref)) {
      this.#settle(frame.ref, (p) => p.reject(error));
      return;
    }
    if (error.code === "401") {
      this.#unauthorized();
      return;
    }
    this.dispatchEvent(new CustomEvent("servererror", { detail: error }));
  }

  #history(frame) {
    const messages = frame.messages ?? [];
    for (const message of messages) this.#deliver(frame.chat_id, message);
    // The history holds every message we may see up to top_seq (or up to its last one
    // when there is more): seqs it skipped (internal notes, for a patron) count as covered.
    const covered = frame.more ? messages.at(-1)?.seq : frame.top_seq;
    if (frame.chat_id && typeof covered === "number") this.#tracker(frame.chat_id).coverTo(covered);
    if (frame.more && this.#subscribed.has(frame.chat_id)) this.#sendSubscribe(frame.chat_id);
  }

  #deliver(chatId, message) {
    if (!chatId || !message || typeof message.seq !== "number") return;
    if (!this.#tracker(chatId).add(message.seq)) return;
    this.dispatchEvent(new CustomEvent("message", { detail: { chatId, message } }));
  }

  #tracker(chatId) {
    let tracker = this.#chats.get(chatId);
    if (!tracker) {
      tracker = new SeqTracker();
      this.#chats.set(chatId, tracker);
    }
    return tracker;
  }

  #sendSubscribe(chatId) {
    const afterSeq = this.#tracker(chatId).contiguous;
    this.request({ type: "chat.subscribe", chat_id: chatId, after_seq: afterSeq }).catch((error) => {
      if (error.code !== "offline") this.dispatchEvent(new CustomEvent("servererror", { detail: error }));
    });
  }

  // ---- outgoing messages ---------------------------------------------------------

  #transmit(cmid, entry) {
    entry.attempts += 1;
    entry.inFlight = true;
    this.request(entry.frame).then(
      (ack) => {
        this.#outbox.delete(cmid);
        entry.resolve(ack);
      },
      (error) => {
        entry.inFlight = false;
        const transient = ["offline", "timeout", "503"].includes(error.code);
        if (!transient || entry.attempts >= MAX_SEND_ATTEMPTS) {
          this.#outbox.delete(cmid);
          entry.reject(error);
        } else if (error.code !== "offline") {
          // Still connected but no (good) answer: try again shortly with the same cmid.
          setTimeout(() => {
            if (this.#outbox.get(cmid) === entry && !entry.inFlight && this.#state === "open") this.#transmit(cmid, entry);
          }, 1000 * entry.attempts);
        } // "offline": re-sent after the next welcome
      },
    );
  }
}
