/**
 * The Reports tab (#panel-reports): a filter bar (from / to local dates, the last 30
 * days by default; department; operator) shared by every card — headline figures,
 * the weekday × hour heatmap, volume by month, the wait-time distribution, and
 * tables by department, operator and mode — each with "Download CSV".
 *
 * Data come from the analytics reporting API (reports-api.js), whose address the
 * gateway gives in `GET /api/config`. When the service can't be reached the tab says
 * "Reports are unavailable right now" with Try again; the rest of the dashboard is
 * unaffected.
 *
 * Test ids: reports, report-filters, filter-from, filter-to, filter-department,
 * filter-operator, filter-apply, filter-error, reports-zone, reports-unavailable,
 * reports-retry, headline (stat, data-stat), table-department, table-operator,
 * table-mode; see also report-card.js and the charts.
 */
import { api } from "../static/js/api.js";
import { h, uid } from "../static/js/dom.js";
import { bars } from "./charts/bars.js";
import { heatmap } from "./charts/heatmap.js";
import { histogram } from "./charts/histogram.js";
import { ReportCard } from "./report-card.js";
import { formatCount, formatDuration, formatPercent, formatRating, monthLabel } from "./report-format.js";
import { ReportTable } from "./report-table.js";
import { ReportsApi } from "./reports-api.js";

const MAX_DAYS = 1100;

/** Today's date (YYYY-MM-DD) in `timeZone`, and the date `days` before it. */
export function periodEnding(timeZone, days = 29, now = new Date()) {
  let today;
  try {
    today = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
  } catch {
    today = new Intl.DateTimeFormat("en-CA").format(now);
  }
  const start = new Date(`${today}T00:00:00Z`);
  start.setUTCDate(start.getUTCDate() - days);
  return { from: start.toISOString().slice(0, 10), to: today };
}

/** A sentence saying what is wrong with the period, or "" when it is fine. */
export function periodProblem(from, to) {
  if (!from || !to) return "Choose both a start and an end date.";
  if (from > to) return "The start date must be on or before the end date.";
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_DAYS) return `Choose a period of at most ${MAX_DAYS} days.`;
  return "";
}

export class Reports {
  /**
   * @param {HTMLElement} panel #panel-reports
   * @param {{token: string, profile: () => (Object|null), staff: () => Promise<Array<{id: string, full_name: string}>>}} deps
   *   `profile`: the signed-in OperatorProfile once known; `staff`: every operator (for names)
   */
  constructor(panel, { token, profile, staff }) {
    this.panel = panel;
    this.token = token;
    this.profile = profile;
    this.staff = staff;
    this.api = null;
    this.names = { department: new Map(), operator: new Map() };
    this.cards = [];
    this.#build();
  }

  /** Fetch the configuration, departments and names, then load every card. */
  async start() {
    this.unavailable.hidden = true;
    this.content.hidden = true;
    this.loading.hidden = false;
    try {
      const config = await api("/api/config", { token: this.token });
      this.api = new ReportsApi(config.analytics_url, this.token);
      this.timeZone = config.time_zone;
    } catch {
      this.loading.hidden = true;
      this.#showUnavailable();
      return;
    }
    if (!this.from.value) {
      const period = periodEnding(this.timeZone);
      this.from.value = period.from;
      this.to.value = period.to;
    }
    this.zone.textContent = `Dates and hours are in the library's time zone, ${this.timeZone}.`;
    // the staff list comes over the socket, which opens after the welcome (my profile):
    // my departments are known once it has answered
    const departments = api("/api/departments").then((data) => data.departments ?? []).catch(() => []);
    await this.#loadOperators();
    this.#showDepartments(await departments);
    this.loading.hidden = true;
    await this.refresh();
  }

  /** Reload every card with the filter bar's values (nothing when they are invalid). */
  async refresh() {
    if (!this.api) return; // start() is still asking where the reports are
    const problem = periodProblem(this.from.value, this.to.value);
    this.error.textContent = problem;
    this.error.hidden = !problem;
    this.from.setAttribute("aria-invalid", String(Boolean(problem)));
    this.to.setAttribute("aria-invalid", String(Boolean(problem)));
    if (problem) return;
    const filters = { from: this.from.value, to: this.to.value, department_id: this.department.value, operator_id: this.operator.value };
    this.content.hidden = false;
    this.unavailable.hidden = true;
    const results = await Promise.all(this.cards.map((card) => card.refresh(filters)));
    if (results.every((result) => !result.ok && result.error?.unavailable)) this.#showUnavailable();
  }

