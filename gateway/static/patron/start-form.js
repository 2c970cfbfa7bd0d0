/**
 * The patron's start form: name, optional email, question → POST /api/patron/chats.
 * Test ids: patron-name, patron-email, patron-question, start-chat, start-error.
 *
 * When nobody is monitoring the department the same form is the offline form
 * (`setOffline(true)`): the email becomes required and the question is sent as a
 * ticket (POST /api/patron/tickets) — a librarian answers by email.
 *
 * Each question gets a random `request_id`, kept in sessionStorage until its chat is
 * created: pressing Start again after an error (the answer was lost, the service was
 * slow) sends the same id, so the gateway answers the chat the first attempt may have
 * created instead of queueing a second one. Changing the question (or name or
 * department) starts a new request with a new id.
 */
import { api } from "../static/js/api.js";

const PENDING_KEY = "refdesk.patron.pending";

/** A random id of 32 hex digits (crypto.randomUUID needs a secure context; this does not). */
function randomId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The request id for this body: the pending one if the body is unchanged, else a new one (saved). */
function requestIdFor(body) {
  const fingerprint = JSON.stringify([body.department_id, body.name, body.email ?? "", body.question]);
  try {
    const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || "null");
    if (pending?.fingerprint === fingerprint && pending.id) return pending.id;
  } catch {
    // an unreadable entry: replaced below
  }
  const id = randomId();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ fingerprint, id }));
  return id;
}

export class StartForm {
  /**
   * @param {HTMLFormElement} form
   * @param {{departmentId: () => string, pageUrl: string|null, onStarted: (answer: Object, patron: Object) => void}} options
   *   `onStarted` receives the 201 answer ({chat_id, token, chat}) and {name, email}
   */
  constructor(form, { departmentId, pageUrl, onStarted, onTicket = () => {} }) {
    this.form = form;
    this.departmentId = departmentId;
    this.pageUrl = pageUrl;
    this.onStarted = onStarted;
    this.onTicket = onTicket;
    this.offline = false;
    this.emailNote = form.querySelector("label[for=patron-email] .field__note");
    this.fields = { name: form.elements.name, email: form.elements.email, question: form.elements.question };
    this.error = form.querySelector("[data-testid=start-error]");
    this.submit = form.querySelector("[data-testid=start-chat]");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#start();
    });
    for (const [key, input] of Object.entries(this.fields)) input.addEventListener("input", () => this.#mark(key, ""));
  }

  /**
   * Switch between starting a chat and leaving a question by email (offline form):
   * offline, the email is required and the button reads "Send question".
   * @param {boolean} offline
   */
  setOffline(offline) {
    this.offline = offline;
    this.fields.email.required = offline;
    if (this.emailNote) this.emailNote.textContent = offline ? "(we'll answer you here)" : "(optional, for a follow-up)";
    this.submit.textContent = offline ? "Send question" : "Start Chat";
    this.form.dataset.mode = offline ? "offline" : "chat";
  }

  /** Empty every field (name, email, question) and its error: each question starts blank. */
  reset() {
    for (const [key, input] of Object.entries(this.fields)) {
      input.value = "";
      this.#mark(key, "");
    }
    this.error.hidden = true;
  }

  /** Focus the first field that still needs filling in. */
  focus() {
    const { name, question } = this.fields;
    (name.value.trim() ? question : name).focus();
  }

  #mark(key, text) {
    const input = this.fields[key];
    const note = document.getElementById(`${input.id}-error`);
    note.textContent = text;
    note.hidden = !text;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  #check(values) {
    const problems = {
      name: values.name ? "" : "Please tell us your name.",
      email: this.offline && !values.email ? "Please give your email address so we can answer you."
        : values.email && this.fields.email.validity.typeMismatch ? "That email address doesn't look right." : "",
      question: values.question ? "" : "Please type your question.",
    };
    for (const [key, text] of Object.entries(problems)) this.#mark(key, text);
    const first = Object.keys(problems).find((key) => problems[key]);
    if (first) this.fields[first].focus();
    return !first;
  }

  async #start() {
    this.error.hidden = true;
    const values = {
      name: this.fields.name.value.trim(),
      email: this.fields.email.value.trim(),
      question: this.fields.question.value.trim(),
    };
    if (!this.#check(values)) return;
    const body = { department_id: this.departmentId(), name: values.name, question: values.question };
    if (values.email) body.email = values.email;
    if (this.pageUrl) body.page_url = this.pageUrl.slice(0, 2000);
    body.request_id = requestIdFor(body);
    const offline = this.offline;
    this.submit.disabled = true;
    this.submit.textContent = offline ? "Sending…" : "Starting…";
    try {
      const answer = await api(offline ? "/api/patron/tickets" : "/api/patron/chats", { method: "POST", body });
      sessionStorage.removeItem(PENDING_KEY);
      if (offline) this.onTicket(answer, { name: values.name, email: values.email });
      else this.onStarted(answer, { name: values.name, email: values.email });
    } catch (error) {
      this.error.textContent = error.message;
      this.error.hidden = false;
      if (/e-?mail/i.test(error.message)) this.#mark("email", "Please check your email address.");
    } finally {
      this.submit.disabled = false;
      this.submit.textContent = this.offline ? "Send question" : "Start Chat";
    }
  }
}
