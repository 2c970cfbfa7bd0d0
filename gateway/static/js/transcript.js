/**
 * `<rd-transcript viewer="operator|patron">`: the messages of one chat in seq order.
 *
 * A `role="log"` list (announced politely as messages arrive). Each message is an
 * `<li data-testid="message" data-seq data-author-kind data-cmid>`; the viewer's own
 * messages also get `msg--mine`. Text is always inserted as text nodes.
 * Own messages show at once as "pending" entries (by cmid) and are replaced by the
 * stored message when it arrives.
 */
import { h } from "./dom.js";
import { linkify } from "./links.js";
import { formatClock } from "./time.js";

const NEAR_BOTTOM_PX = 80;

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

  /** Show an own message that is being sent. */
  addPending(cmid, body, authorName) {
    this.connectedCallback();
    const item = this.#render({ cmid, body, author_kind: this.viewer, author_name: authorName, sent_at: null });
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
      class: `msg msg--${kind}${mine ? " msg--mine" : ""}`,
      dataset: { testid: "message", authorKind: kind, cmid: message.cmid ?? "" },
    });
    if (message.seq !== undefined) item.dataset.seq = String(message.seq);
    const body = h("p", { class: "msg__body" }, linkify(message.body));
    if (kind === "system") {
      item.append(body, timeElement(message.sent_at));
      return item;
    }
    const who = mine && this.viewer === "patron" ? "You" : message.author_name;
    item.append(h("div", { class: "msg__meta" }, h("span", { class: "msg__author", text: who }), timeElement(message.sent_at)), body);
    return item;
  }
}

function timeElement(iso) {
  return iso ? h("time", { datetime: iso, text: formatClock(iso) }) : h("time", {});
}

customElements.define("rd-transcript", Transcript);
