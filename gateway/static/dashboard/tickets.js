/**
 * The Tickets tab (LibAnswers' dashboard): a filterable list — status, department,
 * mine/unclaimed, search — with the columns Status, Queue, Question (with the
 * patron), Last message from, Owner and Updated; choosing a row opens the ticket
 * beside the list (ticket-detail.js; on a narrow screen, instead of it). The tab's
 * badge (#tickets-count) counts New + Open tickets of my departments.
 *
 * Kept current by `ticket.update` pushes (the list and the open ticket are fetched
 * again, folded so a burst costs one request) and, for my replies, `mail.status`. Test ids: tickets, ticket-filter-status,
 * ticket-filter-department, ticket-filter-owner, ticket-search, ticket-row
 * (data-ticket-id, data-status), ticket-open, tickets-empty, tickets-more.
 */
import { h, uid, announce } from "../static/js/dom.js";
import { TicketDetail } from "./ticket-detail.js";
import { formatWhen, statusBadge } from "./tickets-format.js";

const PAGE = 50;
const STATUS_FILTERS = [
  ["active", "Not closed", ["New", "Open", "Pending"]],
  ["New", "New", ["New"]],
  ["Open", "Open", ["Open"]],
  ["Pending", "Pending", ["Pending"]],
  ["Closed", "Closed", ["Closed"]],
  ["all", "All statuses", []],
];
const LAST_FROM = { patron: "Patron", staff: "Staff" };

export class Tickets {
  /**
   * @param {HTMLElement} panel #panel-tickets
   * @param {{socket: import("../static/js/socket.js").RefdeskSocket, profile: () => Object, count: HTMLElement}} deps
   */
  constructor(panel, { socket, profile, count }) {
    this.panel = panel;
    this.socket = socket;
    this.profile = profile;
    this.count = count;
    this.tickets = [];
    this.total = 0;
    this.detail = new TicketDetail({
      socket, profile,
      onBack: () => this.#closeDetail(),
      onChanged: () => this.reload(),
    });
    this.#build();
    this.onUpdate = (event) => {
      this.reload();
      if (event.detail.ticket?.id === this.detail.ticketId) this.detail.refresh();
    };
    socket.addEventListener("ticket.update", this.onUpdate);
    // My reply's email was sent (or failed): show it on the open ticket.
    this.onMail = (event) => {
      if (this.detail.ticketId && event.detail.mail?.subject_ref === `ticket:${this.detail.ticketId}`) this.detail.refresh();
    };
    socket.addEventListener("mail.status", this.onMail);
  }

