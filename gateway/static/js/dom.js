/**
 * Tiny DOM helpers. User text only ever becomes text nodes: `h()` never parses HTML,
 * and it refuses `style` and `on*` attributes (the pages run under a strict CSP).
 */

/**
 * Create an element.
 * @param {string} tag element name
 * @param {Object} [props] attributes; special keys: `class`, `text` (text content),
 *   `dataset` (object of data-* values), `value`, `checked`, `disabled`, `hidden`
 *   (set as properties). `true` sets a boolean attribute, `false`/`null` skips it.
 * @param {...(Node|string|number|null|Array)} children nodes or text
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "style" || /^on/i.test(key)) throw new Error(`h(): attribute ${key} is not allowed`);
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (["value", "checked", "disabled", "hidden"].includes(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Append nodes or strings (as text) to `parent`; arrays are flattened, null skipped. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

let idCounter = 0;

/** A document-unique id with the given prefix, for label/aria wiring. */
export function uid(prefix = "rd") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * Announce a sentence to screen readers through the page's `#announcer`
 * (a visually hidden role=status region).
 */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A new text node on the next frame makes repeated identical sentences re-announce.
  requestAnimationFrame(() => { region.textContent = text; });
}
