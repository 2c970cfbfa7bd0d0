/**
 * Who is online (Internal Chat): every other operator with a status dot and word,
 * their departments and "N active chats"; choosing one opens the direct chat with
 * them. Online operators come first, then by nickname.
 *
 * Fed by the `staff.list` reply and `staff.update` pushes (docs/protocol.md,
 * "Internal Chat"). Test ids: staff-list, staff-entry (data-operator-id,
 * data-status), staff-status, staff-active.
 */
import { h } from "../static/js/dom.js";

const STATUS_TEXT = { online: "Online", offline: "Offline" };

/** "No active chats", "1 active chat", "3 active chats". */
export function activeChatsText(count) {
  if (!count) return "No active chats";
  return `${count} active chat${count === 1 ? "" : "s"}`;
}

export class StaffList {
  /**
   * @param {string} myId my operator id (left out of the list)
   * @param {(operator: Object) => void} onChoose open the direct chat with `operator`
   */
  constructor(myId, onChoose) {
    this.myId = myId;
    this.onChoose = onChoose;
    this.entries = new Map();
    this.list = h("ul", { class: "staff__list", "data-testid": "staff-list" });
    this.empty = h("p", { class: "staff__empty", text: "No other staff yet." });
    this.element = h("section", { class: "staff", "aria-labelledby": "staff-title" },
      h("h3", { id: "staff-title", class: "internal__heading", text: "Staff" }), this.list, this.empty);
  }

  /** Replace every entry (a `staff.list` reply). */
  replace(operators) {
    this.entries = new Map(operators.map((operator) => [operator.id, operator]));
    this.render();
  }

  /** One entry changed (a `staff.update` push). */
  update(operator) {
    this.entries.set(operator.id, operator);
    this.render();
  }

  /** The entry of an operator, if known. */
  get(operatorId) {
    return this.entries.get(operatorId) ?? null;
  }

  render() {
    const others = [...this.entries.values()].filter((operator) => operator.id !== this.myId);
    others.sort((a, b) => (a.status === "online" ? 0 : 1) - (b.status === "online" ? 0 : 1)
      || a.nickname.localeCompare(b.nickname));
    const focusedId = this.list.contains(document.activeElement) ? document.activeElement.dataset.operatorId : null;
    this.list.replaceChildren(...others.map((operator) => this.#item(operator)));
    this.empty.hidden = others.length > 0;
    if (focusedId) this.list.querySelector(`button[data-operator-id="${CSS.escape(focusedId)}"]`)?.focus();
  }

  #item(operator) {
    const status = STATUS_TEXT[operator.status] ?? operator.status;
    const departments = (operator.departments ?? []).map((department) => department.name).join(", ");
    const button = h("button", {
      type: "button", class: "staff__entry", "data-testid": "staff-entry",
      dataset: { operatorId: operator.id, status: operator.status },
      title: operator.full_name,
    },
      h("span", { class: `staff__dot staff__dot--${operator.status}`, "aria-hidden": "true" }),
      h("span", { class: "staff__who" },
        h("span", { class: "staff__name", text: operator.nickname }),
        h("span", { class: "staff__detail" },
          h("span", { class: "staff__status", "data-testid": "staff-status", text: status }),
          " · ",
          h("span", { class: "staff__active", "data-testid": "staff-active", text: activeChatsText(operator.active_chats) }))),
    );
    button.setAttribute("aria-label",
      `Chat with ${operator.nickname} (${operator.full_name}): ${status}, ${activeChatsText(operator.active_chats).toLowerCase()}`
      + (departments ? `; ${departments}` : ""));
    button.addEventListener("click", () => this.onChoose(operator));
    return h("li", {}, button);
  }
}
