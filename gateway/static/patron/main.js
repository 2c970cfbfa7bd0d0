/**
 * Patron chat page entry point (framed by widget.js, or opened directly):
 * `?department=<id>` picks the queue; `page_url` (set by the widget) says which
 * library page the patron was on. The chat's token lives in sessionStorage, so a
 * reload resumes the same chat.
 */
import { api } from "../static/js/api.js";
import { h } from "../static/js/dom.js";
import { PatronChat } from "./chat-view.js";
import { closeOnEscape, embedded, listenToParent } from "./embed.js";
import { StartForm } from "./start-form.js";

const STORAGE_KEY = "refdesk.patron.chat";
const PROFILE_KEY = "refdesk.patron.profile"; // no longer written; removed on load (older pages kept a profile)
const REFRESH_MS = 10_000; // how often the start/offline form re-checks who is online (a cheap GET)

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const state = { departments: [], departmentId: params.get("department") || "", chat: null, refresh: null };

const form = new StartForm($("start-form"), {
  departmentId: () => state.departmentId,
  pageUrl: params.get("page_url") || (embedded ? document.referrer || null : null),
  onStarted: (answer, patron) => {
    const saved = { token: answer.token, chat_id: answer.chat_id, name: patron.name, department_id: state.departmentId };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
    openChat(saved);
  },
  onTicket: (answer) => {
    showTicketSent(answer);
  },
});

if (embedded) document.documentElement.classList.add("embedded");
closeOnEscape();
listenToParent({ focus: () => (state.chat ? state.chat.focus() : form.focus()) });

$("department-choice").addEventListener("change", (event) => {
  state.departmentId = event.target.value;
  showDepartment();
});

/** Header line: a dot and a sentence; `kind` is online | offline | waiting | ended. */
function setStatus(text, kind) {
  $("dept-status-text").textContent = text;
  $("dept-status").dataset.state = kind;
  $("dept-dot").className = `dot dot--${kind}`;
}

function department() {
  return state.departments.find((d) => d.id === state.departmentId) ?? null;
}

function showDepartment() {
  const current = department();
  // Framed by the widget, whose bar already says "Ask a Librarian": name the department only.
  $("dept-name").textContent = current ? (embedded ? current.name : `Ask a Librarian · ${current.name}`) : "Ask a Librarian";
  if (state.chat) return;
  const offline = current ? !current.online : false;
  $("offline-note").hidden = !offline;
  $("start-lead").hidden = offline;
  form.setOffline(offline);
  if (current) setStatus(current.online ? "A librarian is online" : "No one is online right now", current.online ? "online" : "offline");
}

async function loadDepartments() {
  try {
    const data = await api("/api/departments");
    state.departments = data.departments ?? [];
  } catch (error) {
    if (!state.departments.length) setStatus(error.message, "offline");
    return;
  }
  const choice = $("department-choice");
  const known = Boolean(department());
  $("department-field").hidden = known && Boolean(params.get("department"));
  if (!known && state.departments.length) {
    if (params.get("department")) info(`Please choose a department to ask.`);
    state.departmentId = state.departments[0].id;
  }
  if (choice.options.length !== state.departments.length) {
    choice.replaceChildren(...state.departments.map((d) => h("option", { value: d.id, text: d.name })));
  }
  choice.value = state.departmentId;
  showDepartment();
}

function info(text) {
  $("start-info").textContent = text;
  $("start-info").hidden = !text;
}

/**
 * The start (or offline) form, always empty: on a shared library computer the next
 * person must never see the previous patron's name, email or question.
 */
function showStart(message = "") {
  form.reset();
  info(message);
  $("start").hidden = false;
  showDepartment();
  clearInterval(state.refresh);
  state.refresh = setInterval(loadDepartments, REFRESH_MS);
}

/** The offline form was sent: a calm confirmation naming where the answer will go. */
function showTicketSent(answer) {
  clearInterval(state.refresh);
  $("start").hidden = true;
  $("ticket-sent-email").textContent = answer.email;
  $("ticket-sent").hidden = false;
  setStatus("Question received", "waiting");
  $("ticket-sent-title").focus();
}

// Back on the tab (after lunch, another window): check who is online at once.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && !$("start").hidden) loadDepartments();
});

$("ticket-again").addEventListener("click", () => {
  $("ticket-sent").hidden = true;
  showStart();
  form.focus();
});

function openChat(saved) {
  clearInterval(state.refresh);
  $("start").hidden = true;
  state.chat = new PatronChat(saved, {
    setStatus,
    onExpired: () => leaveChat("Your earlier chat is no longer available. You can start a new one."),
    onNewChat: () => leaveChat(""),
  });
  state.chat.start();
  state.chat.focus();
}

function leaveChat(message) {
  sessionStorage.removeItem(STORAGE_KEY);
  state.chat?.destroy();
  state.chat = null;
  showStart(message);
  form.focus();
}

function savedChat() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
    return saved?.token && saved?.chat_id ? saved : null;
  } catch {
    return null;
  }
}

sessionStorage.removeItem(PROFILE_KEY);
const saved = savedChat();
if (saved) {
  state.departmentId = saved.department_id || state.departmentId;
  openChat(saved);
} else {
  showStart();
}
loadDepartments();
