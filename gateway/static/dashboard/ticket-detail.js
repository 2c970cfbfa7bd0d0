/**
 * One ticket (LibAnswers' ticket page): who asked and how to reach them, the thread —
 * the patron's messages, emailed replies, internal notes (pale yellow, "Internal note
 * — never emailed") and system lines —, the chat transcript it came from, and the
 * actions: Claim / Unclaim, Assign (operator or department), Status, and a reply box
 * whose "Reply to patron / Internal note" switch decides what is sent. A reply is
 * submitted as Pending (default), Closed or Open; a note is never emailed.
 *
 * Opening a ticket previews it (no claim). Test ids: ticket-detail (data-ticket-id,
 * data-status), ticket-status, ticket-owner, ticket-claim, ticket-unclaim,
 * ticket-assign-select, ticket-assign, ticket-set-status, ticket-message (data-kind),
 * ticket-transcript, ticket-mode-reply, ticket-mode-note, ticket-body,
 * ticket-submit-pending, ticket-submit-closed, ticket-submit-open, ticket-add-note,
 * ticket-error, ticket-back.
 */
import { h, uid, announce, append } from "../static/js/dom.js";
import { formatWhen, statusBadge } from "./tickets-format.js";
import { loadTargets, targetOf, targetOptions } from "./ticket-targets.js";

const KIND_LABEL = { patron: "", reply: "Emailed reply", internal_note: "Internal note — never emailed", system: "" };
const MAIL_TEXT = { queued: "Sending…", retrying: "Sending again soon…", sent: "Emailed", failed: "Email failed" };

export class TicketDetail {
  /**
   * @param {{socket: import("../static/js/socket.js").RefdeskSocket, profile: () => Object,
   *   onBack: () => void, onChanged: (ticket: Object) => void}} deps
   */
  constructor({ socket, profile, onBack, onChanged }) {
    this.socket = socket;
    this.profile = profile;
    this.onBack = onBack;
    this.onChanged = onChanged;
    this.detail = null;
    this.mode = "reply";
    this.element = h("article", { class: "ticket", "data-testid": "ticket-detail", hidden: true });
  }

  /** Show a ticket (fetching it); resolves once shown. */
  async open(ticketId) {
    this.ticketId = ticketId;
    const detail = await this.socket.request({ type: "ticket.get", ticket_id: ticketId });
    if (this.ticketId !== ticketId) return;
    this.render(detail);
  }

  /** Fetch the open ticket again (after a `ticket.update` about it). */
  async refresh() {
    if (!this.ticketId) return;
    try {
      this.render(await this.socket.request({ type: "ticket.get", ticket_id: this.ticketId }), { keepDraft: true });
    } catch {
      // e.g. it moved to a department I am not in: keep what is shown
    }
  }

  close() {
    this.ticketId = null;
    this.detail = null;
    this.element.hidden = true;
    this.element.replaceChildren();
  }

