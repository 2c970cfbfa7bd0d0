/**
 * SVG building blocks for the Reports charts: elements in the SVG namespace (text
 * only ever as text nodes, no `style` or `on*` attributes — the page runs under a
 * strict CSP), and a chart's "Show as table" alternative.
 */
import { append, h } from "../../static/js/dom.js";

const NS = "http://www.w3.org/2000/svg";

/**
 * Create an SVG element.
 * @param {string} tag e.g. "rect"
 * @param {Object} [attrs] attributes (`class` included); null/false skip one
 * @param {...(Node|string|number|null)} children nodes or text
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "style" || /^on/i.test(key)) throw new Error(`svg(): attribute ${key} is not allowed`);
    el.setAttribute(key, String(value));
  }
  return append(el, children);
}

/** A `<title>` child: the tooltip and accessible name of a mark. */
export function title(text) {
  return svg("title", {}, text);
}

/**
 * A plain data table: the accessible alternative of a chart.
 * @param {string} caption
 * @param {string[]} headers column headers; the first column holds row headers
 * @param {Array<Array<string|number>>} rows cells as text
 * @param {string} [testid]
 */
export function dataTable(caption, headers, rows, testid = "chart-table") {
  return h("div", { class: "report-table__scroll" },
    h("table", { class: "report-table", "data-testid": testid },
      h("caption", { class: "visually-hidden", text: caption }),
      h("thead", {}, h("tr", {}, headers.map((text, i) => h("th", { scope: "col", class: i ? "num" : null, text })))),
      h("tbody", {}, rows.map((row) => h("tr", {},
        row.map((cell, i) => (i ? h("td", { class: "num", text: cell }) : h("th", { scope: "row", text: cell }))))))));
}

/** Nice round upper end for an axis whose largest value is `max` (≥ 1). */
export function niceMax(max) {
  if (max <= 5) return Math.max(1, Math.ceil(max));
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * power >= max / 4) * power;
  return Math.ceil(max / step) * step;
}
