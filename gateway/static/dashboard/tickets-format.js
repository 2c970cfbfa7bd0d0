/**
 * Small shared formatting for the Tickets tab: status badges and "when" texts.
 */
import { h } from "../static/js/dom.js";

const sameDay = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const otherDay = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });

/** "2:05 PM" today, else "Dec 1, 2:05 PM" (viewer's locale and zone); "" when missing. */
export function formatWhen(iso, now = new Date()) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return (date.toDateString() === now.toDateString() ? sameDay : otherDay).format(date);
}

/** A status badge (`New`, `Open`, `Pending`, `Closed`), coloured by `data-status`. */
export function statusBadge(status, props = {}) {
  return h("span", { class: "ticket-status", dataset: { status }, text: status, ...props });
}
