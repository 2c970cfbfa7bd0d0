/**
 * The top bar's Reference Analytics buttons: "Record a question" opens the RA form in
 * a dialog for a question answered at the desk, by phone or by email (no chat; the
 * time starts at now and can be set earlier), and — for admins — "Datasets" opens the
 * dataset editor (dataset-editor.js). Both are native modal dialogs: Esc or Close
 * shuts them and focus returns to the button.
 *
 * Test ids: record-question, datasets-button, ra-dialog, datasets-dialog, dialog-close.
 */
import { h, uid } from "../static/js/dom.js";
import { DatasetEditor } from "./dataset-editor.js";
import { RaForm } from "./ra-form.js";

function dialog(title, testid) {
  const titleId = uid("dialog-title");
  const close = h("button", { type: "button", class: "btn btn--small", "data-testid": "dialog-close", text: "Close" });
  const body = h("div", { class: "ra-dialog__body" });
  const element = h("dialog", { class: "ra-dialog", "aria-labelledby": titleId, "data-testid": testid },
    h("header", { class: "ra-dialog__head" }, h("h2", { id: titleId, text: title }), close), body);
  close.addEventListener("click", () => element.close());
  document.body.append(element);
  return { element, body };
}

export class RaEntry {
  /**
   * @param {{record: HTMLButtonElement, datasets: HTMLButtonElement}} buttons in the top bar
   * @param {import("../static/js/socket.js").RefdeskSocket} socket
   */
  constructor(buttons, socket) {
    this.buttons = buttons;
    this.socket = socket;
    this.listening = new AbortController();
    const options = { signal: this.listening.signal };
    buttons.record.hidden = false;
    buttons.record.addEventListener("click", () => this.openRecord(), options);
    buttons.datasets.addEventListener("click", () => this.openDatasets(), options);
    this.dialogs = [];
  }

  /** Show "Datasets" for admins only (the gateway refuses everyone else anyway). */
  setProfile(operator) {
    this.departments = operator?.departments ?? [];
    this.buttons.datasets.hidden = !operator?.is_admin;
  }

  /** Open a fresh hand-entry form. */
  async openRecord() {
    const { element, body } = this.#dialog("Record a question", "ra-dialog");
    const form = new RaForm(null, this.socket, null, this.departments ?? []);
    body.replaceChildren(form.element);
    element.addEventListener("close", () => this.buttons.record.focus(), { once: true });
    element.showModal();
    await form.load();
    form.focusFirst();
  }

  /** Open the dataset editor (admins). */
  async openDatasets() {
    const { element, body } = this.#dialog("Reference Analytics datasets", "datasets-dialog");
    const editor = new DatasetEditor(this.socket);
    body.replaceChildren(editor.element);
    element.addEventListener("close", () => this.buttons.datasets.focus(), { once: true });
    element.showModal();
    await editor.load();
  }

  #dialog(title, testid) {
    for (const old of this.dialogs) old.remove();
    const made = dialog(title, testid);
    this.dialogs = [made.element];
    return made;
  }

  destroy() {
    this.listening.abort();
    for (const old of this.dialogs) old.remove();
    this.buttons.record.hidden = true;
    this.buttons.datasets.hidden = true;
  }
}
