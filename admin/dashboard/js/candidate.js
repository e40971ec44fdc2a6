// @ts-check
// The Report-only tab: a candidate run-time layer, evaluated on live
// traffic next to the enforced one without deciding anything (PUT and
// DELETE /v1/cors/candidate), the requests it would decide differently
// (refreshed every 5 s while shown), and applying it as the layer.

import { $, h, clear, busy, setMessage, clearMessage, showErrors, hideErrors, fmtTime, timeEl, isObject, num, originEl, labelCells } from "./dom.js";
import { api, unavailable, warningsText } from "./api.js";
import { state, reloadAll } from "./state.js";
import { loadConfig, onConfigLoaded } from "./policies.js";

/** @typedef {import("./api.js").ApiResult} ApiResult */
/** @typedef {import("./api.js").Candidate} Candidate */
/** @typedef {import("./api.js").KeyChange} KeyChange */
/** @typedef {import("./dom.js").Problem} Problem */

// The state of this tab.
const local = {
  /** the editor has unsaved text */
  candidateDirty: false,
  /** @type {Candidate | null} the report last read, when a candidate is under evaluation */
  active: null,
};

/**
 * fillCandidate puts in the editor the candidate under evaluation, or,
 * when none is, the current run-time layer.
 */
function fillCandidate() {
  const layer = local.active && isObject(local.active.layer) ? local.active.layer
    : isObject(state.config?.layer) ? state.config.layer : {};
  /** @type {HTMLTextAreaElement} */ ($("candidate-editor")).value = JSON.stringify(layer, null, 2);
  local.candidateDirty = false;
}

/**
 * candidateText gives the editor's text if it is a JSON object; else it
 * says what is wrong and gives null.
 * @returns {string | null}
 */
function candidateText() {
  const text = /** @type {HTMLTextAreaElement} */ ($("candidate-editor")).value;
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    setMessage("candidate-message", "error", `The candidate is not JSON (${/** @type {Error} */ (e).message}).`);
    return null;
  }
  if (!isObject(parsed)) {
    setMessage("candidate-message", "error", 'The candidate must be a JSON object: {"cors_off": false, "service": {…}, "endpoints": {"GET /x": {…}}}.');
    return null;
  }
  return text;
}

/**
 * pollCandidate reads the report of report-only mode and shows it.
 * @returns {Promise<void>}
 */
export async function pollCandidate() {
  const r = await api("GET", "/v1/cors/candidate", { optional: true });
  const status = $("candidate-status");
  const changes = /** @type {HTMLTableElement} */ ($("candidate-changes")).tBodies[0];
  const samples = /** @type {HTMLTableElement} */ ($("candidate-samples")).tBodies[0];
  if (unavailable(r.status)) {
    status.textContent = `not available on this gateway: ${r.reason}`;
    $("candidate-differences").textContent = "";
    clear(changes);
    clear(samples);
    return;
  }
  if (!r.ok || !isObject(r.data)) return;
  /** @type {Candidate} */
  const c = r.data;
  const was = local.active?.since;
  local.active = c.active ? c : null;
  if (!local.candidateDirty && (local.active?.since ?? null) !== (was ?? null)) fillCandidate();
  /** @type {HTMLButtonElement} */ ($("apply-candidate")).disabled = !c.active;
  status.textContent = c.active
    ? `active since ${fmtTime(c.since)}, judged against revision ${num(c.revision)}; the editor shows the candidate under evaluation`
    : "not running";
  const evaluated = num(c.evaluated);
  $("candidate-differences").textContent = c.active || evaluated
    ? `${num(c.differences)} of ${evaluated} requests would be decided differently`
    : "Start report-only to see how the candidate would decide live requests.";

  clear(changes);
  for (const b of Array.isArray(c.by_change) ? c.by_change.filter(isObject) : []) {
    changes.append(h("tr", null,
      h("td", null, String(b.kind ?? "")),
      h("td", null, String(b.enforced ?? "")),
      h("td", null, String(b.candidate ?? "")),
      h("td", { class: "num", text: String(num(b.count)) })));
  }
  if (!changes.rows.length) changes.append(h("tr", null, h("td", { colspan: "4", class: "empty", text: "No difference." })));

  clear(samples);
  for (const s of Array.isArray(c.samples) ? c.samples.filter(isObject) : []) {
    samples.append(h("tr", null,
      h("td", { class: "nowrap" }, timeEl(s.time)),
      h("td", null, String(s.method ?? "")),
      h("td", { class: "value" }, h("code", { text: String(s.path ?? "") })),
      h("td", { class: "value" }, originEl("code", String(s.origin ?? ""))),
      h("td", null, String(s.enforced ?? "")),
      h("td", null, String(s.candidate ?? "")),
      h("td", { class: "reason" }, String(s.reason ?? ""))));
  }
  if (!samples.rows.length) samples.append(h("tr", null, h("td", { colspan: "7", class: "empty", text: "No sample." })));
  labelCells(/** @type {HTMLTableElement} */ ($("candidate-changes")));
  labelCells(/** @type {HTMLTableElement} */ ($("candidate-samples")));
}

