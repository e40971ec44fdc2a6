// @ts-check
// The History tab: the revisions of the run-time layer, newest first, each
// with what it changed and a button that rolls back to it.

import { $, h, clear, busy, setMessage, clearMessage, timeEl, compact, isObject, labelCells } from "./dom.js";
import { api, warningsText } from "./api.js";
import { state, reloadAll } from "./state.js";

/** @typedef {import("./api.js").HistoryRecord} HistoryRecord */
/** @typedef {import("./api.js").DiffEntry} DiffEntry */
/** @typedef {import("./dom.js").Problem} Problem */

/**
 * loadHistory reads the last 50 revisions and shows them.
 * @returns {Promise<void>}
 */
export async function loadHistory() {
  const r = await api("GET", "/v1/cors/history?limit=50");
  if (r.status === 503) {
    setMessage("history-message", "info", "The history cannot be read while the store does not answer (see the banner above); it shows again when the store is back.");
    return;
  }
  if (!r.ok || !isObject(r.data)) return;
  if ($("history-message").classList.contains("info")) clearMessage("history-message");
  state.history = Array.isArray(r.data.history) ? r.data.history.filter(isObject) : [];
  renderHistory();
}

/**
 * renderHistory draws the table of revisions; the current one (the
 * status's, else the configuration's) is marked.
 */
export function renderHistory() {
  const tbody = /** @type {HTMLTableElement} */ ($("history")).tBodies[0];
  clear(tbody);
  const current = state.status ? Number(state.status.revision) : state.revision;
  const recs = state.history.slice().sort((a, b) => Number(b.revision) - Number(a.revision));
  for (const rec of recs) {
    const isCurrent = Number(rec.revision) === current;
    tbody.append(h("tr", { class: isCurrent ? "current" : null, dataset: { revision: String(rec.revision) } },
      h("td", { class: "num nowrap" }, String(rec.revision), isCurrent ? " " : null, isCurrent ? h("span", { class: "badge current", text: "current" }) : null),
      h("td", { class: "nowrap" }, timeEl(rec.time)),
      h("td", null, String(rec.user ?? "")),
      h("td", null, String(rec.source ?? ""),
        rec.source === "rollback" && rec.rollback_of ? h("span", { class: "rollback-of", text: `to revision ${rec.rollback_of}` }) : null),
      h("td", null, diffList(rec.diff)),
      h("td", null, isCurrent
        ? h("span", { class: "muted", text: "in force" })
        : h("button", {
          type: "button", class: "rollback secondary small", dataset: { revision: String(rec.revision) },
          "aria-label": `Roll back to revision ${rec.revision}`, text: "Roll back to this",
        }))));
  }
  $("history-empty").hidden = recs.length !== 0;
  labelCells(/** @type {HTMLTableElement} */ ($("history")));
}

/**
 * diffList gives the changes of a revision as a list: scope, key, old and
 * new value.
 * @param {DiffEntry[] | undefined} diff
 * @returns {HTMLUListElement}
 */
export function diffList(diff) {
  const ul = h("ul", { class: "diff" });
  if (!Array.isArray(diff) || diff.length === 0) {
    ul.append(h("li", { class: "muted", text: "(no key changed)" }));
    return ul;
  }
  /** @type {(d: DiffEntry, k: "old" | "new") => string} */
  const val = (d, k) => (Object.prototype.hasOwnProperty.call(d, k) && d[k] !== undefined ? compact(d[k]) : "(unset)");
  /** @type {(d: DiffEntry, k: "old" | "new") => string | null} */
  const tip = (d, k) => (val(d, k) === "(unset)" ? "not set in the run-time layer: the file's value, or the default, applied" : null);
  for (const d of diff) {
    if (!isObject(d)) continue;
    ul.append(h("li", null,
      h("span", { class: "scope", text: String(d.scope ?? "") }), " ",
      h("strong", { text: String(d.key ?? "") }), ": ",
      h("span", { class: "old", title: tip(d, "old"), text: val(d, "old") }), " → ",
      h("span", { class: "new", title: tip(d, "new"), text: val(d, "new") })));
  }
  return ul;
}

/**
 * rollback rolls back to the revision of button, once the operator
 * confirms.
 * @param {HTMLButtonElement} button
 */
async function rollback(button) {
  const rev = Number(button.dataset.revision);
  if (!Number.isInteger(rev) || rev < 0) return;
  if (!window.confirm(`Roll back to revision ${rev}?\n\nIts run-time layer becomes the current one, as a new revision, and the gateway applies it at once.`)) return;
  clearMessage("history-message");
  const r = await busy(button, () => api("POST", "/v1/cors/rollback", { body: { revision: rev } }));
  if (r.ok) {
    await reloadAll();
    setMessage("history-message", "ok", `Rolled back to revision ${rev}: now revision ${r.data?.revision ?? r.etag}.${warningsText(r.data)}`);
    return;
  }
  /** @type {Problem[]} */
  const errors = Array.isArray(r.data?.errors) ? r.data.errors : [];
  const parts = [`Not rolled back: ${r.reason}`];
  if (errors.length) parts.push(" " + errors.map((e) => `${e.path}: ${e.message}`).join("; "));
  setMessage("history-message", "error", ...parts);
}

/** wireHistory sets the History tab's event listeners. */
export function wireHistory() {
  $("history").addEventListener("click", (ev) => {
    const btn = /** @type {HTMLButtonElement | null} */ (/** @type {Element} */ (ev.target).closest("button.rollback"));
    if (btn) rollback(btn);
  });
  $("history-reload").addEventListener("click", () => busy($("history-reload"), loadHistory));
}
