/**
 * One Reference Analytics field as form controls, for every field kind:
 * single choice (a radio group for up to RADIO_MAX options, else a select), multiple
 * choice (a checkbox group), number (with its unit and range), date/time
 * (datetime-local), READ scale (a labelled 1–6 radio group, each level with its
 * description) and text (a textarea). `get()` reads the value as `ra.save` wants it,
 * `set(value)` shows one, `mark(problem)` shows a field error.
 *
 * Test ids: ra-field (data-key, data-kind) on each field's wrapper.
 */
import { h, uid } from "../static/js/dom.js";

/** Single-choice fields with at most this many options are radio groups. */
export const RADIO_MAX = 5;

/** "2026-12-02T14:30" (local, for datetime-local inputs) from an ISO-8601 string or Date. */
export function toLocalInput(value) {
  if (!value) return "";
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** ISO-8601 UTC ("2026-12-02T19:30:00.000Z") from a datetime-local value, or null. */
export function fromLocalInput(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export class RaField {
  /**
   * @param {Object} field a DatasetField
   * @param {Array<{level:number,title:string,description:string}>} readScale
   */
  constructor(field, readScale) {
    this.field = field;
    this.id = uid(`ra-${field.key}`);
    this.error = h("p", { id: `${this.id}-error`, class: "field__error", hidden: true });
    this.inputs = [];
    const required = field.required ? h("span", { class: "field__required", text: " required" }) : null;
    const kind = field.kind;
    if (kind === "single_choice" && field.options.length <= RADIO_MAX) {
      this.element = this.#group("radio", field.options.map((option) => [option, option, null]), required, "radiogroup");
    } else if (kind === "read_scale") {
      const levels = readScale.map((level) => [String(level.level), `${level.level} · ${level.title}`, level.description]);
      this.element = this.#group("radio", levels, required, "radiogroup", "ra-read");
    } else if (kind === "multiple_choice") {
      this.element = this.#group("checkbox", field.options.map((option) => [option, option, null]), required);
    } else {
      this.element = this.#single(required);
    }
    this.element.classList.add("field", "ra-field");
    this.element.dataset.testid = "ra-field";
    this.element.dataset.key = field.key;
    this.element.dataset.kind = kind;
    for (const input of this.inputs) {
      input.addEventListener("input", () => this.mark(null));
      input.addEventListener("change", () => this.mark(null));
    }
  }

  /** A fieldset of radios or checkboxes; `choices` are [value, label, description]. */
  #group(type, choices, required, role = null, extraClass = "") {
    const legendId = `${this.id}-legend`;
    const name = this.id;
    const items = choices.map(([value, label, description], index) => {
      const id = `${this.id}-${index}`;
      const input = h("input", { id, type, name, value });
      this.inputs.push(input);
      // The description is the radio's description, not part of its name ("2 · Some knowledge").
      const help = description ? h("span", { id: `${id}-help`, class: "ra-choice__help", "aria-hidden": "true", text: description }) : null;
      if (help) input.setAttribute("aria-describedby", help.id);
      return h("div", { class: "ra-choice" }, input, h("label", { for: id }, h("span", { class: "ra-choice__label", text: label }), help));
    });
    const fieldset = h("fieldset", { class: `ra-group ${extraClass}`.trim(), "aria-labelledby": legendId },
      h("legend", { id: legendId }, this.field.label, required),
      h("div", { class: "ra-group__choices" }, items), this.error);
    if (role) fieldset.setAttribute("role", role);
    if (this.field.required) fieldset.setAttribute("aria-required", "true");
    this.groupType = type;
    return fieldset;
  }

  #single(required) {
    const { field } = this;
    let control;
    if (field.kind === "single_choice") {
      control = h("select", { id: this.id }, h("option", { value: "", text: "Choose…" }),
        field.options.map((option) => h("option", { value: option, text: option })));
    } else if (field.kind === "number") {
      control = h("input", { id: this.id, type: "number", step: "any", inputmode: "decimal",
        min: field.min_value ?? 0, max: field.max_value ?? null });
    } else if (field.kind === "datetime") {
      control = h("input", { id: this.id, type: "datetime-local" });
    } else {
      control = h("textarea", { id: this.id, rows: field.key === "answer" ? 4 : 2 });
    }
    control.name = field.key;
    if (field.required) {
      control.required = true;
      control.setAttribute("aria-required", "true");
    }
    this.control = control;
    this.inputs.push(control);
    const unit = field.kind === "number" && field.unit;
    const label = h("label", { for: this.id }, field.label,
      unit ? h("span", { class: "visually-hidden", text: ` (${field.unit})` }) : null, required);
    const input = unit
      ? h("div", { class: "ra__number" }, control, h("span", { class: "ra__unit", "aria-hidden": "true", text: field.unit }))
      : control;
    return h("div", {}, label, input, this.error);
  }

  /** Whether this field is a "list selection" that Save keeps for the next entry. */
  get keeps() {
    return ["single_choice", "multiple_choice", "read_scale", "number"].includes(this.field.kind);
  }

  /** The value for `ra.save`: text, a number, a list, or undefined when blank. */
  get() {
    const { kind } = this.field;
    if (this.groupType === "checkbox") {
      const chosen = this.inputs.filter((input) => input.checked).map((input) => input.value);
      return chosen.length ? chosen : undefined;
    }
    if (this.groupType === "radio") {
      const chosen = this.inputs.find((input) => input.checked);
      if (!chosen) return undefined;
      return kind === "read_scale" ? Number(chosen.value) : chosen.value;
    }
    const raw = this.control.value.trim();
    if (!raw) return undefined;
    if (kind === "number") return Number.isFinite(Number(raw)) ? Number(raw) : raw;
    if (kind === "datetime") return fromLocalInput(raw) ?? raw;
    return raw;
  }

  /** Show `value` (null/undefined/"" clears). */
  set(value) {
    const blank = value === undefined || value === null || value === "";
    if (this.groupType) {
      const wanted = blank ? [] : (Array.isArray(value) ? value : [value]).map((v) => String(v).toLowerCase());
      for (const input of this.inputs) input.checked = wanted.includes(input.value.toLowerCase());
      return;
    }
    if (this.field.kind === "single_choice") {
      const match = this.field.options.find((option) => !blank && option.toLowerCase() === String(value).toLowerCase());
      this.control.value = match ?? "";
    } else if (this.field.kind === "datetime") {
      this.control.value = blank ? "" : toLocalInput(value);
    } else {
      this.control.value = blank ? "" : String(value);
    }
  }

  /** Client-side problem, or null: required and blank, or a number out of range. */
  check() {
    const value = this.get();
    const { field } = this;
    if (value === undefined) return field.required ? "Required." : null;
    if (field.kind === "number") {
      const low = field.min_value ?? 0;
      const high = field.max_value ?? 1_000_000;
      if (!(typeof value === "number" && value >= low && value <= high) || this.control.validity?.badInput) {
        return `Enter a number from ${low} to ${high}.`;
      }
    }
    return null;
  }

  /** Show or clear a problem on the field. */
  mark(problem) {
    this.element.classList.toggle("field--invalid", Boolean(problem));
    this.error.hidden = !problem;
    this.error.textContent = problem ?? "";
    const target = this.groupType ? this.element : this.control;
    if (problem) {
      target.setAttribute("aria-invalid", "true");
      if (!this.groupType) target.setAttribute("aria-describedby", this.error.id);
    } else {
      target.removeAttribute("aria-invalid");
      if (!this.groupType) target.removeAttribute("aria-describedby");
    }
  }

  get invalid() {
    return this.element.classList.contains("field--invalid");
  }

  focus() {
    (this.inputs.find((input) => input.checked) ?? this.inputs[0])?.focus();
  }
}