/**
 * candidateFailure shows why a write of the candidate failed.
 * @param {ApiResult} r
 * @param {string} what what did not happen, such as "Not started"
 */
function candidateFailure(r, what) {
  if (r.status === 400) {
    /** @type {Array<Problem | string>} */
    const errors = Array.isArray(r.data?.errors) && r.data.errors.length ? r.data.errors : [r.reason];
    setMessage("candidate-message", "error", `${what}: the gateway refused the candidate.`);
    showErrors("candidate-errors", errors);
  } else if (r.status === 404) {
    setMessage("candidate-message", "error", `${what}: this gateway has no report-only mode (${r.reason}).`);
  } else {
    setMessage("candidate-message", "error", `${what}: ${r.reason}`);
  }
}

async function startCandidate() {
  clearMessage("candidate-message");
  hideErrors("candidate-errors");
  const text = candidateText();
  if (text === null) return;
  const r = await busy($("start-candidate"), () => api("PUT", "/v1/cors/candidate", { body: text }));
  if (r.ok) {
    local.candidateDirty = false;
    setMessage("candidate-message", "ok", `Report-only started: the candidate is evaluated, not enforced.${warningsText(r.data)}`);
  } else {
    candidateFailure(r, "Not started");
  }
  await pollCandidate();
}

async function stopCandidate() {
  clearMessage("candidate-message");
  hideErrors("candidate-errors");
  const r = await busy($("stop-candidate"), () => api("DELETE", "/v1/cors/candidate"));
  if (r.ok) setMessage("candidate-message", "ok", "Report-only stopped.");
  else candidateFailure(r, "Not stopped");
  await pollCandidate();
}

/**
 * changeText says what one key of a diff changes, for the confirmation.
 * @param {KeyChange} c
 * @returns {string}
 */
function changeText(c) {
  const show = (/** @type {unknown} */ v) => (v === undefined ? "(unset: the file's value or the default)" : JSON.stringify(v));
  return `${c.scope} ${c.key}: ${show(c.old)} -> ${show(c.new)}`;
}

/**
 * applyCandidate applies the candidate under evaluation, exactly as it is
 * evaluated (not the editor's text), against the revision it was judged
 * against, after a confirmation that shows what it changes. The
 * evaluation then ends.
 */
async function applyCandidate() {
  clearMessage("candidate-message");
  hideErrors("candidate-errors");
  await pollCandidate();
  const c = local.active;
  if (!c) {
    setMessage("candidate-message", "error", "No candidate is under evaluation: start report-only first, then apply what it evaluated.");
    return;
  }
  const diff = Array.isArray(c.diff) ? c.diff : [];
  const lines = diff.length ? diff.map(changeText).join("\n") : "(it changes nothing)";
  const edited = local.candidateDirty ? "\n\nThe editor's unsaved text is not applied: the candidate under evaluation is." : "";
  if (!window.confirm(`Apply the candidate judged against revision ${num(c.revision)}?\n\nIt becomes the run-time layer, as a new revision, enforced at once:\n${lines}${edited}`)) return;
  const r = await busy($("apply-candidate"), () => api("POST", "/v1/cors/candidate/apply", { body: JSON.stringify({ since: c.since }), ifMatch: num(c.revision) }));
  if (r.ok) {
    local.candidateDirty = false;
    local.active = null;
    await reloadAll();
    await pollCandidate();
    setMessage("candidate-message", "ok", `Applied: revision ${r.data?.revision ?? r.etag}; report-only ended.${warningsText(r.data)}`);
    return;
  }
  if (r.status === 412) {
    await loadConfig();
    setMessage("candidate-message", "error",
      `Not applied: the candidate was judged against revision ${num(c.revision)}, and the configuration changed since ` +
      `(it is at revision ${state.revision}). Start report-only again with it, so that it is judged against the current layer.`);
    return;
  }
  candidateFailure(r, "Not applied");
}

/**
 * wireCandidate sets the Report-only tab's event listeners, and has every
 * read of the configuration put its layer in the editor, unless the editor
 * has unsaved text.
 */
export function wireCandidate() {
  onConfigLoaded(() => {
    if (!local.candidateDirty) fillCandidate();
  });
  $("candidate-editor").addEventListener("input", () => {
    local.candidateDirty = true;
  });
  $("start-candidate").addEventListener("click", startCandidate);
  $("stop-candidate").addEventListener("click", stopCandidate);
  $("apply-candidate").addEventListener("click", applyCandidate);
  $("reset-candidate").addEventListener("click", () => {
    clearMessage("candidate-message");
    hideErrors("candidate-errors");
    fillCandidate();
  });
}
