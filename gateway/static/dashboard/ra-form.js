/**
 * The Reference Analytics form (`ra.form`, `ra.save`, `ra.delete`, `ra.list`,
 * `ra.history`): in a chat pane after the chat ends (prefilled from the chat: question,
 * an answer excerpt of the transcript, mode, duration), or — without a chat — for a
 * question answered at the desk, by phone or by email ("Record a question" in the top
 * bar; it may name one of the operator's departments).
 *
 * Fields come from the dataset (see ra-fields.js for each kind); "Answered at" starts
 * at now and may be set earlier (backdating). "Save" records the question and keeps
 * the choices for the next one (text fields are cleared), confirming "Saved"; "Save &
 * clear" records it and resets the whole form. A chat may have several records: they
 * are listed below the form with Edit (the form shows the record; "Save changes"
 * corrects it), Delete (asks first) and History (the audit trail). A 422 from the
 * server is shown above the buttons and the fields it names are highlighted.
 *
 * Test ids: ra-form, ra-dataset, ra-answered-at, ra-department, ra-field (data-key),
 * ra-error, ra-save, ra-save-clear, ra-saved, ra-cancel-edit, ra-records, ra-record,
 * ra-record-edit, ra-record-delete, ra-delete-confirm, ra-delete-cancel,
 * ra-record-history, ra-history, close-chat, close-chat-confirmation (shown when Close
 * Chat is pressed with no record saved), close-chat-confirm, close-chat-cancel.
 */
import { announce, h, uid } from "../static/js/dom.js";
import { RaField, fromLocalInput, toLocalInput } from "./ra-fields.js";

