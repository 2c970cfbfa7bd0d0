/**
 * The wait-time distribution: a bar per wait-time bucket ("0–30 s", "30–60 s",
 * "1–2 min" …) and, beside it, the figures n, mean, median and 90th percentile.
 *
 * Test ids: wait-histogram (bars: bar), wait-stats (each figure: wait-stat with
 * data-stat n|mean|median|p90).
 */
import { h } from "../../static/js/dom.js";
import { bucketLabel, formatCount, formatDuration } from "../report-format.js";
import { hbars } from "./bars.js";

/**
 * Render the distribution.
 * @param {{buckets: Array<{from: number, to: number|null, count: number, label?: string}>,
 *   n: number, mean: number|null, median: number|null, p90: number|null}} waits seconds
 * @returns {{chart: HTMLElement, table: HTMLElement}}
 */
export function histogram(waits) {
  const items = waits.buckets.map((bucket) => {
    const label = bucket.label ?? bucketLabel(bucket.from, bucket.to);
    return { label, value: bucket.count, title: `Waited ${label}: ${formatCount(bucket.count)} chat${bucket.count === 1 ? "" : "s"}` };
  });
  const drawn = hbars(items, { caption: "Wait time distribution (chats per wait-time band)", labelHeader: "Wait time",
    valueHeader: "Chats", testid: "wait-histogram" });
  const figure = (key, label, value) => h("div", { class: "stat", "data-testid": "wait-stat", "data-stat": key },
    h("dt", { text: label }), h("dd", { text: value }));
  const stats = h("dl", { class: "stats stats--column", "data-testid": "wait-stats" },
    figure("n", "Chats claimed", formatCount(waits.n)),
    figure("mean", "Mean wait", formatDuration(waits.mean)),
    figure("median", "Median wait", formatDuration(waits.median)),
    figure("p90", "90% waited at most", formatDuration(waits.p90)));
  return {
    chart: h("div", { class: "histogram" }, drawn.chart, stats),
    table: h("div", { class: "histogram" }, drawn.table, stats.cloneNode(true)),
  };
}