  /** Remove the tab's content (sign-out). */
  destroy() {
    this.destroyed = true;
    this.panel.querySelector("[data-testid=reports]")?.remove();
  }

  #showUnavailable() {
    this.content.hidden = true;
    this.unavailable.hidden = false;
  }

  /** Department options: every department for an admin, my own for an operator. */
  #showDepartments(departments) {
    for (const department of departments) this.names.department.set(department.id, department.name);
    const profile = this.profile();
    const mine = profile && !profile.is_admin ? new Set((profile.departments ?? []).map((d) => d.id)) : null;
    const shown = departments.filter((department) => !mine || mine.has(department.id));
    this.department.replaceChildren(h("option", { value: "", text: mine ? "All my departments" : "All departments" }),
      ...shown.map((department) => h("option", { value: department.id, text: department.name })));
  }

  async #loadOperators() {
    let operators = [];
    try {
      operators = await this.staff();
    } catch {
      operators = [];
    }
    for (const operator of operators) this.names.operator.set(operator.id, operator.full_name);
    this.operator.replaceChildren(h("option", { value: "", text: "All operators" }),
      ...operators.map((operator) => h("option", { value: operator.id, text: operator.full_name })));
    this.operatorField.hidden = operators.length === 0;
  }

  #name(kind, id) {
    return this.names[kind].get(id) ?? id ?? "—";
  }

  #build() {
    const field = (label, control) => {
      const id = uid("report-filter");
      control.id = id;
      return h("div", { class: "field reports__field" }, h("label", { for: id, text: label }), control);
    };
    this.from = h("input", { type: "date", required: true, "data-testid": "filter-from" });
    this.to = h("input", { type: "date", required: true, "data-testid": "filter-to" });
    this.department = h("select", { "data-testid": "filter-department" }, h("option", { value: "", text: "All departments" }));
    this.operator = h("select", { "data-testid": "filter-operator" }, h("option", { value: "", text: "All operators" }));
    this.operatorField = field("Operator", this.operator);
    this.error = h("p", { class: "form-error reports__error", role: "alert", "data-testid": "filter-error", hidden: true });
    this.zone = h("p", { class: "reports__zone", "data-testid": "reports-zone" });
    const form = h("form", { class: "reports__filters", "data-testid": "report-filters", "aria-label": "Report filters", novalidate: true },
      field("From", this.from), field("To", this.to), field("Department", this.department), this.operatorField,
      h("button", { type: "submit", class: "btn btn--primary reports__apply", "data-testid": "filter-apply", text: "Show reports" }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.refresh();
    });

    const retry = h("button", { type: "button", class: "btn", "data-testid": "reports-retry", text: "Try again" });
    retry.addEventListener("click", () => (this.api ? this.refresh() : this.start()));
    this.unavailable = h("div", { class: "reports__unavailable", role: "status", "data-testid": "reports-unavailable", hidden: true },
      h("p", { class: "reports__unavailable-title", text: "Reports are unavailable right now." }),
      h("p", { text: "The reporting service isn't answering. Chats are not affected; please try again in a few minutes." }),
      retry);
    this.loading = h("p", { class: "report-card__state", text: "Loading reports…", hidden: true });

    this.cards = this.#specs().map((spec) => new ReportCard(spec, (name, filters) => this.api.csv(name, filters)));
    const byId = Object.fromEntries(this.cards.map((card) => [card.spec.id, card.element]));
    this.content = h("div", { class: "reports__content", hidden: true },
      byId.headline, byId.heatmap,
      h("div", { class: "reports__grid" }, byId.months, byId.waits),
      h("div", { class: "reports__grid reports__grid--tables" }, byId.departments, byId.operators),
      h("div", { class: "reports__grid reports__grid--fill" }, byId.modes));
    this.panel.append(h("div", { class: "reports__inner", "data-testid": "reports" },
      h("div", { class: "reports__bar" }, form, this.zone, this.error), this.loading, this.unavailable, this.content));
  }

  /** The cards, in page order. */
  #specs() {
    const noChats = (rows) => rows.every((row) => !row.chats);
    return [
      { id: "headline", title: "At a glance", csv: "summary", wide: true, load: (f) => this.api.headline(f),
        isEmpty: () => false, render: (data) => this.#headline(data) },
      { id: "heatmap", title: "Chats by weekday and hour", note: "When patrons start chats: darker squares had more chats.",
        csv: "weekday-hour", wide: true, load: (f) => this.api.heatmap(f), isEmpty: (data) => data.total === 0,
        render: (data) => heatmap(data.counts, data.timeZone) },
      { id: "months", title: "Volume by month", csv: "by-month", load: (f) => this.api.months(f), isEmpty: noChats,
        render: (rows) => bars(rows.map((row) => ({ label: monthLabel(row.month), value: row.chats,
          title: `${monthLabel(row.month)}: ${formatCount(row.chats)} chats, ${formatCount(row.answered)} answered, ${formatCount(row.missed)} missed` })),
        { caption: "Chats by month", labelHeader: "Month", valueHeader: "Chats", testid: "months-chart" }) },
      { id: "waits", title: "Wait time distribution", note: "How long patrons waited before a librarian claimed the chat.",
        csv: "chats", load: (f) => this.api.waits(f), isEmpty: (data) => data.n === 0,
        empty: "No claimed chats in this period.", render: histogram },
      { id: "departments", title: "By department", csv: "by-department", load: (f) => this.api.byDepartment(f), isEmpty: noChats,
        render: (rows) => new ReportTable("Chats by department", [
          { key: "name", label: "Department", kind: "text" }, { key: "chats", label: "Chats", kind: "count" },
          { key: "answered", label: "Answered", kind: "count" }, { key: "missed", label: "Missed", kind: "count" },
          { key: "missed_rate", label: "Missed rate", kind: "percent" }, { key: "median_wait", label: "Median wait", kind: "duration" },
          { key: "median_duration", label: "Median duration", kind: "duration" },
        ], rows.map((row) => ({ ...row, key: row.department_id, name: this.#name("department", row.department_id) })),
        "table-department").element },
      { id: "operators", title: "By operator", note: "Chats each librarian took part in; waits and durations of the chats they claimed.",
        csv: "by-operator", load: (f) => this.api.byOperator(f), isEmpty: noChats,
        render: (rows) => new ReportTable("Chats by operator", [
          { key: "name", label: "Operator", kind: "text" }, { key: "chats", label: "Chats", kind: "count" },
          { key: "claimed", label: "Claimed", kind: "count" }, { key: "transfers_in", label: "Transfers in", kind: "count" },
          { key: "median_wait", label: "Median wait", kind: "duration" },
          { key: "median_duration", label: "Median duration", kind: "duration" },
          { key: "rating_mean", label: "Avg rating", kind: "rating" },
        ], rows.map((row) => ({ ...row, key: row.operator_id, name: this.#name("operator", row.operator_id) })),
        "table-operator").element },
      { id: "modes", title: "By mode", note: "Reference Analytics records by the Mode recorded on the form.",
        csv: "by-mode", load: (f) => this.api.byMode(f), isEmpty: (rows) => rows.length === 0,
        empty: "No Reference Analytics records in this period.",
        render: (rows) => new ReportTable("Reference Analytics records by mode", [
          { key: "mode", label: "Mode", kind: "text" }, { key: "records", label: "Records", kind: "count" },
        ], rows.map((row) => ({ ...row, key: row.mode })), "table-mode").element },
    ];
  }

  #headline(data) {
    const stat = (key, label, value, detail = null) => h("div", { class: "stat", "data-testid": "stat", "data-stat": key },
      h("dt", { text: label }),
      h("dd", {}, h("span", { class: "stat__value", text: value }), detail ? h("span", { class: "stat__detail", text: detail }) : null));
    return h("dl", { class: "stats", "data-testid": "headline" },
      stat("chats", "Chats", formatCount(data.chats)),
      stat("answered", "Answered", formatCount(data.answered)),
      stat("missed_rate", "Missed rate", formatPercent(data.missed_rate)),
      stat("median_wait", "Median wait", formatDuration(data.median_wait)),
      stat("median_duration", "Median duration", formatDuration(data.median_duration)),
      stat("rating", "Average rating", formatRating(data.rating_mean),
        data.rating_count ? `from ${formatCount(data.rating_count)} rating${data.rating_count === 1 ? "" : "s"}` : "no ratings yet"));
  }
}
