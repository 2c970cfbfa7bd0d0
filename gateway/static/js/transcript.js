/**
 * `<rd-transcript viewer="operator|patron">`: the messages of one chat in seq order.
 *
 * A `role="log"` list (announced politely as messages arrive). Each message is an
 * `<li data-testid="message" data-seq data-author-kind data-cmid>`; the viewer's own
 * messages also get `msg--mine`; internal notes (staff only) get `msg--internal`,
 * `data-internal` and the label "Internal note — not seen by the patron". Text is
 * always inserted as text nodes.
 * Own messages show at once as "pending" entries (by cmid) and are replaced by the
 * stored message when it arrives.
 */
import { h } from "./dom.js";
import { linkify } from "./links.js";
import { formatClock } from "./time.js";

const NEAR_BOTTOM_PX = 80;
const INTERNAL_LABEL = "Internal note — not seen by the patron";

export class Transcript extends HTMLElement {
  #list = null;

  connectedCallback() {
    if (this.#list) return;
    this.setAttribute("role", "log");
    this.setAttribute("aria-live", "polite");
    this.setAttribute("aria-relevant", "additions");
    if (!this.hasAttribute("aria-label")) this.setAttribute("aria-label", "Conversation");
    this.tabIndex = 0; // scrollable region reachable by keyboard
    this.#list = h("ol", { class: "transcript__list" });
    this.append(this.#list);
  }

  /** Which author kind counts as "mine" ("operator" or "patron"). */
  get viewer() {
    return this.getAttribute("viewer") || "patron";
  }

  /** Insert a stored Message (ignores a seq already shown); replaces its pending entry. */
  add(message) {
    this.connectedCallback();
    if (this.#list.querySelector(`li[data-seq="${message.seq}"]`)) return;
    const item = this.#render(message);
    const pending = message.cmid ? this.#pending(message.cmid) : null;
    this.#keepScrolled(() => {
      if (pending) pending.remove();
      const after = [...this.#list.children].find((li) => li.dataset.seq && Number(li.dataset.seq) > message.seq);
      this.#list.insertBefore(item, after ?? this.#firstPending());
    });
  }

  /** Show an own message that is being sent (`internal`: an operator's internal note). */
  addPending(cmid, body, authorName, { internal = false } = {}) {
    this.connectedCallback();
    const item = this.#render({ cmid, body, author_kind: this.viewer, author_name: authorName, sent_at: null, internal });
    item.classList.add("msg--pending");
    item.dataset.pending = "true";
    item.querySelector(".msg__meta").append(h("span", { class: "msg__state", text: "Sending…" }));
    this.#keepScrolled(() => this.#list.append(item));
  }

  /** Mark a pending message as stored (before its `message` frame arrives). */
  acknowledge(cmid, ack) {
    const item = this.#pending(cmid);
    if (!item) return;
    item.classList.remove("msg--pending");
    item.querySelector(".msg__state")?.remove();
    item.querySelector("time")?.replaceWith(timeElement(ack.sent_at));
  }

  /** Mark a pending message as not sent, with the reason. */
  fail(cmid, reason) {
    const item = this.#pending(cmid);
    if (!item) return;
    item.classList.remove("msg--pending");
    item.classList.add("msg--failed");
    const state = item.querySelector(".msg__state");
    if (state) state.textContent = `Not sent: ${reason}`;
  }

  /** Remove every message. */
  clear() {
    this.#list?.replaceChildren();
  }

  /** Scroll to the newest message. */
  scrollToEnd() {
    this.scrollTop = this.scrollHeight;
  }

  #pending(cmid) {
    return [...this.#list.querySelectorAll("li[data-pending]")].find((li) => li.dataset.cmid === cmid) ?? null;
  }

  #firstPending() {
    return this.#list.querySelector("li[data-pending]");
  }

  #keepScrolled(change) {
    const atEnd = this.scrollHeight - this.scrollTop - this.clientHeight < NEAR_BOTTOM_PX;
    change();
    if (atEnd) this.scrollToEnd();
  }

  #render(message) {
    const kind = message.author_kind;
    const mine = kind === this.viewer;
    const item = h("li", {
      class: `msg msg--${kind}${mine ? " msg--mine" : ""}${message.internal ? " msg--internal" : ""}`,
      dataset: { testid: "message", authorKind: kind, cmid: message.cmid ?? "" },
    });
    if (message.seq !== undefined) item.dataset.seq = String(message.seq);
    if (message.internal) item.dataset.internal = "true";
    const body = h("p", { class: "msg__body" }, linkify(message.body));
    // Internal notes (staff only) say so in words, not only in colour.
    const label = message.internal ? h("p", { class: "msg__internal", "data-testid": "internal-label", text: INTERNAL_LABEL }) : null;
    if (kind === "system") {
      item.append(...[label, body, timeElement(message.sent_at)].filter(Boolean));
      return item;
    }
    const who = mine && this.viewer === "patron" ? "You" : message.author_name;
    const meta = h("div", { class: "msg__meta" }, h("span", { class: "msg__author", text: who }), timeElement(message.sent_at));
    item.append(...[meta, label, body].filter(Boolean));
    return item;
  }
}

function timeElement(iso) {
  return iso ? h("time", { datetime: iso, text: formatClock(iso) }) : h("time", {});
}

customElements.define("rd-transcript", Transcript);
