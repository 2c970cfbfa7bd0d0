/**
 * The Canned messages picker of a chat pane: a button opening a listbox of the
 * department's canned messages; choosing one (click, Enter or Space) hands its text to
 * `onPick` (the pane inserts it into the reply box, where it can be edited before
 * sending). Arrow keys, Home and End move, Esc closes.
 *
 * The department's welcome message comes first, in its own group headed "Welcome
 * message"; the others follow under "More messages" (no headings when there is no
 * welcome message). Each title is shown once, with a preview of the text.
 *
 * `element` holds the button (and a load-error line); the owner places `menu` where
 * it has room to show in full — the chat pane puts it in its own flex row above the
 * reply box, where it grows to fit its entries and scrolls only when the pane is short.
 *
 * Test ids: canned-button, canned-menu, canned-option (role "option").
 */
import { h, uid } from "../static/js/dom.js";

const cache = new Map(); // department id → Promise<CannedMessage[]>

/** The department's canned messages, fetched once per session page. */
function loadCanned(socket, departmentId) {
  if (!cache.has(departmentId)) {
    const request = socket.request({ type: "canned.list", department_id: departmentId })
      .then((data) => data.messages ?? []);
    request.catch(() => cache.delete(departmentId));
    cache.set(departmentId, request);
  }
  return cache.get(departmentId);
}

/** Forget cached canned messages (on sign-out). */
export function clearCannedCache() {
  cache.clear();
}

export class CannedPicker {
  /**
   * @param {import("../static/js/socket.js").RefdeskSocket} socket
   * @param {string} departmentId
   * @param {(text: string) => void} onPick
   */
  constructor(socket, departmentId, onPick) {
    this.socket = socket;
    this.departmentId = departmentId;
    this.onPick = onPick;
    const menuId = uid("canned");
    this.button = h("button", {
      type: "button", class: "btn btn--small", "data-testid": "canned-button",
      "aria-haspopup": "listbox", "aria-expanded": "false", "aria-controls": menuId, text: "Canned messages",
    });
    this.menu = h("div", { id: menuId, class: "canned__menu", role: "listbox", "aria-label": "Canned messages", "data-testid": "canned-menu", hidden: true });
    this.status = h("p", { class: "canned__status", role: "status", hidden: true });
    this.element = h("div", { class: "canned" }, this.button, this.status); // `menu` is placed by the owner
    this.button.addEventListener("click", () => (this.isOpen ? this.close() : this.open()));
    this.button.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        this.open();
      }
    });
    this.menu.addEventListener("keydown", (event) => this.#keydown(event));
    this.onOutside = (event) => {
      if (this.isOpen && !this.element.contains(event.target) && !this.menu.contains(event.target)) this.close(false);
    };
    document.addEventListener("pointerdown", this.onOutside);
  }

  get isOpen() {
    return !this.menu.hidden;
  }

  async open() {
    this.status.hidden = true;
    let messages;
    try {
      messages = await loadCanned(this.socket, this.departmentId);
    } catch (error) {
      this.status.textContent = `Couldn't load canned messages: ${error.message}`;
      this.status.hidden = false;
      return;
    }
    this.menu.replaceChildren(...this.#groups(messages));
    this.menu.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.menu.scrollTop = 0;
    this.#items()[0]?.focus();
  }

  /** Close the menu; by default focus returns to the button. */
  close(refocus = true) {
    if (!this.isOpen) return;
    this.menu.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (refocus) this.button.focus();
  }

  destroy() {
    document.removeEventListener("pointerdown", this.onOutside);
  }

  /** The listbox content: the welcome message's group first, then the others. */
  #groups(messages) {
    if (!messages.length) return [h("p", { class: "canned__none", text: "No canned messages for this department yet." })];
    const welcome = messages.filter((m) => m.is_welcome);
    const others = messages.filter((m) => !m.is_welcome);
    if (!welcome.length) return others.map((m) => this.#item(m));
    return [["Welcome message", welcome], ["More messages", others]]
      .filter(([, group]) => group.length)
      .map(([label, group]) => this.#group(label, group));
  }

  #group(label, messages) {
    const labelId = uid("canned-group");
    return h("div", { role: "group", class: "canned__group", "aria-labelledby": labelId },
      h("div", { role: "presentation", id: labelId, class: "canned__heading", text: label }),
      messages.map((m) => this.#item(m)));
  }

  #item(message) {
    const item = h("div", { role: "option", tabindex: "-1", "aria-selected": "false", class: "canned__item", "data-testid": "canned-option" },
      h("span", { class: "canned__title", text: message.title }),
      h("span", { class: "canned__body", text: message.body }));
    item.addEventListener("click", () => this.#pick(message));
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        this.#pick(message);
      }
    });
    item.addEventListener("focus", () => {
      for (const other of this.#items()) other.setAttribute("aria-selected", String(other === item));
    });
    return item;
  }

  #pick(message) {
    this.close(false);
    this.onPick(message.body);
  }

  #items() {
    return [...this.menu.querySelectorAll("[role=option]")];
  }

  #keydown(event) {
    const items = this.#items();
    const index = items.indexOf(document.activeElement);
    const move = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (move) {
      event.preventDefault();
      items[(index + move + items.length) % items.length]?.focus();
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      items[event.key === "Home" ? 0 : items.length - 1]?.focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
    } else if (event.key === "Tab") {
      this.close(false);
    }
  }
}
