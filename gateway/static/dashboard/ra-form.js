/**
 * The Reference Analytics form shown in a chat pane after the chat ends (`ra.form`,
 * `ra.save`). Fields come from the dataset: choice → select, number → number input
 * with its unit, text → textarea. Required fields are marked and checked before
 * saving; a 422 from the server is shown above the Save button and the fields it
 * names are highlighted. After saving — or when `ra.form` brings back the chat's
 * saved `record` (a reloaded dashboard) — the fields show the saved values, read-only,
 * with "Saved", an Edit button (fields editable again, Save to correct the record)
 * and a Close Chat button.
 *
 * Test ids: ra-form, ra-field (data-key), ra-error, ra-save, ra-saved, ra-edit, close-chat.
 */
import { h, uid } from "../static/js/dom.js";

/** The value a field starts with: from the saved record's values or the gateway's
 * prefill (`ra.form`), else empty. */
export function prefillValue(field, prefill) {
  const value = prefill?.[field.key];
  return value === undefined || value === null ? "" : value;
}

export class RaForm {
  /**
   * @param {Object} chat the ended ChatView
   * @param {import("../static/js/socket.js").RefdeskSocket} socket
   * @param {() => Promise<void>} closeChat sends chat.close; rejects with a SocketError
   */
  constructor(chat, socket, closeChat) {
    this.chat = chat;
    this.socket = socket;
    this.closeChat = closeChat;
    this.dataset = null;
    this.controls = new Map(); // field key → {field, control, wrapper, error}
    this.titleId = uid("ra-title");
    this.error = h("div", { class: "form-error", role: "alert", "data-testid": "ra-error", hidden: true });
    this.fields = h("div", { class: "ra__fields" }, h("p", { class: "ra__loading", text: "Loading the form…" }));
    this.save = h("button", { type: "submit", class: "btn btn--primary", "data-testid": "ra-save", text: "Save", disabled: true });
    this.saved = h("p", { class: "ra__saved", role: "status", "data-testid": "ra-saved", hidden: true, text: "Saved" });
    this.edit = h("button", { type: "button", class: "btn", "data-testid": "ra-edit", text: "Edit", hidden: true });
    this.close = h("button", { type: "button", class: "btn", "data-testid": "close-chat", text: "Close Chat", hidden: true });
    this.element = h("form", { class: "ra", "data-testid": "ra-form", novalidate: true, "aria-labelledby": this.titleId },
      h("h4", { id: this.titleId, class: "ra__title", text: "Reference Analytics" }),
      h("p", { class: "ra__hint", text: "Record this chat before closing it. Fields marked “required” must be filled in." }),
      this.fields, this.error,
      h("div", { class: "ra__actions" }, this.save, this.saved, this.edit, this.close));
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#save();
    });
    this.close.addEventListener("click", () => this.#close());
    this.edit.addEventListener("click", () => this.#editing());
  }

  /** Move keyboard focus to Close Chat once the record is saved, else to the first
   * field that still needs a value. */
  focusFirst() {
    if (!this.close.hidden) {
      this.close.focus();
      return;
    }
    const entries = [...this.controls.values()];
    (entries.find(({ field, control }) => field.required && !control.value) ?? entries[0])?.control.focus();
  }

  /** Fetch the dataset, prefill and saved record (`ra.form`) and render the fields:
   * the saved values when the chat has a record, the prefill otherwise. */
  async load() {
    try {
      const data = await this.socket.request({ type: "ra.form", chat_id: this.chat.id });
      this.dataset = data.dataset;
      this.#render(data.dataset, data.record?.values ?? data.prefill ?? {});
      this.save.disabled = false;
      if (data.record) this.#showSaved();
    } catch (error) {
      this.fields.replaceChildren(h("p", { class: "form-error", role: "alert", text: `Couldn't load the form: ${error.message}` }),
        h("button", { type: "button", class: "btn btn--small", text: "Try again" }));
      this.fields.querySelector("button").addEventListener("click", () => this.load());
    }
  }

  #render(dataset, prefill) {
    this.controls.clear();
    const fields = [...dataset.fields].sort((a, b) => a.position - b.position);
    this.fields.replaceChildren(...fields.map((field) => this.#field(field, prefillValue(field, prefill))));
  }

  #field(field, value) {
    const id = uid(`ra-${field.key}`);
    const errorId = `${id}-error`;
    let control;
    if (field.kind === "choice") {
      control = h("select", { id }, h("option", { value: "", text: "Choose…" }),
        field.options.map((option) => h("option", { value: option, text: option })));
      const match = field.options.find((option) => option.toLowerCase() === String(value).toLowerCase());
      control.value = match ?? "";
    } else if (field.kind === "number") {
      control = h("input", { id, type: "number", min: "0", step: "any", inputmode: "decimal", value: value === "" ? "" : String(value) });
    } else {
      control = h("textarea", { id, rows: 2, value: String(value ?? "") });
    }
    control.name = field.key;
    if (field.required) {
      control.required = true;
      control.setAttribute("aria-required", "true");
    }
    const label = h("label", { for: id }, field.label,
      field.unit ? h("span", { class: "visually-hidden", text: ` (${field.unit})` }) : null,
      field.required ? h("span", { class: "field__required", text: " required" }) : null);
    const input = field.kind === "number" && field.unit
      ? h("div", { class: "ra__number" }, control, h("span", { class: "ra__unit", "aria-hidden": "true", text: field.unit }))
      : control;
    const error = h("p", { id: errorId, class: "field__error", hidden: true });
    const wrapper = h("div", { class: "field", dataset: { testid: "ra-field", key: field.key } }, label, input, error);
    control.addEventListener("input", () => this.#mark(field.key, null));
    control.addEventListener("change", () => this.#mark(field.key, null));
    this.controls.set(field.key, { field, control, wrapper, error });
    return wrapper;
  }

  /** Values for `ra.save`: numbers as numbers, blanks left out. */
  #values() {
    const values = {};
    for (const [key, { field, control }] of this.controls) {
      const raw = control.value.trim();
      if (!raw) continue;
      values[key] = field.kind === "number" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    }
    return values;
  }

  /** Client-side check; returns the labels of problem fields (and marks them). */
  #check(values) {
    const problems = [];
    for (const [key, { field, control }] of this.controls) {
      let problem = null;
      if (field.required && values[key] === undefined) problem = "Required.";
      else if (field.kind === "number" && values[key] !== undefined && !(Number(values[key]) >= 0)) problem = "Enter a number, 0 or more.";
      else if (field.kind === "number" && control.validity?.badInput) problem = "Enter a number, 0 or more.";
      this.#mark(key, problem);
      if (problem) problems.push(field.label);
    }
    return problems;
  }

  #mark(key, problem) {
    const entry = this.controls.get(key);
    if (!entry) return;
    entry.wrapper.classList.toggle("field--invalid", Boolean(problem));
    entry.error.hidden = !problem;
    entry.error.textContent = problem ?? "";
    if (problem) {
      entry.control.setAttribute("aria-invalid", "true");
      entry.control.setAttribute("aria-describedby", entry.error.id);
    } else {
      entry.control.removeAttribute("aria-invalid");
      entry.control.removeAttribute("aria-describedby");
    }
  }

  #showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }

  async #save() {
    if (!this.dataset || this.save.disabled) return;
    this.error.hidden = true;
    const values = this.#values();
    const problems = this.#check(values);
    if (problems.length) {
      this.#showError(`Please fill in: ${problems.join(", ")}.`);
      this.#focusFirstInvalid();
      return;
    }
    this.save.disabled = true;
    this.save.textContent = "Saving…";
    try {
      await this.socket.request({ type: "ra.save", chat_id: this.chat.id, dataset_id: this.dataset.id, values });
    } catch (error) {
      this.save.disabled = false;
      this.save.textContent = "Save";
      this.#showError(error.message);
      this.#highlightNamed(error.message);
      return;
    }
    this.#showSaved();
    this.close.focus();
  }

  /** The saved state: read-only fields, "Saved", Edit and Close Chat. */
  #showSaved() {
    for (const { control } of this.controls.values()) control.disabled = true;
    this.save.hidden = true;
    this.save.disabled = false;
    this.save.textContent = "Save";
    this.saved.hidden = false;
    this.edit.hidden = false;
    this.close.hidden = false;
  }

  /** Edit: the fields editable again; Save corrects the saved record. */
  #editing() {
    for (const { control } of this.controls.values()) control.disabled = false;
    this.saved.hidden = true;
    this.edit.hidden = true;
    this.close.hidden = true;
    this.save.hidden = false;
    this.focusFirst();
  }

  /** Highlight the fields whose label a server message names. */
  #highlightNamed(message) {
    const text = message.toLowerCase();
    for (const [key, { field }] of this.controls) {
      if (text.includes(field.label.toLowerCase()) || text.includes(key.toLowerCase())) this.#mark(key, "Please check this field.");
    }
    this.#focusFirstInvalid();
  }

  #focusFirstInvalid() {
    [...this.controls.values()].find(({ control }) => control.getAttribute("aria-invalid") === "true")?.control.focus();
  }

  async #close() {
    this.close.disabled = true;
    this.error.hidden = true;
    try {
      await this.closeChat();
    } catch (error) {
      this.close.disabled = false;
      this.#showError(error.message);
    }
  }
}
