/**
 * The admin's Reference Analytics dataset editor (`ra.datasets`, `ra.dataset`,
 * `ra.dataset.save`): pick a dataset or start a new one; edit its name, description
 * and fields — label, kind (fixed once saved: old records keep their meaning),
 * required, options (one per line) for choice fields, default, unit and range for
 * numbers — reorder them with Move up / Move down, add fields, and archive a field
 * (hidden from the form, kept on old records) instead of deleting it; archive a whole
 * dataset (not the default one).
 *
 * Test ids: ds-editor, ds-pick, ds-new, ds-name, ds-description, ds-field (data-key),
 * ds-label, ds-key, ds-kind, ds-required, ds-archived, ds-options, ds-default,
 * ds-add-field, ds-dataset-archived, ds-save, ds-error, ds-saved.
 */
import { announce, h, uid } from "../static/js/dom.js";

const KINDS = [
  ["single_choice", "Single choice"], ["multiple_choice", "Multiple choice"], ["text", "Text"],
  ["number", "Number"], ["datetime", "Date and time"], ["read_scale", "READ scale (1–6)"],
];
const CHOICE = ["single_choice", "multiple_choice"];

/** A field key from a label: "Referred by" → "referred_by". */
export function keyFrom(label, taken) {
  let base = label.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 36);
  if (!/^[a-z]/.test(base)) base = `f_${base}`.slice(0, 36);
  let key = base;
  for (let n = 2; taken.has(key); n += 1) key = `${base}_${n}`;
  return key;
}

function labelled(text, control, extra = {}) {
  const id = control.id || uid("ds");
  control.id = id;
  return h("div", { class: `field ${extra.class ?? ""}`.trim() }, h("label", { for: id, text }), control);
}

