/**
 * `<rd-composer label="…" placeholder="…">`: the reply box and Send button.
 *
 * Enter sends, Shift+Enter starts a new line (on touch screens Enter starts a new line
 * and the Send button sends). Fires `compose-send` ({body}, trimmed,
 * never empty) and `compose-input` ({empty}) events. Test ids: `reply-box`,
 * `send-button`.
 */
import { h, uid } from "./dom.js";

/** A phone or tablet: the main pointer is a finger. */
const TOUCH = window.matchMedia("(pointer: coarse)").matches;

export class Composer extends HTMLElement {
  #box = null;
  #button = null;
  #counter = null;
  #maxLength = 4000;

  connectedCallback() {
    if (this.#box) return;
    const id = uid("reply");
    const hintId = `${id}-hint`;
    this.#box = h("textarea", {
      id, rows: 2, class: "composer__box", "data-testid": "reply-box",
      placeholder: this.getAttribute("placeholder") || "Type your message…",
      "aria-describedby": hintId, maxlength: this.#maxLength,
    });
    this.#button = h("button", { type: "submit", class: "btn btn--primary composer__send", "data-testid": "send-button", text: "Send" });
    this.#counter = h("span", { class: "composer__count", hidden: true });
    const form = h("form", { class: "composer__form", novalidate: true },
      h("label", { for: id, class: "visually-hidden", text: this.getAttribute("label") || "Your message" }),
      h("div", { class: "composer__row" }, this.#box, this.#button),
      h("p", { id: hintId, class: "composer__hint" }, TOUCH ? "" : "Enter to send · Shift+Enter for a new line", this.#counter));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
    this.#box.addEventListener("keydown", (event) => {
      // On touch screens Enter makes a new line (no Shift key there); Send sends.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !TOUCH) {
        event.preventDefault();
        this.#submit();
      }
    });
    this.#box.addEventListener("input", () => {
      this.#updateCounter();
      this.dispatchEvent(new CustomEvent("compose-input", { detail: { empty: !this.#box.value.trim() } }));
    });
    this.append(form);
    this.disabled = this.hasAttribute("disabled");
  }

  /** The longest message allowed, in characters (from `welcome.max_message_chars`). */
  set maxLength(value) {
    if (!(value > 0)) return;
    this.#maxLength = value;
    this.connectedCallback();
    this.#box.maxLength = value;
  }

  /** Change the box's label, placeholder and Send button text (e.g. for an internal note). */
  setPrompt(label, placeholder, sendText = "Send") {
    this.connectedCallback();
    this.#button.textContent = sendText;
    this.setAttribute("label", label);
    this.setAttribute("placeholder", placeholder);
    this.#box.placeholder = placeholder;
    const labelEl = this.querySelector(`label[for="${this.#box.id}"]`);
    if (labelEl) labelEl.textContent = label;
  }

  get disabled() {
    return this.hasAttribute("disabled");
  }

  set disabled(value) {
    this.toggleAttribute("disabled", Boolean(value));
    if (!this.#box) return;
    this.#box.disabled = Boolean(value);
    this.#button.disabled = Boolean(value);
  }

  get value() {
    return this.#box?.value ?? "";
  }

  set value(text) {
    this.connectedCallback();
    this.#box.value = text;
    this.#updateCounter();
  }

  /** Put `text` at the cursor (or as the whole text when the box is empty), then focus. */
  insert(text) {
    this.connectedCallback();
    const box = this.#box;
    if (!box.value.trim()) {
      box.value = text;
    } else {
      const start = box.selectionStart ?? box.value.length;
      const end = box.selectionEnd ?? start;
      box.setRangeText(text, start, end, "end");
    }
    this.#updateCounter();
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  focus() {
    this.#box?.focus();
  }

  #submit() {
    if (this.disabled) return;
    const body = this.#box.value.trim();
    if (!body) return;
    this.#box.value = "";
    this.#updateCounter();
    this.dispatchEvent(new CustomEvent("compose-send", { detail: { body } }));
    this.#box.focus();
  }

  #updateCounter() {
    const left = this.#maxLength - this.#box.value.length;
    const show = left < 200;
    this.#counter.hidden = !show;
    this.#counter.textContent = show ? ` · ${left} characters left` : "";
  }
}

customElements.define("rd-composer", Composer);
