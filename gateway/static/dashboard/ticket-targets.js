/**
 * Where a ticket can go: every department (GET /api/departments) and every operator
 * (the `staff.list` frame), fetched once per dashboard and shared by the ticket
 * detail's Assign control and the chat pane's "Create ticket" dialog.
 */
import { api } from "../static/js/api.js";
import { h } from "../static/js/dom.js";

let cached = null;

/**
 * @param {import("../static/js/socket.js").RefdeskSocket} socket
 * @returns {Promise<{departments: Array<{id: string, name: string}>, operators: Array<{id: string, nickname: string}>}>}
 */
export function loadTargets(socket) {
  if (!cached) {
    cached = Promise.all([
      api("/api/departments").then((data) => data.departments ?? []),
      socket.request({ type: "staff.list" }, { waitForOpen: true }).then((data) => data.operators ?? []),
    ]).then(([departments, operators]) => ({ departments, operators }))
      .catch((error) => { cached = null; throw error; });
  }
  return cached;
}

/** Forget the cached targets (sign-out). */
export function clearTargets() {
  cached = null;
}

/**
 * `<option>`s of a select offering departments and/or operators; values are
 * `department:<id>` / `operator:<id>`.
 * @param {{departments?: Array, operators?: Array, skipDepartment?: string, skipOperator?: string}} targets
 */
export function targetOptions({ departments = [], operators = [], skipDepartment = null, skipOperator = null }) {
  const groups = [];
  const deps = departments.filter((d) => d.id !== skipDepartment);
  const ops = operators.filter((o) => o.id !== skipOperator);
  if (deps.length) {
    groups.push(h("optgroup", { label: "Departments" },
      deps.map((d) => h("option", { value: `department:${d.id}`, text: d.name }))));
  }
  if (ops.length) {
    groups.push(h("optgroup", { label: "Operators" },
      ops.map((o) => h("option", { value: `operator:${o.id}`, text: o.full_name ? `${o.nickname} (${o.full_name})` : o.nickname }))));
  }
  return groups;
}

/** `{operator_id}` or `{department_id}` for a `targetOptions` value. */
export function targetOf(value) {
  const [kind, id] = String(value).split(":");
  return kind === "operator" ? { operator_id: id } : { department_id: id };
}
