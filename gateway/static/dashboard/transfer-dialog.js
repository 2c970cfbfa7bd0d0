/**
 * The Transfer dialog (LibChat's Transfer Chat window): choose an operator or a
 * department, write a note for them, and say whether you stay in the chat (group
 * chat) or leave once they have claimed it. A modal `<dialog>`: the rest of the page
 * is inert while it is open, Tab stays inside, Esc or Cancel closes it.
 *
 * Each target has "Open internal chat" (talk to them first, as LibChat allows): it
 * closes the dialog, keeps what was typed for this chat, and asks Internal Chat to
 * open the room (`rd:open-internal` with {operatorId} or {departmentId}). Offline
 * targets are listed but cannot be chosen: the patron would wait for nobody, so the
 * dialog suggests creating a ticket instead.
 *
 * Test ids: transfer-dialog, transfer-target (data-kind operator|department,
 * data-target-id, data-status), transfer-note, transfer-stay, transfer-leave,
 * transfer-submit, transfer-cancel, transfer-error, open-internal.
 */
import { api } from "../static/js/api.js";
import { h, uid } from "../static/js/dom.js";
import { activeChatsText } from "./staff-list.js";

const NOTE_MAX = 1000;

/** chat id → {target: "operator:<id>" | "department:<id>", note, stay}: a draft kept while talking first. */
const drafts = new Map();

/**
 * Ask where to transfer a chat, and request the transfer when confirmed.
 * @param {Object} chat ChatView (mine, active)
 * @param {import("../static/js/socket.js").RefdeskSocket} socket
 * @param {string} myId my operator id (not offered as a target)
 * @returns {Promise<Object|null>} the chat with its pending transfer, or null when cancelled
 */
