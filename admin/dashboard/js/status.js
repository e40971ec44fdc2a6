// @ts-check
// The page's header and banners, above the tabs: the replica, the revision
// and the store's health from GET /v1/cors/status, the configuration
// file's problems, and the notice that the configuration moved on since
// the page read it.

import { $, fmtTime, isObject } from "./dom.js";
import { api, onStale, renderFailures } from "./api.js";
import { state } from "./state.js";
import { renderHistory } from "./history.js";

/** @typedef {import("./api.js").StoreStatus} StoreStatus */
/** @typedef {import("./api.js").FileStatus} FileStatus */

/**
 * loadStatus reads the status and shows it.
 * @returns {Promise<void>}
 */
export async function loadStatus() {
  const r = await api("GET", "/v1/cors/status");
  if (!r.ok || !isObject(r.data)) return;
  state.status = r.data;
  renderStatus();
}

function renderStatus() {
  const s = /** @type {import("./api.js").Status} */ (state.status);
  $("replica").textContent = s.replica || "(unnamed)";
  $("revision").textContent = String(s.revision ?? "?");
  /** @type {Partial<StoreStatus>} */
  const st = isObject(s.store) ? s.store : {};
  let cls = "ok";
  let text = "ok";
  if (st.unreachable_since) {
    cls = "unreachable";
    text = "unreachable"; // since when: the store banner, once
  } else if (st.refused) {
    cls = "refused";
    text = st.refused.revision ? `refused revision ${st.refused.revision}` : "refused";
  } else if (!st.ok) {
    cls = "error";
    text = "error";
  }
  const badge = $("store-badge");
  badge.className = "badge " + cls;
  badge.textContent = text;
  badge.title = `${st.type || "store"}${st.prefix ? " " + st.prefix : ""}${st.path ? " " + st.path : ""}`;
  renderStoreBanner();

  const fe = $("file-error");
  /** @type {Partial<FileStatus>} */
  const file = isObject(s.file) ? s.file : {};
  const parts = [];
  if (file.error) parts.push(`The configuration file's last reload was refused: ${file.error}`);
  if (Array.isArray(file.restart_required) && file.restart_required.length) {
    parts.push(`Changes of the file that need a restart: ${file.restart_required.join("; ")}`);
  }
  if (Array.isArray(file.masked) && file.masked.length) {
    const keys = file.masked.filter(isObject).map((m) => {
      const by = isObject(m.set_by) && m.set_by.revision ? ` (revision ${m.set_by.revision}${m.set_by.user ? ", by " + m.set_by.user : ""})` : "";
      return `${m.key} of ${m.scope}${by}`;
    });
    parts.push(`The run-time layer overrides the file's value of ${keys.join("; ")}: the layer wins these keys, so editing them in the file changes nothing; ` +
      "drop a key from the layer (corsgate config drop KEY --scope SCOPE) to let the file's value apply.");
  }
  fe.textContent = parts.join(" — ");
  fe.hidden = parts.length === 0;
  renderRevisionNotice();
  if (state.history.length) renderHistory();
}

// An RFC 3339 time in a message of the API, shown in the page's one format.
const RFC3339 = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;

/**
 * localTimes writes the RFC 3339 times of an API message in the page's
 * format (fmtTime).
 * @param {string} text
 * @returns {string}
 */
function localTimes(text) {
  return text.replace(RFC3339, (t) => fmtTime(t));
}

/**
 * renderStoreBanner shows the store's trouble in one banner (#store-detail),
 * from the status, else from the last stale read: one fact, one banner,
 * one time format. While it shows, the 503 answers it explains stay out
 * of the error banner (api.js: storeDown).
 */
function renderStoreBanner() {
  const s = state.status;
  /** @type {Partial<StoreStatus>} */
  const st = s && isObject(s.store) ? s.store : {};
  const where = `${st.type || "store"}${st.prefix ? " " + st.prefix : ""}`;
  let text = "";
  if (st.unreachable_since) {
    text = `The store (${where}) does not answer since ${fmtTime(st.unreachable_since)}: this gateway keeps serving revision ${s?.revision ?? "?"} as it last applied it, and changes, the history and the fleet wait until the store is back.`;
    // The status's error restates the outage, then gives its cause: the cause only.
    const cause = /keeps serving revision \d+: ([\s\S]*)$/.exec(String(st.error ?? ""));
    if (cause) text += ` The cause: ${localTimes(cause[1])}`;
  } else if (state.stale) {
    text = `The store does not answer: ${localTimes(state.stale)}.`;
  } else if (st.error) {
    text = `Store (${where}): ${localTimes(String(st.error))}`;
  }
  const detail = $("store-detail");
  detail.textContent = text;
  detail.hidden = !text;
  renderFailures(); // a 503 it explains leaves the error banner
}
onStale(renderStoreBanner);

/**
 * renderRevisionNotice shows #revision-notice when the status's revision
 * is not the one the page read the configuration at.
 */
export function renderRevisionNotice() {
  const s = state.status;
  const show = s && state.config && state.revision !== null && Number(s.revision) !== state.revision;
  $("revision-notice").hidden = !show;
  if (show) {
    $("revision-notice-text").textContent =
      `The configuration is at revision ${s.revision}; this page shows revision ${state.revision}. Unsaved edits are kept on reload.`;
  }
}
