/**
 * Number, duration and date formatting for the Reports tab. Pure functions: no DOM.
 */

const integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat("en", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const DASH = "—";

/** "1,234" for a count; "—" when unknown. */
export function formatCount(value) {
  return Number.isFinite(value) ? integer.format(value) : DASH;
}

/** "12.5%" for a fraction from 0 to 1; "—" when unknown. */
export function formatPercent(fraction) {
  return Number.isFinite(fraction) ? `${oneDecimal.format(fraction * 100)}%` : DASH;
}

/** "4.3" for an average rating; "—" when unknown (no rated chat). */
export function formatRating(value) {
  return Number.isFinite(value) ? oneDecimal.format(value) : DASH;
}

/**
 * A duration for people: "45 s", "2 min 05 s", "1 h 02 min"; "—" when unknown.
 * @param {number|null} seconds
 */
export function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return DASH;
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (hours) return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  if (minutes) return `${minutes} min ${String(secs).padStart(2, "0")} s`;
  return `${secs} s`;
}

/** [divisor, unit] for a bucket whose upper end is `seconds`: seconds up to a
 * minute, minutes up to an hour, hours beyond. */
function unitFor(seconds) {
  if (seconds <= 60) return [1, "s"];
  if (seconds <= 3600) return [60, "min"];
  return [3600, "h"];
}

const short = (value) => String(+value.toFixed(1));

/**
 * A wait-time bucket label: "0–30 s", "30–60 s", "1–2 min", "10 min or more".
 * @param {number} from seconds (inclusive)
 * @param {number|null} to seconds (exclusive), null for the open last bucket
 */
export function bucketLabel(from, to) {
  if (to === null || to === undefined) {
    const [divisor, unit] = unitFor(from);
    return `${short(from / divisor)} ${unit} or more`;
  }
  const [divisor, unit] = unitFor(to);
  return `${short(from / divisor)}–${short(to / divisor)} ${unit}`;
}

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/** "Monday" … "Sunday" for 0 (Monday) … 6 (Sunday), as ISO weekdays minus one. */
export function weekdayName(index) {
  return WEEKDAYS[index] ?? "";
}

/** "14:00–15:00" for hour 14. */
export function hourRange(hour) {
  const pad = (value) => `${String(value).padStart(2, "0")}:00`;
  return `${pad(hour)}–${pad((hour + 1) % 24 || 24)}`;
}

/** "Nov 2026" for "2026-11" (no time zone involved). */
export function monthLabel(month) {
  const [year, number] = month.split("-").map(Number);
  const names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  return names[number - 1] ? `${names[number - 1]} ${year}` : month;
}

/** "YYYY-MM-DD" of a Date in the browser's time zone (for date inputs). */
export function isoDate(date) {
  const pad = (value) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The default period: the last 30 days, today included ({from, to} as YYYY-MM-DD). */
export function last30Days(today = new Date()) {
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29);
  return { from: isoDate(from), to: isoDate(today) };
}
