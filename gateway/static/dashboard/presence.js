/**
 * The header's presence controls: my name, Online/Offline and the departments I
 * monitor. Changes go to the gateway as `status.set`; its reply (OperatorProfile)
 * becomes the shown state.
 *
 * Test ids: status-select, department-checkbox (data-department), operator-name.
 */
import { h, announce } from "../static/js/dom.js";

export class Presence extends EventTarget {
  /**
   * @param {{name: HTMLElement, select: HTMLSelectElement, departments: HTMLElement}} elements
   * @param {import("../static/js/socket.js").RefdeskSocket} socket
   * @param {() => void} gesture called on a user's change (unlocks sound, asks for notifications)
   */
  constructor(elements, socket, gesture) {
    super();
    this.el = elements;
    this.socket = socket;
    this.gesture = gesture;
    this.profile = null;
    this.pendingStatus = null; // what the operator chose while status.set is on its way
    this.onSelect = () => this.#set({ status: this.el.select.value });
    this.el.select.addEventListener("change", this.onSelect);
  }

  get online() {
    return this.profile?.status === "online";
  }

  /** Go Online keeping the monitored departments (all of mine when none yet). */
  goOnline() {
    this.#set({ status: "online" });
  }

  /** Show an OperatorProfile; fires `change`. */
  setProfile(profile) {
    this.profile = profile;
    this.el.name.textContent = profile.full_name;
    this.el.select.value = this.pendingStatus ?? profile.status;
    this.el.select.dataset.status = profile.status;
    const monitored = new Set(profile.monitored ?? []);
    const departments = profile.departments ?? [];
    const ids = departments.map((department) => department.id).join(" ");
    if (this.el.departments.dataset.ids !== ids) {
      // Rebuild only when the departments differ, so keyboard focus stays on a box.
      this.el.departments.dataset.ids = ids;
      this.el.departments.replaceChildren(...departments.map((department) => {
        const box = h("input", { type: "checkbox", value: department.id, dataset: { testid: "department-checkbox", department: department.id } });
        box.addEventListener("change", () => this.#set({ status: this.profile.status, monitored: this.#checked() }));
        return h("label", { class: "presence__box" }, box, department.name);
      }));
    }
    for (const box of this.el.departments.querySelectorAll("input[type=checkbox]")) box.checked = monitored.has(box.value);
    this.dispatchEvent(new CustomEvent("change", { detail: profile }));
  }

  destroy() {
    this.el.select.removeEventListener("change", this.onSelect);
    this.el.departments.replaceChildren();
    delete this.el.departments.dataset.ids;
  }

  #checked() {
    return [...this.el.departments.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
  }

  async #set(frame) {
    this.gesture();
    this.pendingStatus = frame.status;
    this.el.select.disabled = true;
    try {
      // Right after sign-in the socket may still be connecting: wait for it.
      const profile = await this.socket.request({ type: "status.set", ...frame }, { waitForOpen: true });
      this.pendingStatus = null;
      this.setProfile(profile);
      announce(profile.status === "online" ? "You are Online." : "You are Offline.");
    } catch (error) {
      this.pendingStatus = null;
      if (this.profile) this.setProfile(this.profile); // back to what the server knows
      announce(`Couldn't change your status: ${error.message}`);
    } finally {
      this.el.select.disabled = false;
    }
  }
}
