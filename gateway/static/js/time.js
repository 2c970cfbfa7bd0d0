/** Time formatting for transcripts and queues. Inputs are UTC ISO-8601 strings. */

const clock = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });

/** "2:05 PM" (the viewer's locale and time zone) for an ISO time; "" when missing. */
export function formatClock(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : clock.format(date);
}

/** Whole seconds elapsed since an ISO time, never negative (clock skew). */
export function secondsSince(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return 0;
  return Math.max(0, Math.floor((now - then) / 1000));
}

/** "0:42", "12:05", "1:02:03" for a number of seconds. */
export function formatElapsed(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const secs = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}
