/**
 * The Internal Chat tab (LibChat's Internal Chat): rooms — All Staff, my departments'
 * rooms, my direct chats — with unread badges, the staff list (who is online, their
 * status and active chats), and the open room. The tab's total unread shows in
 * `#internal-unread`.
 *
 * Protocol (docs/protocol.md, "Internal Chat"): on every `welcome` it asks
 * `staff.list` and `internal.rooms` and subscribes to each room from the last seq it
 * has (so a reconnect replays what was missed, each seq once). A colleague's message
 * in a room I am not looking at raises the room's unread count and plays the
 * Internal Chat sound (`Alerts.internalChime`); in the room I am looking at, it is
 * marked read. Listens for `document` `rd:open-internal` ({operatorId} or
 * {departmentId}): switches to this tab and opens that direct or department room.
 *
 * Test ids: internal-rooms, internal-room (data-room-id, data-kind), room-unread,
 * room-preview, internal-unread (the tab badge), plus staff-list.js and
 * internal-room.js ids.
 */
import { h, announce } from "../static/js/dom.js";
import { RoomPane } from "./internal-room.js";
import { StaffList, activeChatsText } from "./staff-list.js";

export class InternalChat {
  /**
   * @param {HTMLElement} panel `#panel-internal`
   * @param {{socket: import("../static/js/socket.js").RefdeskSocket, alerts: import("./alerts.js").Alerts,
   *   operator: Object, badge: HTMLElement, tab: HTMLElement}} deps
   */
  constructor(panel, { socket, alerts, operator, badge, tab }) {
    this.panel = panel;
    this.socket = socket;
    this.alerts = alerts;
    this.me = operator;
    this.badge = badge;
    this.tab = tab;
    this.rooms = new Map(); // room id → RoomView (kept current)
    this.seen = new Map(); // room id → highest seq received
    this.panes = new Map(); // room id → RoomPane (rooms opened once)
    this.current = null;
    this.staff = new StaffList(operator.id, (other) => this.openDirect(other.id));
    this.#build();
    this.handlers = {
      welcome: (event) => { this.me = event.detail.operator ?? this.me; this.start(); },
      "internal.message": (event) => this.#received(event.detail.message, true),
      "internal.history": (event) => (event.detail.messages ?? []).forEach((message) => this.#received(message, false)),
      "internal.read": (event) => this.#markedElsewhere(event.detail),
      "staff.update": (event) => { this.staff.update(event.detail.operator); this.#renderRooms(); },
    };
    for (const [type, handler] of Object.entries(this.handlers)) socket.addEventListener(type, handler);
    this.onOpenRequest = (event) => this.#openRequested(event.detail ?? {});
    document.addEventListener("rd:open-internal", this.onOpenRequest);
    this.onVisible = () => this.#readCurrent();
    document.addEventListener("visibilitychange", this.onVisible);
    this.panelWatch = new MutationObserver(() => this.#readCurrent());
    this.panelWatch.observe(panel, { attributes: true, attributeFilter: ["hidden"] });
  }

  #build() {
    this.roomList = h("ul", { class: "rooms__list", "data-testid": "internal-rooms" });
    this.placeholder = h("div", { class: "room room--none" },
      h("p", { text: "Choose a room or a colleague to start chatting." }));
    this.stage = h("div", { class: "internal__stage" }, this.placeholder);
    this.root = h("div", { class: "internal__layout" },
      h("div", { class: "internal__side" },
        h("section", { class: "rooms", "aria-labelledby": "rooms-title" },
          h("h3", { id: "rooms-title", class: "internal__heading", text: "Rooms" }), this.roomList),
        this.staff.element),
      this.stage);
    this.panel.append(this.root);
  }

  /** (Re)load the staff list and rooms and subscribe to every room (on each welcome). */
  async start() {
    // Let requests already waiting for this welcome (going Online at sign-in) go first:
    // the gateway answers one socket's frames in order.
    await new Promise((resolve) => { setTimeout(resolve, 0); });
    try {
      const [staff, rooms] = await Promise.all([
        this.socket.request({ type: "staff.list" }, { waitForOpen: true }),
        this.socket.request({ type: "internal.rooms" }, { waitForOpen: true }),
      ]);
      this.staff.replace(staff.operators ?? []);
      this.#takeRooms(rooms.rooms ?? []);
    } catch (error) {
      if (error.code !== "offline") announce(`Internal Chat could not load: ${error.message}`);
    }
  }

  /** Open (creating if needed) the direct chat with another operator, and show it. */
  async openDirect(operatorId) {
    const room = await this.socket.request({ type: "internal.open", operator_id: operatorId }, { waitForOpen: true });
    this.#takeRooms([room], false);
    this.show(room.id, true);
  }

  /** Open the standing room of one of my departments, and show it. */
  async openDepartment(departmentId) {
    let room = [...this.rooms.values()].find((r) => r.kind === "department" && r.department_id === departmentId);
    if (!room) {
      room = await this.socket.request({ type: "internal.open", department_id: departmentId }, { waitForOpen: true });
      this.#takeRooms([room], false);
    }
    this.show(room.id, true);
  }

  /** Show a room in the stage and mark it read. */
  show(roomId, focus = false) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    let pane = this.panes.get(roomId);
    if (!pane) {
      pane = new RoomPane(room, { socket: this.socket, me: this.me, title: this.#title(room) });
      this.panes.set(roomId, pane);
    }
    this.current = roomId;
    this.stage.replaceChildren(pane.element);
    pane.open().then(() => this.#readCurrent());
    this.#renderRooms();
    this.#readCurrent();
    if (focus) {
      pane.element.scrollIntoView({ block: "nearest" }); // on a phone the room sits below the lists
      pane.focus();
    }
  }

  destroy() {
    for (const [type, handler] of Object.entries(this.handlers)) this.socket.removeEventListener(type, handler);
    document.removeEventListener("rd:open-internal", this.onOpenRequest);
    document.removeEventListener("visibilitychange", this.onVisible);
    this.panelWatch.disconnect();
    this.root.remove();
    this.badge.textContent = "";
  }

  // ---- rooms -----------------------------------------------------------------------

  /** Merge RoomViews from the server; subscribe to rooms (all of them on a full list). */
  #takeRooms(rooms, full = true) {
    for (const room of rooms) {
      const known = this.rooms.get(room.id);
      this.rooms.set(room.id, known ? { ...known, ...room, top_seq: Math.max(known.top_seq, room.top_seq) } : room);
      if (full || !known) this.#subscribe(room);
    }
    this.#renderRooms();
  }

  #subscribe(room) {
    // From the last seq I have (a reconnect replays the rest), or the room's top the first time.
    const after = this.seen.get(room.id) ?? room.top_seq;
    if (!this.seen.has(room.id)) this.seen.set(room.id, room.top_seq);
    this.socket.request({ type: "internal.subscribe", room_id: room.id, after_seq: after }).catch(() => {});
  }

  #received(message, live) {
    const room = this.rooms.get(message.room_id);
    if (!room) { // a new direct chat, or a room I have not loaded yet
      if (live) this.#refreshRooms(message);
      return;
    }
    this.seen.set(room.id, Math.max(this.seen.get(room.id) ?? 0, message.seq));
    this.panes.get(room.id)?.add(message);
    if (message.seq <= room.top_seq) return; // the room's unread count from the server covers it
    room.top_seq = message.seq;
    room.last_message = { seq: message.seq, author_id: message.author_id, author_name: message.author_name,
      body: message.body, sent_at: message.sent_at };
    const fromOther = message.author_id !== this.me.id;
    if (fromOther && message.seq > room.last_read_seq) {
      if (this.#looking(room.id)) {
        this.#readCurrent();
      } else {
        room.unread += 1;
        if (live) this.alerts.internalChime();
      }
    }
    this.#renderRooms();
  }

  async #refreshRooms(message) {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const rooms = await this.socket.request({ type: "internal.rooms" });
      const fresh = (rooms.rooms ?? []).filter((room) => !this.rooms.has(room.id));
      this.#takeRooms(fresh, true);
      const room = this.rooms.get(message.room_id);
      if (room && message.author_id !== this.me.id && room.unread > 0) this.alerts.internalChime();
    } catch {
      // The next welcome reloads the rooms.
    } finally {
      this.refreshing = false;
    }
  }

  #markedElsewhere({ room_id: roomId, last_read_seq: lastRead, unread }) {
    const room = this.rooms.get(roomId);
    if (!room || lastRead < room.last_read_seq) return;
    room.last_read_seq = lastRead;
    room.unread = unread;
    this.#renderRooms();
  }

  /** Whether I am looking at the room: it is open, the tab is shown, the page is visible. */
  #looking(roomId) {
    return this.current === roomId && !this.panel.hidden && document.visibilityState === "visible";
  }

  #readCurrent() {
    const room = this.current && this.rooms.get(this.current);
    if (!room || !this.#looking(room.id)) return;
    if (room.unread === 0 && room.last_read_seq >= room.top_seq) return;
    const seq = room.top_seq;
    room.unread = 0;
    room.last_read_seq = Math.max(room.last_read_seq, seq);
    this.#renderRooms();
    this.socket.request({ type: "internal.read", room_id: room.id, seq }).then((view) => {
      const latest = this.rooms.get(view.id);
      if (latest && view.last_read_seq >= latest.last_read_seq) {
        latest.last_read_seq = view.last_read_seq;
        latest.unread = latest.top_seq > view.top_seq ? latest.unread : view.unread;
        this.#renderRooms();
      }
    }, () => {});
  }

  #openRequested({ operatorId, departmentId }) {
    this.tab.click(); // the tabs module shows the panel
    const opening = operatorId ? this.openDirect(operatorId) : departmentId ? this.openDepartment(departmentId) : null;
    opening?.catch((error) => announce(`Could not open the chat: ${error.message}`));
  }

  // ---- rendering -------------------------------------------------------------------

  #title(room) {
    if (room.kind === "all_staff") return "All Staff";
    if (room.kind === "department") {
      const department = (this.me.departments ?? []).find((d) => d.id === room.department_id);
      return department ? department.name : room.department_id;
    }
    const otherId = room.member_ids.find((id) => id !== this.me.id);
    const other = this.staff.get(otherId);
    return other ? other.nickname : "Direct chat";
  }

  /** A direct room's colleague: "Online · 1 active chat"; a department room: who is in it. */
  #subtitle(room) {
    if (room.kind === "direct") {
      const other = this.staff.get(room.member_ids.find((id) => id !== this.me.id));
      return other ? `${other.status === "online" ? "Online" : "Offline"} · ${activeChatsText(other.active_chats)}` : "";
    }
    if (room.kind === "department") return "Everyone in this department";
    return "Every staff member";
  }

  #renderRooms() {
    const rooms = [...this.rooms.values()];
    const groups = [
      ["Everyone", rooms.filter((r) => r.kind === "all_staff")],
      ["My departments", rooms.filter((r) => r.kind === "department")],
      // a direct chat shows once something was said in it (or while I have it open)
      ["Direct chats", rooms.filter((r) => r.kind === "direct" && (r.top_seq > 0 || r.id === this.current))
        .sort((a, b) => (b.last_message?.sent_at ?? "").localeCompare(a.last_message?.sent_at ?? ""))],
    ];
    const focusedId = this.roomList.contains(document.activeElement) ? document.activeElement.dataset.roomId : null;
    this.roomList.replaceChildren(...groups.filter(([, list]) => list.length).map(([label, list]) =>
      h("li", { class: "rooms__group" },
        h("p", { class: "rooms__label", text: label }),
        h("ul", { class: "rooms__items" }, list.map((room) => this.#roomItem(room))))));
    if (focusedId) this.roomList.querySelector(`button[data-room-id="${CSS.escape(focusedId)}"]`)?.focus();
    const total = rooms.reduce((sum, room) => sum + (room.unread || 0), 0);
    this.badge.textContent = total ? String(total) : "";
    this.badge.setAttribute("aria-label", total ? `${total} unread` : "");
    for (const [roomId, pane] of this.panes) {
      const room = this.rooms.get(roomId);
      pane.setTitle(this.#title(room), this.#subtitle(room));
    }
  }

  #roomItem(room) {
    const title = this.#title(room);
    const last = room.last_message;
    const preview = last ? `${last.author_id === this.me.id ? "You" : last.author_name}: ${last.body}` : "No messages yet";
    const unread = room.unread || 0;
    const button = h("button", {
      type: "button", class: "rooms__room", "data-testid": "internal-room",
      dataset: { roomId: room.id, kind: room.kind }, "aria-current": room.id === this.current ? "true" : null,
    },
      room.kind === "direct" ? this.#dot(room) : null,
      h("span", { class: "rooms__text" },
        h("span", { class: "rooms__name", text: title }),
        h("span", { class: "rooms__preview", "data-testid": "room-preview", text: preview })),
      h("span", { class: "rooms__unread", "data-testid": "room-unread", text: unread ? String(unread) : "", hidden: !unread }));
    button.setAttribute("aria-label", `${title}${unread ? `, ${unread} unread` : ""}`);
    button.addEventListener("click", () => this.show(room.id, true));
    return h("li", {}, button);
  }

  #dot(room) {
    const other = this.staff.get(room.member_ids.find((id) => id !== this.me.id));
    const status = other?.status ?? "offline";
    return h("span", { class: `staff__dot staff__dot--${status}`, title: status === "online" ? "Online" : "Offline",
      "aria-hidden": "true" });
  }
}