  /** Draw a TicketDetail; `keepDraft` keeps the text being written. */
  render(detail, { keepDraft = false } = {}) {
    const draft = keepDraft && this.body ? this.body.value : "";
    this.detail = detail;
    const t = detail.ticket;
    const me = this.profile();
    const titleId = uid("ticket-title");
    this.error = h("p", { class: "form-error", role: "alert", "data-testid": "ticket-error", hidden: true });
    const back = h("button", { type: "button", class: "btn btn--small btn--quiet ticket__back", "data-testid": "ticket-back", text: "← All tickets" });
    back.addEventListener("click", () => this.onBack());
    const owner = t.owner_operator_name ? (t.owner_operator_id === me?.id ? "You" : t.owner_operator_name) : "Unclaimed";
    const contact = [t.patron_name, t.patron_email || "no email address"].join(" · ");
    this.element.replaceChildren();
    append(this.element, [
      h("header", { class: "ticket__head" },
        back,
        h("div", { class: "ticket__title-row" },
          h("h3", { id: titleId, class: "ticket__title", text: t.subject }),
          statusBadge(t.status, { "data-testid": "ticket-status" })),
        h("dl", { class: "ticket__facts" },
          fact("Patron", contact),
          fact("Queue", t.assigned_department ? `${t.department_name} (transferred)` : t.department_name),
          fact("Owner", owner, "ticket-owner"),
          fact("Created", formatWhen(t.created_at)),
          t.chat_id ? fact("Source", "Created from a chat") : fact("Source", "Question form"))),
      this.#actions(t, me),
      this.error,
      this.#thread(detail),
      detail.transcript?.length ? this.#transcript(detail.transcript) : null,
      this.#composer(t, draft)]);
    this.element.setAttribute("aria-labelledby", titleId);
    this.element.dataset.ticketId = t.id;
    this.element.dataset.status = t.status;
    this.element.hidden = false;
  }

  /** Focus the ticket's title (after opening from the list). */
  focus() {
    this.element.querySelector(".ticket__title")?.setAttribute("tabindex", "-1");
    this.element.querySelector(".ticket__title")?.focus();
  }

  #actions(t, me) {
    const bar = h("div", { class: "ticket__actions", role: "group", "aria-label": "Ticket actions" });
    if (!t.owner_operator_id) {
      bar.append(this.#button("Claim", "ticket-claim", "btn btn--primary btn--small", () => this.#do({ type: "ticket.claim" }, "You claimed this ticket.")));
    } else if (t.owner_operator_id === me?.id || me?.is_admin) {
      bar.append(this.#button("Unclaim", "ticket-unclaim", "btn btn--small", () => this.#do({ type: "ticket.unclaim" }, "Ticket returned to its queue.")));
    }
    const assignId = uid("assign");
    const select = h("select", { id: assignId, "data-testid": "ticket-assign-select" },
      h("option", { value: "", text: "Choose…" }));
    loadTargets(this.socket).then((targets) => {
      select.append(...targetOptions({ ...targets, skipDepartment: t.department_id, skipOperator: t.owner_operator_id }));
    }).catch(() => {});
    const assign = this.#button("Assign", "ticket-assign", "btn btn--small", () => {
      if (!select.value) return this.#fail("Choose an operator or a department to assign this ticket to.");
      const label = select.selectedOptions[0]?.textContent ?? "";
      return this.#do({ type: "ticket.assign", ...targetOf(select.value) }, `Ticket assigned to ${label}.`);
    });
    const statusId = uid("status");
    const status = h("select", { id: statusId, "data-testid": "ticket-set-status" },
      ["Open", "Pending", "Closed"].map((s) => h("option", { value: s, text: s, selected: s === t.status })));
    if (t.status === "New") status.prepend(h("option", { value: "New", text: "New", selected: true }));
    status.addEventListener("change", () => {
      if (status.value !== t.status) this.#do({ type: "ticket.status", status: status.value }, `Status set to ${status.value}.`);
    });
    bar.append(
      h("span", { class: "ticket__assign" }, h("label", { for: assignId, text: "Assign to" }), select, assign),
      h("span", { class: "ticket__set-status" }, h("label", { for: statusId, text: "Status" }), status));
    return bar;
  }

  #thread(detail) {
    const items = detail.messages.map((m) => {
      const label = KIND_LABEL[m.kind];
      const mail = m.mail_status ? h("span", { class: `ticket-msg__mail ticket-msg__mail--${m.mail_status}`, text: MAIL_TEXT[m.mail_status] ?? m.mail_status }) : null;
      if (m.kind === "system") {
        return h("li", { class: "msg msg--system", "data-testid": "ticket-message", dataset: { kind: m.kind } },
          h("span", { class: "msg__body", text: m.body }), h("time", { datetime: m.sent_at, text: formatWhen(m.sent_at) }), mail);
      }
      const cls = m.kind === "patron" ? "msg msg--patron" : m.kind === "reply" ? "msg msg--operator msg--mine" : "msg msg--operator msg--mine msg--internal";
      return h("li", { class: cls, "data-testid": "ticket-message", dataset: { kind: m.kind } },
        label ? h("p", { class: m.kind === "internal_note" ? "msg__internal" : "ticket-msg__kind", text: label }) : null,
        h("p", { class: "msg__meta" }, h("span", { class: "msg__author", text: m.author }),
          h("time", { datetime: m.sent_at, text: formatWhen(m.sent_at) }), mail),
        h("p", { class: "msg__body", text: m.body }));
    });
    return h("section", { class: "ticket__thread", "aria-label": "Conversation" },
      h("ol", { class: "transcript__list" }, items));
  }