  #build() {
    const field = (labelText, control) => {
      control.id = uid("tf");
      return h("div", { class: "tickets__filter" }, h("label", { for: control.id, text: labelText }), control);
    };
    this.status = h("select", { "data-testid": "ticket-filter-status" },
      STATUS_FILTERS.map(([value, text]) => h("option", { value, text })));
    this.department = h("select", { "data-testid": "ticket-filter-department" });
    this.owner = h("select", { "data-testid": "ticket-filter-owner" },
      h("option", { value: "any", text: "Anyone" }), h("option", { value: "mine", text: "Mine" }),
      h("option", { value: "unclaimed", text: "Unclaimed" }));
    this.search = h("input", { type: "search", maxlength: 200, placeholder: "Words in the question, name or email",
      "data-testid": "ticket-search", autocomplete: "off" });
    for (const control of [this.status, this.department, this.owner]) control.addEventListener("change", () => this.reload());
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.reload(), 300);
    });
    const filters = h("form", { class: "tickets__filters", role: "search", "aria-label": "Filter tickets" },
      field("Status", this.status), field("Department", this.department), field("Owner", this.owner),
      field("Search", this.search));
    filters.addEventListener("submit", (event) => { event.preventDefault(); this.reload(); });
    this.rows = h("tbody");
    this.summary = h("p", { class: "tickets__summary", role: "status" });
    this.empty = h("p", { class: "tickets__empty", "data-testid": "tickets-empty", text: "No tickets match these filters.", hidden: true });
    this.error = h("p", { class: "form-error", role: "alert", hidden: true });
    this.more = h("button", { type: "button", class: "btn btn--small", "data-testid": "tickets-more", text: "Show more", hidden: true });
    this.more.addEventListener("click", () => this.#load({ append: true }));
    const head = ["Status", "Queue", "Question", "Last message from", "Owner", "Updated"]
      .map((text, index) => h("th", { scope: "col", text, class: index === 3 || index === 5 ? "tickets__minor" : null }));
    this.list = h("section", { class: "tickets__list", "aria-labelledby": "tickets-title" },
      h("div", { class: "tickets__bar" }, h("h3", { id: "tickets-title", class: "tickets__title", text: "Tickets" }), this.summary),
      filters, this.error,
      h("div", { class: "tickets__scroll" }, h("table", { class: "tickets__table" }, h("thead", {}, h("tr", {}, head)), this.rows)),
      this.empty, this.more);
    this.layout = h("div", { class: "tickets", "data-testid": "tickets", dataset: { view: "list" } }, this.list, this.detail.element);
    this.panel.append(this.layout);
  }

  /** First load (and the badge): call once the socket is welcomed. */
  start() {
    this.#departments();
    this.reload();
  }

  /** Fetch the first page again with the current filters (bursts fold into one). */
  reload() {
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    this.reloading = this.#load().finally(() => {
      this.reloading = null;
      if (this.reloadAgain) {
        this.reloadAgain = false;
        this.reload();
      }
    });
  }

  destroy() {
    clearTimeout(this.searchTimer);
    this.socket.removeEventListener("ticket.update", this.onUpdate);
    this.socket.removeEventListener("mail.status", this.onMail);
    this.layout.remove();
  }

  #departments() {
    const mine = this.profile()?.departments ?? [];
    const current = this.department.value;
    this.department.replaceChildren(h("option", { value: "", text: "My departments" }),
      ...mine.map((d) => h("option", { value: d.id, text: d.name })));
    this.department.value = mine.some((d) => d.id === current) ? current : "";
  }

  #request(offset) {
    const statuses = STATUS_FILTERS.find(([value]) => value === this.status.value)?.[2] ?? [];
    const frame = { type: "ticket.list", statuses, owner: this.owner.value, offset, limit: PAGE };
    if (this.department.value) frame.department_ids = [this.department.value];
    const text = this.search.value.trim();
    if (text) frame.text = text.slice(0, 200);
    return frame;
  }

  async #load({ append = false } = {}) {
    let page;
    try {
      page = await this.socket.request(this.#request(append ? this.tickets.length : 0), { waitForOpen: true });
    } catch (error) {
      this.error.textContent = error.message;
      this.error.hidden = false;
      return;
    }
    this.error.hidden = true;
    this.tickets = append ? [...this.tickets, ...page.tickets] : page.tickets;
    this.total = page.total;
    this.#render();
    const counts = page.counts ?? {};
    const waiting = (counts.New ?? 0) + (counts.Open ?? 0);
    this.count.textContent = waiting ? String(waiting) : "";
    this.count.setAttribute("aria-label", waiting ? `${waiting} new or open` : "");
  }

  #render() {
    const me = this.profile()?.id;
    this.rows.replaceChildren(...this.tickets.map((t) => this.#row(t, me)));
    this.empty.hidden = this.tickets.length > 0;
    this.more.hidden = this.tickets.length >= this.total;
    this.summary.textContent = this.total ? `${this.total} ticket${this.total === 1 ? "" : "s"}` : "";
  }

  #row(t, me) {
    const open = h("button", { type: "button", class: "tickets__open", "data-testid": "ticket-open", text: t.subject });
    open.addEventListener("click", () => this.#open(t.id));
    const row = h("tr", { "data-testid": "ticket-row", dataset: { ticketId: t.id, status: t.status },
      class: t.id === this.detail.ticketId ? "is-current" : null },
    h("td", {}, statusBadge(t.status)),
    h("td", { text: t.department_name }),
    h("td", { class: "tickets__question" }, open,
      h("span", { class: "tickets__patron", text: [t.patron_name, t.patron_email].filter(Boolean).join(" · ") })),
    h("td", { class: "tickets__minor", text: LAST_FROM[t.last_message_from] ?? t.last_message_from }),
    h("td", { class: t.owner_operator_id ? null : "tickets__unowned",
      text: t.owner_operator_id ? (t.owner_operator_id === me ? "You" : t.owner_operator_name) : "Unclaimed" }),
    h("td", { class: "tickets__minor" }, h("time", { datetime: t.updated_at, text: formatWhen(t.updated_at) })));
    return row;
  }

  async #open(ticketId) {
    try {
      await this.detail.open(ticketId);
    } catch (error) {
      this.error.textContent = error.message;
      this.error.hidden = false;
      return;
    }
    this.layout.dataset.view = "detail";
    this.#render();
    this.detail.focus();
    announce(`Ticket ${this.detail.detail.ticket.subject} opened.`);
  }

  #closeDetail() {
    const id = this.detail.ticketId;
    this.detail.close();
    this.layout.dataset.view = "list";
    this.#render();
    this.rows.querySelector(`[data-ticket-id="${CSS.escape(id ?? "")}"] .tickets__open`)?.focus();
  }
}
