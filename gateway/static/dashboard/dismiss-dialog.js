/**
 * The Dismiss dialog (LibChat's Dismiss): asks before an unanswerable or spam chat
 * leaves every dashboard, with the note recorded alongside it — prefilled "Dismissed
 * by ⟨my nickname⟩", editable. A modal `<dialog>`: focus starts in the note, Esc or
 * Cancel closes it without dismissing, Enter in the note dismisses.
 *
 * Test ids: dismiss-dialog, dismiss-note, dismiss-confirm, dismiss-cancel, dismiss-error.
 */
import { h, uid } from "../static/js/dom.js";

const NOTE_MAX = 500;

/**
 * Ask whether to dismiss a chat, and dismiss it when confirmed.
 * @param {Object} chat ChatView (patron_name, state)
 * @param {string} nickname the signed-in operator's nickname (for the default note)
 * @param {(note: string) => Promise<void>} dismiss sends `chat.dismiss`; rejects with a SocketError
 * @returns {Promise<boolean>} true once dismissed, false when cancelled
 */
export function openDismissDialog(chat, nickname, dismiss) {
  const titleId = uid("dismiss-title");
  const noteId = uid("dismiss-note");
  const hintId = `${noteId}-hint`;
  const note = h("input", {
    id: noteId, type: "text", class: "dismiss__note", maxlength: NOTE_MAX, "data-testid": "dismiss-note",
    value: `Dismissed by ${nickname}`, autocomplete: "off", "aria-describedby": hintId,
  });
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "dismiss-error", hidden: true });
  const confirm = h("button", { type: "submit", class: "btn btn--danger", "data-testid": "dismiss-confirm", text: "Dismiss" });
  const cancel = h("button", { type: "button", class: "btn", "data-testid": "dismiss-cancel", text: "Cancel" });
  const consequence = chat.state === "active"
    ? `The chat with ${chat.patron_name} ends and leaves your dashboard; ${chat.patron_name} sees that the chat has ended.`
    : `The chat from ${chat.patron_name} leaves every dashboard without being answered.`;
  const form = h("form", { method: "dialog", class: "dismiss__form", novalidate: true },
    h("h2", { id: titleId, class: "dismiss__title", text: `Dismiss chat from ${chat.patron_name}?` }),
    h("p", { class: "dismiss__lead", text: consequence }),
    h("div", { class: "field" },
      h("label", { for: noteId, text: "Note" }),
      note,
      h("p", { id: hintId, class: "dismiss__hint", text: "Kept with the chat in transcripts and statistics. The patron never sees it." })),
    error,
    h("div", { class: "dismiss__buttons" }, confirm, cancel));
  const dialog = h("dialog", { class: "dismiss", "aria-labelledby": titleId, "data-testid": "dismiss-dialog" }, form);
  document.body.append(dialog);

  return new Promise((resolve) => {
    let done = false;
    const finish = (dismissed) => {
      if (done) return;
      done = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(dismissed);
    };
    dialog.addEventListener("cancel", (event) => { // Esc
      event.preventDefault();
      if (!confirm.disabled) finish(false);
    });
    dialog.addEventListener("close", () => finish(false));
    cancel.addEventListener("click", () => finish(false));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      confirm.disabled = true;
      cancel.disabled = true;
      confirm.textContent = "Dismissing…";
      error.hidden = true;
      try {
        await dismiss(note.value.trim());
        finish(true);
      } catch (failure) {
        confirm.disabled = false;
        cancel.disabled = false;
        confirm.textContent = "Dismiss";
        error.textContent = failure.message;
        error.hidden = false;
        note.focus();
      }
    });
    dialog.showModal();
    note.focus();
    note.select();
  });
}
