/**
 * The weekday × hour heatmap: a 7 × 24 SVG grid (Monday first, hours 00–23 in the
 * library's time zone), darker for more chats, each cell with its count written in
 * it and a `<title>` ("Tuesday 14:00–15:00: 3 chats"), a legend of the colour
 * steps, and a table alternative.
 *
 * Test ids: heatmap, heatmap-cell (data-weekday 0–6 = Monday–Sunday, data-hour,
 * data-count), heatmap-legend.
 */
import { h } from "../../static/js/dom.js";
import { formatCount, hourRange, weekdayName } from "../report-format.js";
import { dataTable, svg, title } from "./svg.js";

const STEPS = 5;
const CELL_W = 38;
const CELL_H = 30;
const GAP = 2;
const LEFT = 44;
const TOP = 22;

/** The colour step (0 = none, 1 … STEPS) of `count` when the busiest cell has `max`. */
export function heatStep(count, max) {
  return count > 0 && max > 0 ? Math.max(1, Math.ceil((count / max) * STEPS)) : 0;
}

/** The legend's steps that hold any count: [{step, from, to}] (counts, inclusive). */
export function heatLegend(max) {
  const steps = [{ step: 0, from: 0, to: 0 }];
  for (let step = 1; step <= STEPS; step += 1) {
    const from = Math.floor(((step - 1) * max) / STEPS) + 1;
    const to = Math.floor((step * max) / STEPS);
    if (from <= to) steps.push({ step, from, to });
  }
  return steps;
}

const chats = (count) => `${formatCount(count)} chat${count === 1 ? "" : "s"}`;

/**
 * Render the heatmap.
 * @param {number[][]} counts 7 rows (Monday … Sunday) of 24 hourly chat counts
 * @param {string} timeZone IANA name the hours are in, for the captions
 * @returns {{chart: HTMLElement, table: HTMLElement}}
 */
export function heatmap(counts, timeZone) {
  const max = Math.max(0, ...counts.flat());
  const width = LEFT + 24 * CELL_W;
  const height = TOP + 7 * CELL_H;
  const busiest = [];
  for (const [day, row] of counts.entries()) {
    for (const [hour, count] of row.entries()) if (count === max && max > 0) busiest.push(`${weekdayName(day)} ${hourRange(hour)}`);
  }
  const summary = max
    ? `Chats by weekday and hour (${timeZone}). Busiest: ${busiest.slice(0, 3).join(", ")}${busiest.length > 3 ? " and others" : ""} with ${chats(max)}.`
    : `Chats by weekday and hour (${timeZone}): none.`;

  const hourLabels = Array.from({ length: 24 }, (_, hour) => svg("text", {
    class: "chart__tick", x: LEFT + hour * CELL_W + CELL_W / 2, y: TOP - 8, "text-anchor": "middle",
  }, String(hour).padStart(2, "0")));
  const rows = counts.map((row, day) => svg("g", { class: "heatmap__row" },
    svg("text", { class: "chart__tick", x: LEFT - 8, y: TOP + day * CELL_H + CELL_H / 2 + 4, "text-anchor": "end" },
      weekdayName(day).slice(0, 3)),
    row.map((count, hour) => {
      const step = heatStep(count, max);
      const x = LEFT + hour * CELL_W;
      const y = TOP + day * CELL_H;
      return svg("g", { class: `heatmap__cell heat-${step}`, "data-testid": "heatmap-cell", "data-weekday": day, "data-hour": hour, "data-count": count },
        title(`${weekdayName(day)} ${hourRange(hour)}: ${chats(count)}`),
        svg("rect", { x: x + GAP / 2, y: y + GAP / 2, width: CELL_W - GAP, height: CELL_H - GAP, rx: 3 }),
        count ? svg("text", { x: x + CELL_W / 2, y: y + CELL_H / 2 + 4, "text-anchor": "middle" }, formatCount(count)) : null);
    })));
  const chart = h("figure", { class: "chart heatmap", "data-testid": "heatmap" },
    svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": summary, class: "chart__svg" },
      hourLabels, rows),
    h("figcaption", { class: "chart__legend", "data-testid": "heatmap-legend" },
      h("span", { text: "Chats per hour:" }),
      heatLegend(max).map(({ step, from, to }) => h("span", { class: "chart__key" },
        h("span", { class: `chart__swatch heat-${step}`, "aria-hidden": "true" }),
        from === to ? formatCount(from) : `${formatCount(from)}–${formatCount(to)}`)),
      h("span", { class: "chart__note", text: `Hours in ${timeZone}.` })));

  const table = dataTable(`Chats by weekday and hour (${timeZone})`,
    ["Weekday", ...Array.from({ length: 24 }, (_, hour) => String(hour).padStart(2, "0"))],
    counts.map((row, day) => [weekdayName(day), ...row.map(formatCount)]), "heatmap-table");
  return { chart, table };
}