/** The value a field starts with: the prefill (from the chat), else the field's default. */
export function prefillValue(field, prefill) {
  const value = prefill?.[field.key];
  if (value !== undefined && value !== null && value !== "") return value;
  return field.default ?? "";
}

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export class RaForm {
  /**
   * @param {Object|null} chat the ended ChatView, or null for a hand entry
   * @param {import("../static/js/socket.js").RefdeskSocket} socket
   * @param {(() => Promise<void>)|null} closeChat sends chat.close (chat forms only)
   * @param {Array<{id: string, name: string}>} departments the operator's, offered on a hand entry
   */
  constructor(chat, socket, closeChat = null, departments = []) {
    this.chat = chat;
    this.socket = socket;
    this.closeChat = closeChat;
    this.dataset = null;
    this.fields = new Map(); // key → RaField
    this.records = [];
    this.editing = null; // the record being corrected
    this.titleId = uid("ra-title");
    const whenId = uid("ra-when");
    this.error = h("div", { class: "form-error", role: "alert", "data-testid": "ra-error", hidden: true });
    this.datasetSelect = h("select", { id: uid("ra-dataset"), "data-testid": "ra-dataset" });
    this.datasetField = h("div", { class: "field ra__dataset", hidden: true },
      h("label", { for: this.datasetSelect.id, text: "Dataset" }), this.datasetSelect);
    this.when = h("input", { id: whenId, type: "datetime-local", "data-testid": "ra-answered-at", required: true });
    // A hand entry may name one of the operator's departments (a chat's record takes the chat's).
    this.department = !chat && departments.length ? h("select", { id: uid("ra-department"), "data-testid": "ra-department" },
      h("option", { value: "", text: "No department" }), departments.map((d) => h("option", { value: d.id, text: d.name }))) : null;
    this.whenField = h("div", { class: "field ra__when" },
      h("label", { for: whenId }, "Answered at", h("span", { class: "field__note", text: " (now, or earlier)" })), this.when);
    this.body = h("div", { class: "ra__fields" }, h("p", { class: "ra__loading", text: "Loading the form…" }));
    this.save = h("button", { type: "submit", class: "btn btn--primary", "data-testid": "ra-save", text: "Save", disabled: true });
    this.saveClear = h("button", { type: "button", class: "btn", "data-testid": "ra-save-clear", text: "Save & clear", disabled: true });
    this.cancelEdit = h("button", { type: "button", class: "btn", "data-testid": "ra-cancel-edit", text: "Cancel edit", hidden: true });
    this.saved = h("p", { class: "ra__saved", role: "status", "data-testid": "ra-saved" });
    this.close = closeChat ? h("button", { type: "button", class: "btn", "data-testid": "close-chat", text: "Close Chat" }) : null;
    // LibChat asks for Reference Analytics at the end: closing with nothing recorded asks first.
    this.closeAnyway = h("button", { type: "button", class: "btn btn--small btn--danger", "data-testid": "close-chat-confirm", text: "Close anyway" });
    this.closeKeep = h("button", { type: "button", class: "btn btn--small", "data-testid": "close-chat-cancel", text: "Keep the form" });
    this.closeConfirm = h("div", { class: "ra__confirm", role: "alert", "data-testid": "close-chat-confirmation", hidden: true },
      h("span", { class: "ra__confirm-text", text: "Close without a Reference Analytics record?" }), this.closeAnyway, this.closeKeep);
    this.list = h("ul", { class: "ra__records", "data-testid": "ra-records" });
    this.listTitle = h("h5", { class: "ra__records-title", text: chat ? "Recorded for this chat" : "My recent records", hidden: true });
    const title = chat ? "Reference Analytics" : "Record a question";
    const hint = chat
      ? "Record each question of this chat. Save keeps your choices for the next question."
      : "For a question answered at the desk, by phone or by email. Save keeps your choices for the next one.";
    this.element = h("form", { class: "ra", "data-testid": "ra-form", novalidate: true, "aria-labelledby": this.titleId },
      // In the "Record a question" dialog the dialog's heading already says it.
      h("h4", { id: this.titleId, class: chat ? "ra__title" : "ra__title visually-hidden", text: title }),
      h("p", { class: "ra__hint", text: hint }),
      this.datasetField, this.whenField,
      this.department ? h("div", { class: "field ra__when" }, h("label", { for: this.department.id, text: "Department" }), this.department) : null,
      this.body, this.error,
      h("div", { class: "ra__actions" }, this.save, this.saveClear, this.cancelEdit, this.close, this.saved,
        closeChat ? this.closeConfirm : null),
      this.listTitle, this.list);
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#save(false);
    });
    this.saveClear.addEventListener("click", () => this.#save(true));
    this.cancelEdit.addEventListener("click", () => this.#stopEditing(true));
    this.close?.addEventListener("click", () => this.#askClose());
    this.closeAnyway.addEventListener("click", () => this.#close());
    this.closeKeep.addEventListener("click", () => {
      this.closeConfirm.hidden = true;
      this.focusFirst();
    });
    this.datasetSelect.addEventListener("change", () => this.load(this.datasetSelect.value));
  }

  /** Focus the first field that still needs a value (or the first field). */
  focusFirst() {
    const entries = [...this.fields.values()];
    (entries.find((f) => f.field.required && f.get() === undefined) ?? entries[0])?.focus();
  }

  /** Fetch the dataset, READ scale, prefill and this chat's (or my) records; render. */
  async load(datasetId = null) {
    try {
      const frame = { type: "ra.form" };
      if (this.chat) frame.chat_id = this.chat.id;
      if (datasetId) frame.dataset_id = datasetId;
      const data = await this.socket.request(frame);
      this.dataset = data.dataset;
      this.readScale = data.read_scale ?? [];
      this.prefill = data.prefill ?? {};
      this.#datasets(data.datasets ?? [], data.dataset.id);
      this.#render();
      this.#reset(this.prefill);
      this.save.disabled = false;
      this.saveClear.disabled = false;
      if (this.chat) this.#showRecords(data.records ?? []);
      else await this.#loadMine();
    } catch (error) {
      this.body.replaceChildren(h("p", { class: "form-error", role: "alert", text: `Couldn't load the form: ${error.message}` }),
        h("button", { type: "button", class: "btn btn--small", text: "Try again" }));
      this.body.querySelector("button").addEventListener("click", () => this.load(datasetId));
    }
  }

  #datasets(datasets, current) {
    this.datasetField.hidden = datasets.length < 2;
    this.datasetSelect.replaceChildren(...datasets.map((d) => h("option", { value: d.id, text: d.name })));
    this.datasetSelect.value = current;
  }

  #render() {
    this.fields.clear();
    const live = this.dataset.fields.filter((field) => !field.archived).sort((a, b) => a.position - b.position);
    for (const field of live) this.fields.set(field.key, new RaField(field, this.readScale));
    this.body.replaceChildren(...[...this.fields.values()].map((f) => f.element));
  }

  /** Every field from `values` (else its default); the time from `answeredAt` or now. */
  #reset(values, answeredAt = null) {
    for (const f of this.fields.values()) {
      f.set(prefillValue(f.field, values));
      f.mark(null);
    }
    this.when.value = toLocalInput(answeredAt ?? new Date());
    this.when.max = toLocalInput(new Date(Date.now() + 5 * 60_000));
  }

  /** After "Save": keep the choices, clear the text, time back to now. */
  #keepChoices() {
    for (const f of this.fields.values()) {
      if (!f.keeps) f.set(f.field.default ?? "");
      f.mark(null);
    }
    this.when.value = toLocalInput(new Date());
  }

  #values() {
    const values = {};
    for (const [key, f] of this.fields) {
      const value = f.get();
      if (value !== undefined) values[key] = value;
    }
    if (this.editing) {  // keep what an archived field holds in the record being corrected
      for (const [key, value] of Object.entries(this.editing.values)) if (!this.fields.has(key)) values[key] = value;
    }
    return values;
  }

  #check() {
    const problems = [];
    for (const f of this.fields.values()) {
      const problem = f.check();
      f.mark(problem);
      if (problem) problems.push(f.field.label);
    }
    return problems;
  }

  #showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }

  async #save(clear) {
    if (!this.dataset || this.save.disabled) return;
    this.error.hidden = true;
    this.saved.textContent = "";
    const problems = this.#check();
    if (problems.length) {
      this.#showError(`Please fill in: ${problems.join(", ")}.`);
      this.#focusFirstInvalid();
      return;
    }
    const frame = { type: "ra.save", dataset_id: this.dataset.id, values: this.#values() };
    const answeredAt = fromLocalInput(this.when.value);
    if (answeredAt) frame.answered_at = answeredAt;
    if (this.editing) frame.record_id = this.editing.id;
    else if (this.chat) frame.chat_id = this.chat.id;
    else if (this.department?.value) frame.department_id = this.department.value;
    this.#busy(true);
    let record;
    try {
      record = await this.socket.request(frame);
    } catch (error) {
      this.#busy(false);
      this.#showError(error.message);
      this.#highlightNamed(error.message);
      return;
    }
    this.#busy(false);
    const corrected = Boolean(this.editing);
    this.records = [record, ...this.records.filter((r) => r.id !== record.id)]
      .sort((a, b) => (b.answered_at ?? "").localeCompare(a.answered_at ?? ""));
    this.#showRecords(this.records);
    if (corrected) this.#stopEditing(false);
    if (clear || corrected) this.#reset({}, null);
    else this.#keepChoices();
    this.saved.textContent = corrected ? "Saved changes" : "Saved";
    announce(this.saved.textContent);
    this.focusFirst();
  }

  #busy(busy) {
    this.save.disabled = busy;
    this.saveClear.disabled = busy;
    this.save.textContent = busy ? "Saving…" : (this.editing ? "Save changes" : "Save");
  }

  async #loadMine() {
    try {
      const page = await this.socket.request({ type: "ra.list", limit: 5 });
      this.#showRecords(page.records ?? []);
    } catch {
      this.#showRecords([]);
    }
  }

  #showRecords(records) {
    this.records = records;
    this.listTitle.hidden = !records.length;
    this.list.replaceChildren(...records.map((record) => this.#recordItem(record)));
  }

  #summary(record) {
    const v = record.values ?? {};
    const parts = [v.mode, v.location, v.question_type, v.read_scale ? `READ ${v.read_scale}` : null].filter(Boolean);
    return [...new Set(parts)].join(" · ") || "Recorded";
  }

  #recordItem(record) {
    const when = record.answered_at ? TIME.format(new Date(record.answered_at)) : "";
    const question = record.values?.question;
    const edit = h("button", { type: "button", class: "btn btn--small", "data-testid": "ra-record-edit", text: "Edit" });
    const remove = h("button", { type: "button", class: "btn btn--small btn--danger", "data-testid": "ra-record-delete", text: "Delete" });
    const confirm = h("span", { class: "ra-record__confirm", role: "group", "aria-label": "Delete this record?", hidden: true },
      h("span", { text: "Delete this record?" }),
      h("button", { type: "button", class: "btn btn--small btn--danger", "data-testid": "ra-delete-confirm", text: "Delete" }),
      h("button", { type: "button", class: "btn btn--small", "data-testid": "ra-delete-cancel", text: "Keep" }));
    const [yes, no] = confirm.querySelectorAll("button");
    const historyId = uid("ra-history");
    const history = h("button", { type: "button", class: "btn btn--small btn--quiet", "data-testid": "ra-record-history",
      text: "History", "aria-expanded": "false", "aria-controls": historyId });
    const trail = h("ol", { id: historyId, class: "ra-record__history", "data-testid": "ra-history", hidden: true });
    const item = h("li", { class: "ra-record", "data-testid": "ra-record", dataset: { id: record.id } },
      h("p", { class: "ra-record__line" }, h("time", { datetime: record.answered_at ?? "", text: when }), " — ", this.#summary(record)),
      question ? h("p", { class: "ra-record__question", text: question }) : null,
      h("div", { class: "ra-record__actions" }, edit, remove, history, confirm), trail);
    history.addEventListener("click", () => this.#toggleHistory(record, history, trail));
    edit.addEventListener("click", () => this.#startEditing(record));
    remove.addEventListener("click", () => {
      remove.hidden = true;
      confirm.hidden = false;
      no.focus();
    });
    no.addEventListener("click", () => {
      confirm.hidden = true;
      remove.hidden = false;
      remove.focus();
    });
    yes.addEventListener("click", () => this.#delete(record, yes));
    return item;
  }

  /** Show (or hide) the record's audit trail: when, what, who, which fields changed. */
  async #toggleHistory(record, button, trail) {
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", String(!open));
    trail.hidden = open;
    if (open) return;
    trail.replaceChildren(h("li", { text: "Loading…" }));
    try {
      const { entries } = await this.socket.request({ type: "ra.history", record_id: record.id });
      const labels = new Map(this.dataset.fields.map((f) => [f.key, f.label]));
      labels.set("answered_at", "Answered at");
      const verbs = { create: "Recorded", update: "Changed", delete: "Deleted" };
      trail.replaceChildren(...entries.map((entry) => {
        const changed = entry.action === "update" && entry.changed.length
          ? `: ${entry.changed.map((key) => labels.get(key) ?? key).join(", ")}` : "";
        return h("li", {}, h("time", { datetime: entry.at, text: TIME.format(new Date(entry.at)) }),
          ` — ${verbs[entry.action] ?? entry.action} by ${entry.actor_name || "a librarian"}${changed}`);
      }));
    } catch (error) {
      trail.replaceChildren(h("li", { class: "field__error", text: `Couldn't load the history: ${error.message}` }));
    }
  }

  async #startEditing(record) {
    if (record.dataset_id !== this.dataset.id) await this.load(record.dataset_id);
    this.editing = record;
    this.#reset(record.values, record.answered_at);
    this.save.textContent = "Save changes";
    this.saveClear.hidden = true;
    this.cancelEdit.hidden = false;
    this.saved.textContent = "";
    this.element.classList.add("ra--editing");
    this.focusFirst();
  }

  #stopEditing(restore) {
    this.editing = null;
    this.save.textContent = "Save";
    this.saveClear.hidden = false;
    this.cancelEdit.hidden = true;
    this.element.classList.remove("ra--editing");
    if (restore) {
      this.#reset({}, null);
      this.focusFirst();
    }
  }

  async #delete(record, button) {
    button.disabled = true;
    try {
      await this.socket.request({ type: "ra.delete", record_id: record.id });
    } catch (error) {
      button.disabled = false;
      this.#showError(error.message);
      return;
    }
    if (this.editing?.id === record.id) this.#stopEditing(true);
    this.#showRecords(this.records.filter((r) => r.id !== record.id));
    this.saved.textContent = "Deleted";
    announce("Record deleted");
    this.focusFirst();
  }

  /** Highlight the fields whose label a server message names. */
  #highlightNamed(message) {
    const text = message.toLowerCase();
    for (const [key, f] of this.fields) {
      if (text.includes(f.field.label.toLowerCase()) || text.includes(key.toLowerCase())) f.mark("Please check this field.");
    }
    this.#focusFirstInvalid();
  }

  #focusFirstInvalid() {
    [...this.fields.values()].find((f) => f.invalid)?.focus();
  }

  /** Close Chat: straight away once a record is saved, else after "Close anyway". */
  #askClose() {
    if (this.records.length) {
      this.#close();
      return;
    }
    this.closeConfirm.hidden = false;
    this.closeKeep.focus();
  }

  async #close() {
    this.closeConfirm.hidden = true;
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
