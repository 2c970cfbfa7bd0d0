/** JSON over HTTP to the gateway, with errors as readable sentences. */

/** An HTTP error: `status` (number) and a sentence to show as `message`. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The sentence in a `{"detail": ...}` body: a string, or FastAPI's list of problems. */
function detailText(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((item) => {
      const field = Array.isArray(item?.loc) ? item.loc[item.loc.length - 1] : "";
      const text = String(item?.msg ?? "is not valid").replace(/^Value error, /, "");
      return field && field !== "body" ? `${field}: ${text}` : text;
    }).join(" ");
  }
  return "";
}

/**
 * Call a gateway endpoint with a JSON body.
 * @param {string} path e.g. "/api/auth/login" (same origin)
 * @param {{method?: string, body?: Object, token?: string}} [options]
 * @returns {Promise<Object>} the decoded JSON answer (or {} when empty)
 * @throws {ApiError} on a non-2xx answer or when the network fails (status 0)
 */
export async function api(path, { method = "GET", body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "Can't reach the library's chat service. Check your connection and try again.");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const fallback = response.status >= 500
      ? "The chat service is having trouble. Please try again in a moment."
      : "That didn't work. Please check and try again.";
    throw new ApiError(response.status, detailText(data?.detail) || fallback);
  }
  return data;
}
