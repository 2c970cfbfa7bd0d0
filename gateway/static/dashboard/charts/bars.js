/**
 * Bar charts in SVG with a `<title>` per bar, each value written beside its bar, and
 * a table alternative: {@link bars} (vertical columns, labels below — the volume by
 * month) and {@link hbars} (horizontal bars, labels on the left — the wait-time
 * distribution, whose band labels are long).
 *
 * Test ids: bar (data-label, data-value) inside the chart's own test id.
 */
import { h } from "../../static/js/dom.js";
import { formatCount } from "../report-format.js";
import { dataTable, niceMax, svg, title } from "./svg.js";

const HEIGHT = 220;
const TOP = 22;
const BOTTOM = 34;
const LEFT = 40;
const SLOT_MIN = 44;
const SLOT_MAX = 120;

/**
 * Render a bar chart.
 * @param {Array<{label: string, value: number, title?: string}>} items in order
 * @param {{caption: string, labelHeader: string, valueHeader: string, testid: string, width?: number}} options
 *   `caption` names the chart for screen readers; the headers name the table's columns
 * @returns {{chart: HTMLElement, table: HTMLElement}}
 */
export function bars(items, { caption, labelHeader, valueHeader, testid, width = 640 }) {
  const max = niceMax(Math.max(1, ...items.map((item) => item.value)));
  const slot = Math.max(SLOT_MIN, Math.min(SLOT_MAX, (width - LEFT) / Math.max(1, items.length)));
  const chartWidth = LEFT + slot * items.length + 8;
  const plot = HEIGHT - TOP - BOTTOM;
  const y = (value) => TOP + plot - (value / max) * plot;
  const ticks = [0, max / 2, max].filter((value) => Number.isInteger(value));
  const summary = `${caption}: ${items.map((item) => `${item.label} ${formatCount(item.value)}`).join(", ")}.`;

  const chart = h("figure", { class: "chart bars", "data-testid": testid },
    svg("svg", { viewBox: `0 0 ${chartWidth} ${HEIGHT}`, width: chartWidth, height: HEIGHT, role: "img", "aria-label": summary, class: "chart__svg" },
      ticks.map((value) => svg("g", { class: "chart__grid" },
        svg("line", { x1: LEFT, x2: chartWidth, y1: y(value), y2: y(value) }),
        svg("text", { class: "chart__tick", x: LEFT - 6, y: y(value) + 4, "text-anchor": "end" }, formatCount(value)))),
      items.map((item, index) => {
        const x = LEFT + index * slot;
        const barWidth = slot * 0.68;
        const top = y(item.value);
        return svg("g", { class: "bars__bar", "data-testid": "bar", "data-label": item.label, "data-value": item.value },
          title(item.title ?? `${item.label}: ${formatCount(item.value)}`),
          svg("rect", { x: x + (slot - barWidth) / 2, y: top, width: barWidth, height: Math.max(0, TOP + plot - top), rx: 2 }),
          svg("text", { class: "bars__value", x: x + slot / 2, y: top - 6, "text-anchor": "middle" }, formatCount(item.value)),
          svg("text", { class: "chart__tick", x: x + slot / 2, y: HEIGHT - BOTTOM + 18, "text-anchor": "middle" }, item.label));
      })));
  const table = dataTable(caption, [labelHeader, valueHeader],
    items.map((item) => [item.label, formatCount(item.value)]), `${testid}-table`);
  return { chart, table };
}

const ROW = 30;
const LABEL_W = 112;
const VALUE_W = 44;

/**
 * Render a horizontal bar chart (one row per item, top to bottom).
 * @param {Array<{label: string, value: number, title?: string}>} items in order
 * @param {{caption: string, labelHeader: string, valueHeader: string, testid: string, width?: number}} options as {@link bars}
 * @returns {{chart: HTMLElement, table: HTMLElement}}
 */
export function hbars(items, { caption, labelHeader, valueHeader, testid, width = 430 }) {
  const max = Math.max(1, ...items.map((item) => item.value));
  const plot = width - LABEL_W - VALUE_W;
  const height = items.length * ROW + 4;
  const summary = `${caption}: ${items.map((item) => `${item.label} ${formatCount(item.value)}`).join(", ")}.`;
  const chart = h("figure", { class: "chart bars bars--horizontal", "data-testid": testid },
    svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": summary, class: "chart__svg" },
      svg("line", { class: "bars__axis", x1: LABEL_W, x2: LABEL_W, y1: 0, y2: height }),
      items.map((item, index) => {
        const y = index * ROW + 2;
        const length = (item.value / max) * plot;
        return svg("g", { class: "bars__bar", "data-testid": "bar", "data-label": item.label, "data-value": item.value },
          title(item.title ?? `${item.label}: ${formatCount(item.value)}`),
          svg("text", { class: "chart__label", x: LABEL_W - 8, y: y + ROW / 2 + 3, "text-anchor": "end" }, item.label),
          svg("rect", { x: LABEL_W, y: y + 4, width: Math.max(0, length), height: ROW - 8, rx: 2 }),
          svg("text", { class: "bars__value", x: LABEL_W + length + 6, y: y + ROW / 2 + 4 }, formatCount(item.value)));
      })));
  const table = dataTable(caption, [labelHeader, valueHeader],
    items.map((item) => [item.label, formatCount(item.value)]), `${testid}-table`);
  return { chart, table };
}
