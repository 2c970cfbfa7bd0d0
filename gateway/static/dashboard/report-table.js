/**
 * A sortable report table: a button in each column header sorts by that column
 * (again: the other way), `aria-sort` tells screen readers which; numbers are right
 * aligned and formatted by the column's kind; unknown values show "—" and sort last.
 *
 * Test ids: the table's own (e.g. table-department), report-row (data-key) on each
 * body row, sort-button (data-column) in each header.
 */
import { h } from "../static/js/dom.js";
import { formatCount, formatDuration, formatPercent, formatRating } from "./report-format.js";

const FORMAT = {
  text: (value) => value ?? "—",
  count: formatCount,
  percent: formatPercent,
  duration: formatDuration,
  rating: formatRating,
};

/**
 * @typedef {{key: string, label: string, kind: "text"|"count"|"percent"|"duration"|"rating"}} Column
 */

export class ReportTable {
  /**
   * @param {string} caption what the table lists (read by screen readers)
   * @param {Column[]} columns the first is the row header (text)
   * @param {Object[]} rows objects with the columns' keys, plus `key` (a stable id)
   * @param {string} testid
   */
  constructor(caption, columns, rows, testid) {
    this.columns = columns;
    this.rows = rows;
    this.sort = { key: columns[1]?.key ?? columns[0].key, descending: true };
    this.body = h("tbody");
    this.headers = columns.map((column) => {
      const button = h("button", { type: "button", class: "report-table__sort", "data-testid": "sort-button", "data-column": column.key },
        column.label, h("span", { class: "report-table__arrow", "aria-hidden": "true" }));
      button.addEventListener("click", () => this.#sortBy(column.key));
      return h("th", { scope: "col", class: column.kind === "text" ? null : "num", dataset: { column: column.key } }, button);
    });
    this.element = h("div", { class: "report-table__scroll" },
      h("table", { class: "report-table", "data-testid": testid },
        h("caption", { class: "visually-hidden", text: `${caption}. Column headers sort the table.` }),
        h("thead", {}, h("tr", {}, this.headers)), this.body));
    this.#render();
  }

  #sortBy(key) {
    const numeric = this.columns.find((column) => column.key === key)?.kind !== "text";
    this.sort = this.sort.key === key ? { key, descending: !this.sort.descending } : { key, descending: numeric };
    this.#render();
  }

  #render() {
    const { key, descending } = this.sort;
    const known = (row) => row[key] !== null && row[key] !== undefined;
    const sorted = [...this.rows].sort((a, b) => {
      if (!known(a) || !known(b)) return Number(!known(a)) - Number(!known(b));
      const order = typeof a[key] === "string" ? a[key].localeCompare(b[key]) : a[key] - b[key];
      return descending ? -order : order;
    });
    for (const th of this.headers) {
      const sorted = th.dataset.column === key;
      if (sorted) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
      th.querySelector(".report-table__arrow").textContent = sorted ? (descending ? "\u00a0▼" : "\u00a0▲") : "";
    }
    this.body.replaceChildren(...sorted.map((row) => h("tr", { "data-testid": "report-row", "data-key": row.key },
      this.columns.map((column, i) => {
        const text = FORMAT[column.kind](row[column.key]);
        return i ? h("td", { class: column.kind === "text" ? null : "num", text }) : h("th", { scope: "row", text });
      }))));
  }
}
