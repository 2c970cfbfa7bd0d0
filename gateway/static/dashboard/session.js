/**
 * A signed-in dashboard: the websocket, the board and the parts of the page that
 * show it. `destroy()` undoes everything (sign-out, expired token).
 */
import { api } from "../static/js/api.js";
import { announce } from "../static/js/dom.js";
import { RefdeskSocket } from "../static/js/socket.js";
import { Board } from "./board.js";
import { clearCannedCache } from "./canned.js";
import { Panes } from "./panes.js";
import { Presence } from "./presence.js";
import { QueueList } from "./queue-list.js";
import { openDismissDialog } from "./dismiss-dialog.js";
import { Reports } from "./reports.js";
import { InternalChat } from "./internal.js";
import { RaEntry } from "./ra-entry.js";
import { Tickets } from "./tickets.js";
import { clearTargets } from "./ticket-targets.js";
import { TransferOffers } from "./transfer-offers.js";

const CONNECTION_TEXT = { connecting: "Connecting…", reconnecting: "Connection lost — reconnecting…" };

export class Session {
  /**
   * @param {string} token operator token
   * @param {{alerts: import("./alerts.js").Alerts, onEnd: (message: string) => void}} deps
   */
  constructor(token, { alerts, onEnd }) {
    this.token = token;
    this.alerts = alerts;
    this.onEnd = onEnd;
    this.board = null;
    this.socket = new RefdeskSocket(token);
    const $ = (id) => document.getElementById(id);
    this.connection = $("connection");
    this.presence = new Presence({ name: $("operator-name"), select: $("status-select"), departments: $("department-list") },
      this.socket, () => alerts.unlock());
    this.elements = {
      queue: { list: $("queue-list"), empty: $("queue-empty"), hint: $("offline-hint"), count: $("waiting-count") },
      panes: { scroller: $("panes"), grid: $("pane-list"), empty: $("panes-empty"), fallback: $("queue-title") },
    };
    this.socket.addEventListener("welcome", (event) => this.#welcome(event.detail.operator));
    this.socket.addEventListener("board", (event) => this.board?.replace(event.detail.chats ?? []));
    this.socket.addEventListener("chat.update", (event) => this.board?.update(event.detail.event, event.detail.chat));
    this.socket.addEventListener("state", (event) => this.#connectionState(event.detail));
    this.socket.addEventListener("unauthorized", () => this.end("Your session has ended. Please sign in again."));
    this.presence.addEventListener("change", () => {
      this.queue?.setOnline(this.presence.online);
      this.transfers?.render(); // monitored departments decide which department transfers show
      this.#alert();
    });
    // The Reports tab is built the first time its panel is shown.
    this.reportsPanel = $("panel-reports");
    this.reportsWatch = new MutationObserver(() => this.#openReports());
    this.reportsWatch.observe(this.reportsPanel, { attributes: true, attributeFilter: ["hidden"] });
  }

  /**
   * Connect; `operator` (from sign-in) shows the header before the socket is ready.
   * A fresh sign-in goes Online with the operator's departments, as LibChat does at
   * login; resuming a session (page reload) keeps the status the server has.
   */
  start(operator = null) {
    if (operator) this.presence.setProfile(operator);
    this.socket.start();
    if (operator) this.presence.goOnline();
    this.#openReports();
  }

  /** Sign out at the gateway (sets me Offline), then end the session. */
  async signOut() {
    try {
      await api("/api/auth/logout", { method: "POST", token: this.token });
    } catch {
      // Signing out locally still matters when the gateway can't be reached.
    }
    this.end("You have signed out.");
  }

  /** Tear the session down and report `message` to the page. */
  end(message) {
    if (this.ended) return;
    this.ended = true;
    this.socket.stop();
    this.queue?.destroy();
    this.panes?.destroy();
    this.transfers?.destroy();
    this.presence.destroy();
    this.reportsWatch.disconnect();
    this.reports?.destroy();
    this.tickets?.destroy();
    clearTargets();
    this.internal?.destroy();
    this.raEntry?.destroy();
    this.alerts.update([], false);
    clearCannedCache();
    this.onEnd(message);
  }

  #welcome(operator) {
    if (!this.board) {
      this.board = new Board(operator.id);
      this.queue = new QueueList(this.elements.queue, this.board, (chat) => this.#claim(chat), (chat) => this.#dismiss(chat));
      this.panes = new Panes(this.elements.panes, this.board, this.socket, operator);
      this.transfers = new TransferOffers(this.elements.panes.fallback, this.board, this.socket,
        { profile: () => this.presence.profile, alerts: this.alerts, claim: (chat) => this.#claim(chat) });
      this.board.addEventListener("change", (event) => {
        this.queue.render(event.detail.chat);
        this.panes.render(event.detail.chat);
        this.#alert();
      });
    }
    this.presence.setProfile(operator);
    this.raEntry ??= new RaEntry({ record: document.getElementById("record-question"),
      datasets: document.getElementById("datasets-button") }, this.socket);
    this.raEntry.setProfile(operator);
    if (!this.tickets) {
      this.tickets = new Tickets(document.getElementById("panel-tickets"), { socket: this.socket,
        profile: () => this.presence.profile, count: document.getElementById("tickets-count") });
      this.tickets.start();
    } else {
      this.tickets.reload(); // a reconnect: changes while away were not pushed
    }
    if (!this.internal) {
      this.internal = new InternalChat(document.getElementById("panel-internal"), { socket: this.socket,
        alerts: this.alerts, operator, badge: document.getElementById("internal-unread"),
        tab: document.getElementById("tab-internal") });
      this.internal.start();
    }
  }

  async #claim(chat) {
    const claimed = await this.socket.request({ type: "chat.claim", chat_id: chat.id });
    this.board.put(claimed);
    announce(`You claimed the chat with ${claimed.patron_name}.`);
    this.panes.focus(claimed.id);
  }

  /** Build the Reports tab the first time it is shown; later visits refresh it. */
  #openReports() {
    if (this.ended || this.reportsPanel.hidden) return;
    if (this.reports) {
      this.reports.refresh();
      return;
    }
    this.reports = new Reports(this.reportsPanel, {
      token: this.token,
      profile: () => this.presence.profile,
      staff: async () => (await this.socket.request({ type: "staff.list" }, { waitForOpen: true, timeoutMs: 5000 })).operators ?? [],
    });
    this.reports.start();
  }

  /** Ask (dialog with a note) and dismiss a waiting chat; true once dismissed. */
  async #dismiss(chat) {
    const nickname = this.presence.profile?.nickname || "Operator";
    const dismissed = await openDismissDialog(chat, nickname, async (note) => {
      this.board.put(await this.socket.request({ type: "chat.dismiss", chat_id: chat.id, note }));
    });
    if (dismissed) announce(`Chat from ${chat.patron_name} dismissed.`);
    return dismissed;
  }

  #alert() {
    if (this.board) this.alerts.update(this.board.queued, this.presence.online);
  }

  #connectionState(state) {
    const text = CONNECTION_TEXT[state] ?? "";
    this.connection.textContent = text;
    this.connection.hidden = !text;
  }
}
