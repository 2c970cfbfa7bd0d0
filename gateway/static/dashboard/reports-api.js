/**
 * The Reports tab's only link to the analytics reporting API (docs/analytics.md,
 * "Reports API"): `GET {analytics}/api/reports/{name}?from&to&department_id&operator_id
 * [&format=csv]` with the operator's token. Every method answers the shape its card
 * draws, so a change of the API changes this module only.
 *
 * Errors: a {@link ReportsError} with `status` (0 when the service can't be reached)
 * and a sentence to show.
 */

/** A failed report request: `status` (HTTP, or 0 for no answer) and a sentence. */
export class ReportsError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }

  /** The analytics service is down or unreachable (not a problem with the request). */
  get unavailable() {
    return this.status === 0 || this.status >= 500;
  }
}

/**
 * @typedef {{from: string, to: string, department_id?: string, operator_id?: string}} Filters
 *   `from` / `to`: local dates YYYY-MM-DD (library time zone), inclusive
 * @typedef {{n: number, mean: number|null, median: number|null, p90: number|null}} Stats seconds
 */

/** Wait-time bands of the distribution, in seconds ([from, to), the last open). */
export const WAIT_BANDS = [0, 30, 60, 120, 300, 600, 1200];

export class ReportsApi {
  /**
   * @param {string} baseUrl the analytics origin, e.g. "http://127.0.0.1:8081"
   * @param {string} token operator token
   */
  constructor(baseUrl, token) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.token = token;
  }

  #url(name, filters, format) {
    const url = new URL(`${this.baseUrl}/api/reports/${name}`);
    for (const [key, value] of Object.entries({ ...filters, format })) {
      if (value) url.searchParams.set(key, value);
    }
    return url;
  }

  async #fetch(name, filters, format = null) {
    let response;
    try {
      response = await fetch(this.#url(name, filters, format), {
        headers: { Authorization: `Bearer ${this.token}`, Accept: format === "csv" ? "text/csv" : "application/json" },
      });
    } catch {
      throw new ReportsError(0, "Reports are unavailable right now.");
    }
    if (!response.ok) {
      const detail = await response.json().then((body) => body?.detail).catch(() => null);
      const fallback = response.status >= 500 ? "Reports are unavailable right now." : "That report could not be shown.";
      throw new ReportsError(response.status, typeof detail === "string" ? detail : fallback);
    }
    return response;
  }

  #inFlight = new Map();

  /**
   * The JSON envelope of report `name`: `{report, time_zone, from, to, filters, rows}`.
   * Cards that load at the same time share one request for the same report and
   * filters (the headline and the wait card both read the summary); a settled request
   * is forgotten, so the next refresh asks again.
   */
  #report(name, filters) {
    const key = this.#url(name, filters, null).href;
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = this.#fetch(name, filters).then((response) => response.json());
      pending.finally(() => this.#inFlight.delete(key)).catch(() => {});
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  /**
   * Headline figures.
   * @returns {Promise<{chats: number, answered: number, missed_rate: number|null,
   *   median_wait: number|null, median_duration: number|null, rating_mean: number|null,
   *   rating_count: number, timeZone: string}>}
   */
  async headline(filters) {
    const data = await this.#report("summary", filters);
    const row = data.rows[0] ?? {};
    return {
      chats: row.chats ?? 0, answered: row.answered ?? 0, missed_rate: row.missed_rate ?? null,
      median_wait: row.wait?.median ?? null, median_duration: row.duration?.median ?? null,
      rating_mean: row.rating_mean ?? null, rating_count: row.rating_count ?? 0, timeZone: data.time_zone,
    };
  }

  /** Chats by weekday and hour: `{counts: 7 rows (Monday first) × 24 hours, total, timeZone}`. */
  async heatmap(filters) {
    const data = await this.#report("weekday-hour", filters);
    const counts = Array.from({ length: 7 }, () => Array(24).fill(0));
    for (const row of data.rows) counts[row.weekday - 1] = row.hours.slice(0, 24);
    return { counts, total: counts.flat().reduce((a, b) => a + b, 0), timeZone: data.time_zone };
  }

  /** Chats by month: `[{month: "YYYY-MM", chats, answered, missed}]`, oldest first. */
  async months(filters) {
    const data = await this.#report("by-month", filters);
    return data.rows.map((row) => ({ month: row.month, chats: row.chats, answered: row.answered, missed: row.missed }));
  }

  /**
   * The wait-time distribution of claimed chats: counts per band of
   * {@link WAIT_BANDS} from the chat facts, with the summary's statistics.
   * @returns {Promise<Stats & {buckets: Array<{from: number, to: number|null, count: number}>}>}
   */
  async waits(filters) {
    const [chats, summary] = await Promise.all([this.#report("chats", filters), this.#report("summary", filters)]);
    const buckets = WAIT_BANDS.map((from, i) => ({ from, to: WAIT_BANDS[i + 1] ?? null, count: 0 }));
    for (const chat of chats.rows) {
      if (chat.wait_seconds === null || chat.wait_seconds === undefined) continue;
      const band = buckets.findLastIndex((bucket) => chat.wait_seconds >= bucket.from);
      buckets[Math.max(0, band)].count += 1;
    }
    const wait = summary.rows[0]?.wait ?? {};
    return { buckets, n: wait.n ?? 0, mean: wait.mean ?? null, median: wait.median ?? null, p90: wait.p90 ?? null };
  }

  /** By department: `[{department_id, chats, answered, missed, missed_rate, median_wait, median_duration}]`. */
  async byDepartment(filters) {
    const data = await this.#report("by-department", filters);
    return data.rows.map((row) => ({
      department_id: row.department_id, chats: row.chats, answered: row.answered, missed: row.missed,
      missed_rate: row.missed_rate, median_wait: row.wait?.median ?? null, median_duration: row.duration?.median ?? null,
    }));
  }

  /** By operator: `[{operator_id, chats, claimed, transfers_in, median_wait, median_duration, rating_mean}]`. */
  async byOperator(filters) {
    const data = await this.#report("by-operator", filters);
    return data.rows.map((row) => ({
      operator_id: row.operator_id, chats: row.chats, claimed: row.claimed, transfers_in: row.transfers_in,
      median_wait: row.wait?.median ?? null, median_duration: row.duration?.median ?? null, rating_mean: row.rating_mean ?? null,
    }));
  }

  /** By mode (the Reference Analytics "Mode" field): `[{mode, records}]`. */
  async byMode(filters) {
    const data = await this.#report("by-mode", filters);
    return data.rows.map((row) => ({ mode: row.value, records: row.records }));
  }

  /**
   * The CSV of report `name` (`format=csv`).
   * @returns {Promise<{blob: Blob, filename: string}>} the file name from
   *   Content-Disposition, else `refdesk-<name>-<from>-<to>.csv`
   */
  async csv(name, filters) {
    const response = await this.#fetch(name, filters, "csv");
    const disposition = response.headers.get("Content-Disposition") ?? "";
    const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    const filename = match ? decodeURIComponent(match[1]) : `refdesk-${name}-${filters.from}-${filters.to}.csv`;
    return { blob: await response.blob(), filename };
  }
}
