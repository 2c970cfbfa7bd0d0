/**
 * Talking to the page that frames the patron chat (widget.js): Esc asks it to close
 * the panel, new messages ask it to flag the button, and it can ask us to focus.
 * Messages are `{type: "refdesk:<name>"}` objects without any chat data.
 */

export const embedded = window.parent !== window;

/** Post `refdesk:<name>` to the framing page (no-op when not framed). */
export function tellParent(name) {
  if (embedded) window.parent.postMessage({ type: `refdesk:${name}` }, "*");
}

/**
 * Handle `refdesk:<name>` messages from the framing page.
 * @param {Object<string, () => void>} handlers by name, e.g. {focus() {…}}
 */
export function listenToParent(handlers) {
  if (!embedded) return;
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return;
    const type = typeof event.data?.type === "string" ? event.data.type : "";
    if (type.startsWith("refdesk:")) handlers[type.slice(8)]?.();
  });
}

/** Esc anywhere in the page closes the widget panel. */
export function closeOnEscape() {
  if (!embedded) return;
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) tellParent("close");
  });
}
