/**
 * Web addresses in message text become links; everything else stays plain text.
 * Only http(s) addresses are linked (never javascript: or data:), links open in a new
 * tab without access to this page (rel="noopener noreferrer"), and nothing is parsed
 * as HTML: the result is text nodes and <a> elements built with textContent.
 */
import { h } from "./dom.js";

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/; // sentence punctuation after an address is not part of it

/**
 * Split `text` into strings and link elements.
 * @param {string} text message body
 * @returns {(string|HTMLAnchorElement)[]}
 */
export function linkify(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const trailing = match[0].match(TRAILING)?.[0] ?? "";
    const address = match[0].slice(0, match[0].length - trailing.length);
    if (!isWebAddress(address)) continue;
    parts.push(text.slice(last, match.index));
    parts.push(h("a", { href: address, target: "_blank", rel: "noopener noreferrer", text: address }));
    last = match.index + address.length;
  }
  parts.push(text.slice(last));
  return parts.filter((part) => part !== "");
}

function isWebAddress(address) {
  try {
    const url = new URL(address);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}
