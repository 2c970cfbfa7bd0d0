/**
 * "Create ticket from this chat" (LibChat's follow-up ticket): a modal dialog asking
 * where the ticket goes — this chat's department, another department, or a named
 * colleague (the usual case when the colleague to transfer to is offline) — and an
 * optional internal note for whoever picks it up. The ticket carries the patron's
 * contact, the question and the transcript. Esc or Cancel closes without creating.
 *
 * Test ids: ticket-dialog, ticket-target-own, ticket-target-department,
 * ticket-target-operator, ticket-department-select, ticket-operator-select,
 * ticket-dialog-note, ticket-dialog-create, ticket-dialog-cancel, ticket-dialog-error.
 */
import { h, uid } from "../static/js/dom.js";
import { loadTargets } from "./ticket-targets.js";

/**
 * @param {Object} chat ChatView
 * @param {import("../static/js/socket.js").RefdeskSocket} socket
 * @param {string} myId the signed-in operator (left out of the colleagues)
 * @returns {Promise<Object|null>} the created TicketView, or null when cancelled
 */
export function openTicketDialog(chat, socket, myId) {
  const titleId = uid("ticket-dialog-title");
  const name = uid("ticket-target");
  const radio = (value, testid, checked = false) =>
    h("input", { type: "radio", name, value, checked, "data-testid": testid, id: uid("tt") });
  const own = radio("own", "ticket-target-own", true);
  const other = radio("department", "ticket-target-department");
  const person = radio("operator", "ticket-target-operator");
  const departments = h("select", { "data-testid": "ticket-department-select", "aria-label": "Department", disabled: true });
  const operators = h("select", { "data-testid": "ticket-operator-select", "aria-label": "Colleague", disabled: true });
  const sync = () => {
    departments.disabled = !other.checked;
    operators.disabled = !person.checked;
  };
  for (const input of [own, other, person]) input.addEventListener("change", sync);
  const noteId = uid("ticket-note");
  const note = h("textarea", { id: noteId, rows: 3, maxlength: 4000, "data-testid": "ticket-dialog-note",
    placeholder: "e.g. Needs the map librarian; patron is happy to wait for an email." });
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "ticket-dialog-error", hidden: true });
  const create = h("button", { type: "submit", class: "btn btn--primary", "data-testid": "ticket-dialog-create", text: "Create ticket" });
  const cancel = h("button", { type: "button", class: "btn", "data-testid": "ticket-dialog-cancel", text: "Cancel" });
  const label = (input, text, control = null) =>
    h("div", { class: "ticket-dialog__target" }, input, h("label", { for: input.id, text }), control);
  const form = h("form", { method: "dialog", class: "ticket-dialog__form", novalidate: true },
    h("h2", { id: titleId, class: "ticket-dialog__title", text: `Create a ticket from the chat with ${chat.patron_name}` }),
    h("p", { class: "ticket-dialog__lead", text: chat.patron_email
      ? `The ticket keeps ${chat.patron_name}'s email (${chat.patron_email}), the question and the transcript, so they can be answered by email.`
      : `${chat.patron_name} left no email address: the ticket keeps the question and transcript, but no reply can be emailed.` }),
    h("fieldset", { class: "ticket-dialog__targets" },
      h("legend", { text: "For" }),
      label(own, `This chat's department (${chat.department_name})`),
      label(other, "Another department", departments),
      label(person, "A colleague", operators)),
    h("div", { class: "field" }, h("label", { for: noteId, text: "Internal note (optional — staff only, never emailed)" }), note),
    error,
    h("div", { class: "ticket-dialog__buttons" }, cancel, create));
  const dialog = h("dialog", { class: "ticket-dialog", "aria-labelledby": titleId, "data-testid": "ticket-dialog" }, form);
  document.body.append(dialog);

  loadTargets(socket).then(({ departments: deps, operators: ops }) => {
    departments.replaceChildren(...deps.filter((d) => d.id !== chat.department_id)
      .map((d) => h("option", { value: d.id, text: d.name })));
    operators.replaceChildren(...ops.filter((o) => o.id !== myId)
      .map((o) => h("option", { value: o.id, text: `${o.nickname}${o.status === "online" ? "" : " (offline)"}` })));
  }).catch((failure) => {
    error.textContent = failure.message;
    error.hidden = false;
  });

  return new Promise((resolve) => {
    let done = false;
    const finish = (ticket) => {
      if (done) return;
      done = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(ticket);
    };
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      if (!create.disabled) finish(null);
    });
    dialog.addEventListener("close", () => finish(null));
    cancel.addEventListener("click", () => finish(null));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const frame = { type: "ticket.create_from_chat", chat_id: chat.id };
      if (other.checked) {
        if (!departments.value) return showError("Choose a department.");
        frame.department_id = departments.value;
      } else if (person.checked) {
        if (!operators.value) return showError("Choose a colleague.");
        frame.operator_id = operators.value;
      }
      if (note.value.trim()) frame.note = note.value.trim();
      create.disabled = true;
      cancel.disabled = true;
      create.textContent = "Creating…";
      error.hidden = true;
      try {
        finish(await socket.request(frame));
      } catch (failure) {
        create.disabled = false;
        cancel.disabled = false;
        create.textContent = "Create ticket";
        showError(failure.message);
      }
    });
    const showError = (text) => {
      error.textContent = text;
      error.hidden = false;
    };
    dialog.showModal();
    own.focus();
  });
}