export async function openTransferDialog(chat, socket, myId) {
  const titleId = uid("transfer-title");
  const noteId = uid("transfer-note");
  const radioName = uid("transfer-target");
  const draft = drafts.get(chat.id) ?? { target: null, note: "", stay: false };
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "transfer-error", hidden: true });
  const submit = h("button", { type: "submit", class: "btn btn--primary", "data-testid": "transfer-submit", text: "Transfer" });
  const cancel = h("button", { type: "button", class: "btn", "data-testid": "transfer-cancel", text: "Cancel" });
  const targets = h("div", { class: "transfer__targets" }, h("p", { class: "transfer__loading", text: "Loading staff and departments…" }));
  const note = h("textarea", {
    id: noteId, class: "transfer__note", rows: 3, maxlength: NOTE_MAX, "data-testid": "transfer-note",
    placeholder: "What they should know: the question so far, what you tried…", "aria-describedby": `${noteId}-hint`,
  });
  note.value = draft.note;
  const stayName = uid("transfer-stay");
  const leave = h("input", { type: "radio", name: stayName, value: "leave", checked: !draft.stay, "data-testid": "transfer-leave" });
  const stay = h("input", { type: "radio", name: stayName, value: "stay", checked: draft.stay, "data-testid": "transfer-stay" });
  const form = h("form", { method: "dialog", class: "transfer__form", novalidate: true },
    h("h2", { id: titleId, class: "transfer__title", text: `Transfer the chat with ${chat.patron_name}` }),
    h("p", { class: "transfer__lead", text: `${chat.patron_name} stays in the chat and is told what is happening. You can't write to them until the transfer is declined, cancelled or taken.` }),
    h("fieldset", { class: "transfer__group" }, h("legend", { text: "Transfer to" }), targets),
    h("div", { class: "field" },
      h("label", { for: noteId, text: "Note for them" }),
      note,
      h("p", { id: `${noteId}-hint`, class: "transfer__hint", text: "Staff only — the patron never sees it." })),
    h("fieldset", { class: "transfer__group transfer__after" },
      h("legend", { text: "After the transfer" }),
      h("label", { class: "transfer__choice" }, leave, h("span", { text: "Leave the chat" })),
      h("label", { class: "transfer__choice" }, stay, h("span", { text: "Stay in the chat (group chat)" }))),
    error,
    h("div", { class: "transfer__buttons" }, submit, cancel));
  const dialog = h("dialog", { class: "transfer", "aria-labelledby": titleId, "data-testid": "transfer-dialog" }, form);
  document.body.append(dialog);

  const keepDraft = () => {
    const chosen = form.querySelector(`input[name="${radioName}"]:checked`);
    drafts.set(chat.id, { target: chosen?.value ?? null, note: note.value, stay: stay.checked });
  };

  return new Promise((resolve) => {
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(result);
    };
    const talkFirst = (detail) => {
      keepDraft();
      finish(null);
      document.dispatchEvent(new CustomEvent("rd:open-internal", { detail }));
    };
    dialog.addEventListener("cancel", (event) => { // Esc
      event.preventDefault();
      if (!submit.disabled) finish(null);
    });
    dialog.addEventListener("close", () => finish(null));
    cancel.addEventListener("click", () => finish(null));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = form.querySelector(`input[name="${radioName}"]:checked`);
      if (!chosen) {
        showError("Choose an operator or a department to transfer to.");
        form.querySelector(`input[name="${radioName}"]:not(:disabled)`)?.focus();
        return;
      }
      const [kind, id] = chosen.value.split(":");
      const frame = { type: "transfer.request", chat_id: chat.id, note: note.value.trim(), stay: stay.checked };
      frame[kind === "operator" ? "to_operator_id" : "to_department_id"] = id;
      submit.disabled = true;
      cancel.disabled = true;
      submit.textContent = "Transferring…";
      error.hidden = true;
      try {
        const changed = await socket.request(frame);
        drafts.delete(chat.id);
        finish(changed);
      } catch (failure) {
        submit.disabled = false;
        cancel.disabled = false;
        submit.textContent = "Transfer";
        showError(failure.message);
      }
    });
    function showError(text) {
      error.textContent = text;
      error.hidden = false;
    }
    dialog.showModal();
    loadTargets(socket, myId).then(({ operators, departments }) => {
      if (done) return;
      targets.replaceChildren(
        targetList("Operators", operators.map((operator) => option("operator", operator.id, operator.full_name || operator.nickname,
          operator.status === "online", operatorDetail(operator), () => talkFirst({ operatorId: operator.id })))),
        targetList("Departments", departments.map((department) => option("department", department.id, department.name,
          department.online, department.online ? "Someone is monitoring it" : "Nobody is monitoring it",
          () => talkFirst({ departmentId: department.id })))));
      const previous = draft.target && form.querySelector(`input[name="${radioName}"][value="${CSS.escape(draft.target)}"]:not(:disabled)`);
      if (previous) previous.checked = true;
      (previous || form.querySelector(`input[name="${radioName}"]:not(:disabled)`) || note).focus();
    }, (failure) => {
      if (!done) showError(`Couldn't load the list of staff: ${failure.message}`);
    });
    note.focus();

    function option(kind, id, name, online, detail, onTalk) {
      const inputId = uid("transfer-option");
      const radio = h("input", { id: inputId, type: "radio", name: radioName, value: `${kind}:${id}`, disabled: !online });
      // One small "Chat" button per row (shown fully on the hovered, focused or chosen
      // row); its accessible name says whom it opens.
      const talk = h("button", { type: "button", class: "btn btn--quiet btn--small transfer__talk", "data-testid": "open-internal",
        title: `Open internal chat with ${name}`, text: "Chat" });
      talk.setAttribute("aria-label", `Open internal chat with ${name}`);
      talk.addEventListener("click", onTalk);
      const status = h("span", { class: "transfer__status", dataset: { status: online ? "online" : "offline" }, text: online ? "Online" : "Offline" });
      const lines = [h("span", { class: "transfer__detail", text: detail })];
      if (!online) lines.push(h("span", { class: "transfer__offline", text: "Offline — they won't see it now. Create a ticket instead." }));
      return h("li", { class: "transfer__option", dataset: { testid: "transfer-target", kind, targetId: id, status: online ? "online" : "offline" } },
        h("label", { for: inputId, class: "transfer__label" }, radio,
          h("span", { class: "transfer__who" }, h("span", { class: "transfer__name", text: name }), status, ...lines)),
        talk);
    }
  });
}

function targetList(heading, items) {
  const headingId = uid("transfer-list");
  return h("section", { class: "transfer__list", "aria-labelledby": headingId },
    h("h3", { id: headingId, class: "transfer__heading", text: heading }),
    items.length ? h("ul", { class: "transfer__options" }, items) : h("p", { class: "transfer__hint", text: "None." }));
}

function operatorDetail(operator) {
  const departments = (operator.departments ?? []).map((department) => department.name).join(", ");
  return [departments, activeChatsText(operator.active_chats)].filter(Boolean).join(" · ");
}

/** Other operators (Online first, then by nickname) and every department. */
async function loadTargets(socket, myId) {
  const [staff, listed] = await Promise.all([
    socket.request({ type: "staff.list" }, { waitForOpen: true }),
    api("/api/departments"),
  ]);
  const operators = (staff.operators ?? []).filter((operator) => operator.id !== myId);
  operators.sort((a, b) => (a.status === "online" ? 0 : 1) - (b.status === "online" ? 0 : 1) || a.nickname.localeCompare(b.nickname));
  return { operators, departments: listed.departments ?? [] };
}