  #transcript(lines) {
    return h("details", { class: "ticket__transcript", "data-testid": "ticket-transcript" },
      h("summary", { text: `Chat transcript (${lines.length} message${lines.length === 1 ? "" : "s"})` }),
      h("ol", { class: "transcript__list" }, lines.map((line) => line.author_kind === "system" ? h("li", {
        class: `msg msg--system${line.internal ? " msg--internal" : ""}`,
      }, h("span", { class: "msg__body", text: line.body }), h("time", { datetime: line.sent_at, text: formatWhen(line.sent_at) }))
        : h("li", {
          class: `msg msg--${line.author_kind}${line.internal ? " msg--internal" : ""}`,
        },
      line.internal ? h("p", { class: "msg__internal", text: "Internal note — staff only" }) : null,
      h("p", { class: "msg__meta" }, h("span", { class: "msg__author", text: line.author_name }),
        h("time", { datetime: line.sent_at, text: formatWhen(line.sent_at) })),
      h("p", { class: "msg__body", text: line.body })))));
  }

  #composer(t, draft) {
    const bodyId = uid("ticket-body");
    const name = uid("ticket-mode");
    this.body = h("textarea", { id: bodyId, rows: 5, maxlength: 20000, "data-testid": "ticket-body" });
    this.body.value = draft;
    const label = h("label", { for: bodyId });
    const noEmail = !t.patron_email;
    const option = (value, text, testid) => {
      const input = h("input", { type: "radio", name, value, checked: value === this.mode, "data-testid": testid,
        disabled: value === "reply" && noEmail });
      input.addEventListener("change", () => { if (input.checked) setMode(value); });
      return h("label", { class: `mode__option mode__option--${value === "reply" ? "patron" : "note"}` }, input, h("span", { text }));
    };
    if (noEmail) this.mode = "note";
    const submit = (status) => this.#reply(status);
    const replyButtons = h("div", { class: "ticket__submit" },
      this.#button("Submit as Pending", "ticket-submit-pending", "btn btn--primary", () => submit("Pending")),
      this.#button("Submit as Closed", "ticket-submit-closed", "btn", () => submit("Closed")),
      this.#button("Submit as Open", "ticket-submit-open", "btn", () => submit("Open")));
    const noteButtons = h("div", { class: "ticket__submit" },
      this.#button("Add internal note", "ticket-add-note", "btn btn--primary", () => this.#note()));
    const box = h("div", { class: "ticket__compose" });
    const setMode = (mode) => {
      this.mode = mode;
      box.dataset.mode = mode;
      label.textContent = mode === "reply" ? `Reply to ${t.patron_name} (emailed to ${t.patron_email})` : "Internal note (staff only — never emailed)";
      this.body.placeholder = mode === "reply" ? "Write your reply…" : "Write a note for colleagues…";
      replyButtons.hidden = mode !== "reply";
      noteButtons.hidden = mode === "reply";
    };
    append(box, [
      h("fieldset", { class: "mode" }, h("legend", { class: "visually-hidden", text: "Write" }),
        option("reply", "Reply to patron", "ticket-mode-reply"), option("note", "Internal note", "ticket-mode-note")),
      noEmail ? h("p", { class: "ticket__hint", text: "This patron left no email address, so only internal notes can be added." }) : null,
      label, this.body, replyButtons, noteButtons]);
    setMode(this.mode);
    return box;
  }

  #button(text, testid, cls, action) {
    const button = h("button", { type: "button", class: cls, "data-testid": testid, text });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await action();
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  #fail(message) {
    this.error.textContent = message;
    this.error.hidden = false;
  }

  /** Send an action frame about this ticket; re-render from its answer. */
  async #do(frame, said) {
    const t = this.detail.ticket;
    try {
      const answer = await this.socket.request({ ...frame, ticket_id: t.id });
      announce(said);
      this.onChanged(answer.ticket ?? answer);
      if (answer.messages) this.render(answer);
      else await this.refresh();
    } catch (error) {
      this.#fail(error.message);
    }
  }

  async #reply(status) {
    const body = this.body.value.trim();
    if (!body) return this.#fail("Write a reply first.");
    await this.#do({ type: "ticket.reply", body, status_after: status }, `Reply emailed; the ticket is ${status}.`);
    if (this.error.hidden) this.body.value = "";
  }

  async #note() {
    const body = this.body.value.trim();
    if (!body) return this.#fail("Write a note first.");
    await this.#do({ type: "ticket.note", body }, "Internal note added.");
    if (this.error.hidden) this.body.value = "";
  }
}

function fact(term, value, testid = null) {
  return h("div", { class: "ticket__fact" }, h("dt", { text: term }), h("dd", { text: value, "data-testid": testid }));
}
