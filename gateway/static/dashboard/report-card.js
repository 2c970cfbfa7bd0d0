/**
 * One card of the Reports tab: a title, "Show as table" (for charts) and "Download
 * CSV" buttons, and a body that is loading, empty, an error, or the report.
 *
 * Test ids: report-card (data-report), report-loading, report-empty, report-error,
 * table-toggle, download-csv, download-status.
 */
import { h, uid } from "../static/js/dom.js";

/**
 * @typedef {Object} CardSpec
 * @property {string} id short name (data-report)
 * @property {string} title
 * @property {string} [note] one line under the title
 * @property {string} csv report name of the CSV download
 * @property {(filters: Object) => Promise<any>} load
 * @property {(data: any) => boolean} isEmpty
 * @property {string} [empty] the empty sentence ("No chats in this period.")
 * @property {(data: any) => (Node|{chart: Node, table: Node})} render a node, or a
 *   chart with its table alternative (the card then offers "Show as table")
 * @property {boolean} [wide] spans the whole row
 */

export class ReportCard {
  /**
   * @param {CardSpec} spec
   * @param {(name: string, filters: Object) => Promise<{blob: Blob, filename: string}>} download
   */
  constructor(spec, download) {
    this.spec = spec;
    this.download = download;
    this.filters = null;
    this.generation = 0;
    this.asTable = false;
    this.drawn = null;
    const titleId = uid("report-title");
    this.body = h("div", { class: "report-card__body" });
    this.toggle = h("button", { type: "button", class: "btn btn--small btn--quiet", "aria-describedby": titleId,
      "data-testid": "table-toggle", hidden: true, text: "Show as table" });
    this.csvButton = h("button", { type: "button", class: "btn btn--small", "data-testid": "download-csv",
      "aria-describedby": titleId, text: "Download CSV" });
    this.csvStatus = h("p", { class: "report-card__status", role: "status", "data-testid": "download-status" });
    this.element = h("section", { class: `report-card${spec.wide ? " report-card--wide" : ""}`, "aria-labelledby": titleId,
      "data-testid": "report-card", "data-report": spec.id },
      h("header", { class: "report-card__head" },
        h("div", {}, h("h3", { id: titleId, class: "report-card__title", text: spec.title }),
          spec.note ? h("p", { class: "report-card__note", text: spec.note }) : null),
        h("div", { class: "report-card__actions" }, this.toggle, this.csvButton)),
      this.body, this.csvStatus);
    this.toggle.addEventListener("click", () => {
      this.asTable = !this.asTable;
      this.#show();
    });
    this.csvButton.addEventListener("click", () => this.#download());
  }

  /**
   * Load and draw the report for `filters`; a later call wins over an earlier one
   * still loading.
   * @returns {Promise<{ok: boolean, error?: import("./reports-api.js").ReportsError}>}
   */
  async refresh(filters) {
    this.filters = filters;
    const generation = ++this.generation;
    this.body.setAttribute("aria-busy", "true");
    this.body.replaceChildren(h("p", { class: "report-card__state", "data-testid": "report-loading", text: "Loading…" }));
    this.toggle.hidden = true;
    try {
      const data = await this.spec.load(filters);
      if (generation !== this.generation) return { ok: true };
      if (this.spec.isEmpty(data)) {
        this.drawn = null;
        this.body.replaceChildren(h("p", { class: "report-card__state", "data-testid": "report-empty",
          text: this.spec.empty ?? "No chats in this period." }));
      } else {
        this.drawn = this.spec.render(data);
        this.#show();
      }
      return { ok: true };
    } catch (error) {
      if (generation !== this.generation) return { ok: true };
      this.drawn = null;
      this.body.replaceChildren(h("p", { class: "report-card__state report-card__state--error", "data-testid": "report-error",
        text: error.message || "This report could not be shown." }));
      return { ok: false, error };
    } finally {
      if (generation === this.generation) this.body.removeAttribute("aria-busy");
    }
  }

  #show() {
    const drawn = this.drawn;
    if (!drawn) return;
    if (drawn instanceof Node) {
      this.body.replaceChildren(drawn);
      return;
    }
    this.toggle.hidden = false;
    this.toggle.textContent = this.asTable ? "Show as chart" : "Show as table";
    this.body.replaceChildren(this.asTable ? drawn.table : drawn.chart);
  }

  async #download() {
    if (!this.filters) return;
    this.csvButton.disabled = true;
    this.csvStatus.textContent = "Preparing the CSV file…";
    try {
      const { blob, filename } = await this.download(this.spec.csv, this.filters);
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: filename, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      this.csvStatus.textContent = `Downloaded ${filename}.`;
    } catch (error) {
      this.csvStatus.textContent = `Couldn't download the CSV file: ${error.message}`;
    } finally {
      this.csvButton.disabled = false;
    }
  }
}