export class DatasetEditor {
  /** @param {import("../static/js/socket.js").RefdeskSocket} socket */
  constructor(socket) {
    this.socket = socket;
    this.rows = [];
    this.dataset = null;
    this.pick = h("select", { id: uid("ds-pick"), "data-testid": "ds-pick" });
    this.newButton = h("button", { type: "button", class: "btn", "data-testid": "ds-new", text: "New dataset" });
    this.name = h("input", { type: "text", maxlength: 80, "data-testid": "ds-name" });
    this.description = h("input", { type: "text", maxlength: 500, "data-testid": "ds-description" });
    this.archivedSet = h("input", { type: "checkbox", "data-testid": "ds-dataset-archived" });
    this.list = h("ol", { class: "ds__fields", "aria-label": "Fields, in form order" });
    this.error = h("p", { class: "form-error", role: "alert", "data-testid": "ds-error", hidden: true });
    this.saved = h("p", { class: "ra__saved", role: "status", "data-testid": "ds-saved" });
    const add = h("button", { type: "button", class: "btn", "data-testid": "ds-add-field", text: "Add field" });
    const save = h("button", { type: "submit", class: "btn btn--primary", "data-testid": "ds-save", text: "Save dataset" });
    this.element = h("form", { class: "ds", novalidate: true, "data-testid": "ds-editor", "aria-label": "Dataset editor" },
      h("div", { class: "ds__top" }, labelled("Dataset", this.pick), h("div", {}, this.newButton)),
      h("div", { class: "ds__top" }, labelled("Name", this.name), labelled("Description", this.description)),
      h("div", { class: "ds-field__flags" },
        h("label", {}, this.archivedSet, "Archived dataset (no longer offered on the form; its records are kept)")),
      h("h3", { class: "ra__records-title", text: "Fields" }),
      h("p", { class: "ra__hint", text: "A field's kind can't change once saved; archive a field to take it off the form (old records keep it)." }),
      this.list,
      h("div", { class: "ds__actions" }, add),
      this.error,
      h("div", { class: "ra__actions" }, save, this.saved));
    this.pick.addEventListener("change", () => this.open(this.pick.value));
    this.newButton.addEventListener("click", () => this.#edit({ id: null, name: "", description: "", fields: [] }));
    add.addEventListener("click", () => {
      const row = this.#row({ key: "", label: "", kind: "single_choice", required: false, options: [], archived: false }, true);
      this.rows.push(row);
      this.#renderRows();
      row.label.focus();
    });
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#save();
    });
  }

  /** Load the list of datasets (archived too) and open the first. */
  async load(selected = null) {
    try {
      const { datasets } = await this.socket.request({ type: "ra.datasets", include_archived: true });
      this.pick.replaceChildren(...datasets.map((d) => h("option", { value: d.id, text: d.archived ? `${d.name} (archived)` : d.name })));
      await this.open(selected ?? datasets[0]?.id);
    } catch (error) {
      this.#problem(error.message);
    }
  }

  async open(datasetId) {
    if (!datasetId) return;
    this.pick.value = datasetId;
    this.#edit(await this.socket.request({ type: "ra.dataset", dataset_id: datasetId }));
  }

  #edit(dataset) {
    this.dataset = dataset;
    this.error.hidden = true;
    this.saved.textContent = "";
    this.name.value = dataset.name;
    this.description.value = dataset.description ?? "";
    this.archivedSet.checked = Boolean(dataset.archived);
    this.archivedSet.disabled = dataset.id === "default";
    this.rows = [...dataset.fields].sort((a, b) => a.position - b.position).map((field) => this.#row(field, false));
    this.#renderRows();
    if (!dataset.id) this.name.focus();
  }

  #row(field, isNew) {
    const label = h("input", { type: "text", maxlength: 80, value: field.label, "data-testid": "ds-label" });
    const key = h("input", { type: "text", maxlength: 40, value: field.key, readonly: !isNew, "data-testid": "ds-key",
      "aria-description": isNew ? "Made from the label; letters, digits and _." : "Fixed once saved." });
    const kind = h("select", { "data-testid": "ds-kind", disabled: !isNew },
      KINDS.map(([value, text]) => h("option", { value, text })));
    kind.value = field.kind;
    const required = h("input", { type: "checkbox", checked: field.required, "data-testid": "ds-required" });
    const archived = h("input", { type: "checkbox", checked: field.archived, "data-testid": "ds-archived" });
    const options = h("textarea", { rows: 3, "data-testid": "ds-options", value: (field.options ?? []).join("\n") });
    const defaultValue = h("input", { type: "text", "data-testid": "ds-default",
      value: field.default === null || field.default === undefined ? "" : [].concat(field.default).join(", ") });
    const unit = h("input", { type: "text", maxlength: 20, value: field.unit ?? "" });
    const min = h("input", { type: "number", step: "any", value: field.min_value ?? "" });
    const max = h("input", { type: "number", step: "any", value: field.max_value ?? "" });
    const up = h("button", { type: "button", class: "btn btn--small", text: "Move up" });
    const down = h("button", { type: "button", class: "btn btn--small", text: "Move down" });
    const choiceBox = labelled("Options (one per line)", options, { class: "ds-field__wide" });
    const numberBoxes = [labelled("Unit", unit), labelled("Lowest", min), labelled("Highest", max)];
    const element = h("li", { class: "ds-field", "data-testid": "ds-field", dataset: { key: field.key } },
      labelled("Label", label), labelled("Key", key), labelled("Kind", kind),
      h("div", { class: "ds-field__flags ds-field__wide" },
        h("label", {}, required, "Required"), h("label", {}, archived, "Archived (off the form)")),
      choiceBox, ...numberBoxes, labelled("Default", defaultValue),
      h("div", { class: "ds-field__moves" }, up, down));
    const row = { element, label, key, kind, required, archived, options, defaultValue, unit, min, max, isNew };
    const showKind = () => {
      choiceBox.hidden = !CHOICE.includes(kind.value);
      for (const box of numberBoxes) box.hidden = kind.value !== "number";
    };
    const showArchived = () => element.classList.toggle("ds-field--archived", archived.checked);
    const name = () => {
      const what = label.value.trim() || "this field";
      up.setAttribute("aria-label", `Move ${what} up`);
      down.setAttribute("aria-label", `Move ${what} down`);
    };
    label.addEventListener("input", name);
    name();
    kind.addEventListener("change", showKind);
    archived.addEventListener("change", showArchived);
    label.addEventListener("input", () => {
      if (!row.isNew || row.keyTouched) return;
      key.value = keyFrom(label.value, new Set(this.rows.filter((r) => r !== row).map((r) => r.key.value)));
    });
    key.addEventListener("input", () => { row.keyTouched = true; });
    up.addEventListener("click", () => this.#move(row, -1, up));
    down.addEventListener("click", () => this.#move(row, 1, down));
    showKind();
    showArchived();
    return row;
  }

  #move(row, by, button) {
    const index = this.rows.indexOf(row);
    const to = index + by;
    if (to < 0 || to >= this.rows.length) return;
    this.rows.splice(index, 1);
    this.rows.splice(to, 0, row);
    this.#renderRows();
    button.focus();
    announce(`${row.label.value || "Field"} moved to position ${to + 1}.`);
  }

  #renderRows() {
    this.list.replaceChildren(...this.rows.map((row) => row.element));
  }

  #fieldOf(row) {
    const kind = row.kind.value;
    const field = { key: row.key.value.trim(), label: row.label.value.trim(), kind, required: row.required.checked,
      archived: row.archived.checked };
    if (CHOICE.includes(kind)) field.options = row.options.value.split("\n").map((o) => o.trim()).filter(Boolean);
    if (kind === "number") {
      if (row.unit.value.trim()) field.unit = row.unit.value.trim();
      field.min_value = row.min.value === "" ? 0 : Number(row.min.value);
      if (row.max.value !== "") field.max_value = Number(row.max.value);
    }
    const raw = row.defaultValue.value.trim();
    if (raw) {
      if (kind === "number" || kind === "read_scale") field.default = Number(raw);
      else if (kind === "multiple_choice") field.default = raw.split(",").map((o) => o.trim()).filter(Boolean);
      else field.default = raw;
    }
    return field;
  }

  #problem(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }

  async #save() {
    this.error.hidden = true;
    this.saved.textContent = "";
    const dataset = { name: this.name.value.trim(), description: this.description.value.trim(),
      archived: this.archivedSet.checked, fields: this.rows.map((row) => this.#fieldOf(row)) };
    if (this.dataset?.id) dataset.id = this.dataset.id;
    if (!dataset.name) {
      this.#problem("Please give the dataset a name.");
      this.name.focus();
      return;
    }
    try {
      const saved = await this.socket.request({ type: "ra.dataset.save", dataset });
      await this.load(saved.id);
      this.saved.textContent = "Saved";
      announce("Dataset saved");
    } catch (error) {
      this.#problem(error.message);
    }
  }
}
