// @ts-check
// The Policies tab: every scope (the service-level block and each
// endpoint's), key by key with where each value comes from, and an editor
// of the scope's run-time keys. A write carries If-Match with the revision
// read; a 412 shows what changed in between, and keeps the edit.

import { $, h, clear, busy, setMessage, clearMessage, showErrors, hideErrors, timeEl, compact, isObject, labelCells } from "./dom.js";
import { api, warningsText } from "./api.js";
import { state, reloadAll } from "./state.js";
import { loadStatus, renderRevisionNotice } from "./status.js";
import { loadHistory, diffList } from "./history.js";

/** @typedef {import("./api.js").ApiResult} ApiResult */
/** @typedef {import("./api.js").Config} Config */
/** @typedef {import("./api.js").Block} Block */
/** @typedef {import("./api.js").PolicyDocument} PolicyDocument */
/** @typedef {import("./api.js").Layer} Layer */
/** @typedef {import("./api.js").HistoryRecord} HistoryRecord */
/** @typedef {import("./dom.js").Problem} Problem */

/**
 * A row of the keys table of a scope. badge says where the value comes
 * from; cls is the badge's class (file, runtime, inherited, removed).
 * @typedef {Object} KeyRow
 * @property {string} key
 * @property {unknown} value the effective value
 * @property {boolean} has the key is set
 * @property {string} badge
 * @property {string} cls
 */

// The keys of a block in the order of the schema; others follow, sorted.
const KEY_ORDER = [
  "allow_origins", "allow_origins_regex", "allow_origins_regex_unsafe", "allow_methods",
  "allow_headers", "expose_headers", "max_age", "allow_credentials",
  "allow_any_origin_with_credentials_unsafe", "allow_private_network", "options_passthrough",
  "options_success_status", "terminate_unmatched_request", "unmatched_status", "debug",
  "disable", "strip_cors_request_headers", "@comment",
];
// Keys an endpoint never inherits from the service-level block.
const NOT_INHERITED = new Set(["disable", "strip_cors_request_headers", "@comment"]);

// The state of this tab.
const local = {
  /** the scope shown: "service", or an endpoint such as "GET /users/{id}" */
  scope: "service",
  /** @type {string[]} the scopes the gateway serves (GET /v1/cors/scopes), in its order */
  served: [],
  /** @type {Set<string>} the scopes with a block of their own in the file */
  fileBlocks: new Set(),
  /** @type {Map<string, string>} scope -> unsaved text of the scope editor */
  drafts: new Map(),
};

/** @type {Array<() => void>} */
const configListeners = [];

/**
 * onConfigLoaded registers fn, called each time loadConfig has read the
 * configuration and drawn this tab (before the revision notice is
 * updated).
 * @param {() => void} fn
 */
export function onConfigLoaded(fn) {
  configListeners.push(fn);
}

/**
 * loadConfig reads the configuration and the revision it is at, and shows
 * it; false if it could not.
 * @returns {Promise<boolean>}
 */
export async function loadConfig() {
  const [r, sc] = await Promise.all([api("GET", "/v1/cors/config", { stale: true }), api("GET", "/v1/cors/scopes", { optional: true })]);
  if (sc.ok && isObject(sc.data) && Array.isArray(sc.data.scopes)) {
    const scopes = sc.data.scopes.filter(isObject);
    local.served = scopes.map((x) => String(x.scope ?? "")).filter((x) => x !== "");
    local.fileBlocks = new Set(scopes.filter((x) => String(x.block ?? "").startsWith("file")).map((x) => String(x.scope)));
  }
  if (!r.ok || !isObject(r.data)) return false;
  state.config = r.data;
  state.revision = r.etag !== null ? r.etag : Number(r.data.revision ?? 0);
  renderPolicies();
  for (const fn of configListeners) fn();
  renderRevisionNotice();
  return true;
}

/**
 * layerKeys gives the run-time keys of scope, or null for none.
 * @param {string} scope
 * @returns {Block | null}
 */
export function layerKeys(scope) {
  /** @type {Layer} */
  const layer = isObject(state.config?.layer) ? state.config.layer : {};
  if (scope === "service") return isObject(layer.service) ? layer.service : null;
  const eps = isObject(layer.endpoints) ? layer.endpoints : {};
  return isObject(eps[scope]) ? eps[scope] : null;
}

/**
 * block gives the block of scope in doc, or null for none.
 * @param {PolicyDocument | null | undefined} doc
 * @param {string} scope
 * @returns {Block | null}
 */
function block(doc, scope) {
  if (!isObject(doc)) return null;
  if (scope === "service") return isObject(doc.service) ? doc.service : null;
  return isObject(doc.endpoints) && isObject(doc.endpoints[scope]) ? doc.endpoints[scope] : null;
}

/**
 * layerWith gives a copy of the run-time layer read, with the keys of
 * scope replaced by keys: the layer a write of that scope would make, for
 * a dry run (POST /v1/cors/validate).
 * @param {string} scope
 * @param {Block} keys
 * @returns {Record<string, any>}
 */
export function layerWith(scope, keys) {
  /** @type {Record<string, any>} */
  const layer = JSON.parse(JSON.stringify(isObject(state.config?.layer) ? state.config.layer : {}));
  if (scope === "service") {
    layer.service = keys;
  } else {
    layer.endpoints = isObject(layer.endpoints) ? layer.endpoints : {};
    layer.endpoints[scope] = keys;
  }
  return layer;
}

/**
 * effectiveOrigins gives the allow_origins that apply to scope: its own,
 * else (an endpoint) the service's; null when none is set.
 * @param {string} scope
 * @returns {string[] | null}
 */
export function effectiveOrigins(scope) {
  /** @type {Partial<Config>} */
  const cfg = state.config || {};
  for (const b of [block(cfg.effective, scope), scope === "service" ? null : block(cfg.effective, "service")]) {
    if (b && Array.isArray(b.allow_origins)) return b.allow_origins.map(String);
  }
  return null;
}

/**
 * scopeNames gives "service", then every endpoint the gateway serves (GET
 * /v1/cors/scopes, in the order of the configuration), then any other
 * endpoint a block names, sorted by path.
 * @returns {string[]}
 */
function scopeNames() {
  /** @type {Partial<Config>} */
  const cfg = state.config || {};
  /** @type {Set<string>} */
  const others = new Set();
  for (const doc of [cfg.effective, cfg.file, cfg.layer]) {
    if (isObject(doc) && isObject(doc.endpoints)) for (const k of Object.keys(doc.endpoints)) others.add(k);
  }
  const served = local.served.filter((x) => x !== "service");
  for (const k of served) others.delete(k);
  others.delete("service");
  return ["service", ...served, ...[...others].sort((a, b) => {
    const pa = a.slice(a.indexOf(" ") + 1);
    const pb = b.slice(b.indexOf(" ") + 1);
    return pa === pb ? a.localeCompare(b) : pa.localeCompare(pb);
  })];
}

/**
 * @param {string} k
 * @returns {number}
 */
function keyRank(k) {
  const i = KEY_ORDER.indexOf(k);
  return i < 0 ? KEY_ORDER.length : i;
}

/**
 * sortKeys sorts keys in place, in the order of the schema.
 * @param {string[]} keys
 * @returns {string[]}
 */
function sortKeys(keys) {
  return keys.sort((a, b) => keyRank(a) - keyRank(b) || a.localeCompare(b));
}

/**
 * scopeRows gives the rows of the keys table: {key, value, has, badge, cls}.
 * @param {string} scope
 * @returns {KeyRow[]}
 */
function scopeRows(scope) {
  /** @type {Partial<Config>} */
  const cfg = state.config || {};
  const eff = block(cfg.effective, scope) || {};
  const file = block(cfg.file, scope);
  const layer = layerKeys(scope) || {};
  /** @type {Record<string, string>} */
  const sources = isObject(cfg.sources) && isObject(cfg.sources[scope]) ? cfg.sources[scope] : {};
  /** @type {KeyRow[]} */
  const rows = [];
  const shown = new Set();
  for (const key of Object.keys(eff)) {
    const runtime = sources[key] === "runtime" || (sources[key] === undefined && key in layer);
    let badge = "file";
    if (runtime) {
      badge = file && key in file ? "runtime (overrides the file)" : "runtime";
      const by = isObject(cfg.provenance) && isObject(cfg.provenance[scope]) ? cfg.provenance[scope][key] : null;
      if (isObject(by) && by.revision) badge += `, revision ${by.revision}${by.user ? " by " + by.user : ""}`;
    }
    rows.push({ key, value: eff[key], has: true, badge, cls: runtime ? "runtime" : "file" });
    shown.add(key);
  }
  if (scope !== "service") {
    const svc = block(cfg.effective, "service") || {};
    for (const key of Object.keys(svc)) {
      if (shown.has(key) || NOT_INHERITED.has(key)) continue;
      rows.push({ key, value: svc[key], has: true, badge: "inherited", cls: "inherited" });
      shown.add(key);
    }
  }
  for (const [key, v] of Object.entries(layer)) {
    if (v === null && !shown.has(key)) rows.push({ key, value: undefined, has: false, badge: "removed at run time", cls: "removed" });
  }
  const order = sortKeys(rows.map((r) => r.key));
  return rows.sort((a, b) => order.indexOf(a.key) - order.indexOf(b.key));
}

/** renderPolicies draws the tab: the revision, the scopes, the scope shown. */
function renderPolicies() {
  const cfg = state.config;
  if (!cfg) return;
  $("config-revision").textContent = String(state.revision);
  $("cors-off-note").hidden = !(isObject(cfg.layer) && cfg.layer.cors_off);
  if (!scopeNames().includes(local.scope)) local.scope = "service";
  renderScopeList();
  renderScope();
}

function renderScopeList() {
  const names = scopeNames();
  const ul = $("scopes");
  clear(ul);
  for (const name of names) {
    const lk = layerKeys(name);
    const n = lk ? Object.keys(lk).length : 0;
    const marks = [];
    if (name !== "service" && local.fileBlocks.has(name)) marks.push("own block");
    if (n) marks.push(`${n} run-time`);
    if (local.drafts.has(name)) marks.push("edited");
    ul.append(h("li", null, h("button", {
      type: "button", class: "scope", dataset: { scope: name },
      "aria-current": name === local.scope ? "true" : "false",
    }, name, marks.length ? h("span", { class: "count", text: " · " + marks.join(" · ") }) : null)));
  }
}

function renderScope() {
  const scope = local.scope;
  /** @type {Partial<Config>} */
  const cfg = state.config || {};
  $("scope-title").textContent = scope;

  const notes = [];
  const eff = block(cfg.effective, scope);
  if (scope === "service") {
    if (!eff) notes.push("There is no service-level block: endpoints without a block of their own are not under CORS.");
  } else if (!eff) {
    notes.push("This endpoint has no block of its own: it follows the service-level block as it is.");
  } else if (eff.disable === true) {
    notes.push("disable: true — this endpoint is exempt from CORS.");
  }
  $("scope-note").textContent = notes.join(" ");
  $("scope-note").hidden = notes.length === 0;

  const tbody = /** @type {HTMLTableElement} */ ($("scope-keys")).tBodies[0];
  clear(tbody);
  const rows = scopeRows(scope);
  for (const r of rows) {
    tbody.append(h("tr", { class: "key-row", dataset: { key: r.key, source: r.cls } },
      h("td", null, h("code", { text: r.key })),
      h("td", { class: "nowrap" }, h("span", { class: "badge " + r.cls, text: r.badge })),
      h("td", { class: "value" }, r.has ? h("code", { text: compact(r.value) }) : h("code", { title: "removed by the run-time layer: the default applies", text: "(unset: the default applies)" }))));
  }
  if (rows.length === 0) {
    tbody.append(h("tr", null, h("td", { colspan: "3", class: "empty", text: "No key set: the defaults apply." })));
  }
  labelCells(/** @type {HTMLTableElement} */ ($("scope-keys")));

  const editor = /** @type {HTMLTextAreaElement} */ ($("scope-editor"));
  editor.value = local.drafts.has(scope) ? /** @type {string} */ (local.drafts.get(scope)) : JSON.stringify(layerKeys(scope) || {}, null, 2);
  editor.setAttribute("aria-label", `Run-time keys of ${scope}, as JSON`);
}

/**
 * selectScope shows the scope name.
 * @param {string} name
 */
function selectScope(name) {
  if (name === local.scope) return;
  local.scope = name;
  clearMessage("scope-message");
  hideErrors("scope-errors");
  $("conflict").hidden = true;
  renderPolicies();
}

/**
 * scopeURL: "service" -> /v1/cors/scopes/service; "GET /users/{id}" ->
 * /v1/cors/scopes/GET/users/{id} (encodeURI only).
 * @param {string} scope
 * @returns {string}
 */
export function scopeURL(scope) {
  if (scope === "service") return "/v1/cors/scopes/service";
  const i = scope.indexOf(" ");
  const method = scope.slice(0, i);
  let path = scope.slice(i + 1).trim();
  if (!path.startsWith("/")) path = "/" + path;
  return "/v1/cors/scopes/" + encodeURI(method + path);
}

async function saveScope() {
  const scope = local.scope;
  const text = /** @type {HTMLTextAreaElement} */ ($("scope-editor")).value;
  clearMessage("scope-message");
  hideErrors("scope-errors");
  $("conflict").hidden = true;
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    setMessage("scope-message", "error", `Not saved: the keys are not JSON (${/** @type {Error} */ (e).message}).`);
    return;
  }
  if (!isObject(parsed)) {
    setMessage("scope-message", "error", 'Not saved: the keys must be a JSON object, such as {"max_age": "10m"}.');
    return;
  }
  const read = state.revision;
  const r = await busy($("save-scope"), () => api("PUT", scopeURL(scope), { body: text, ifMatch: read }));
  await afterScopeWrite(r, scope, read, "Saved");
}

async function dropScope() {
  const scope = local.scope;
  clearMessage("scope-message");
  hideErrors("scope-errors");
  $("conflict").hidden = true;
  const read = state.revision;
  const r = await busy($("drop-scope"), () => api("DELETE", scopeURL(scope), { ifMatch: read }));
  await afterScopeWrite(r, scope, read, "Run-time keys dropped");
}

/**
 * afterScopeWrite shows the outcome of a PUT or DELETE of scope, written
 * on revision read: on success everything is read again; a 412 shows the
 * conflict.
 * @param {ApiResult} r
 * @param {string} scope
 * @param {number | null} read
 * @param {string} verb what was done, for the message
 * @returns {Promise<void>}
 */
async function afterScopeWrite(r, scope, read, verb) {
  if (r.ok) {
    local.drafts.delete(scope);
    await reloadAll();
    const rev = r.data?.revision ?? r.etag;
    setMessage("scope-message", "ok", `${verb}: revision ${rev}.${warningsText(r.data)}`);
    return;
  }
  if (r.status === 400) {
    /** @type {Array<Problem | string>} */
    const errors = Array.isArray(r.data?.errors) && r.data.errors.length ? r.data.errors : [r.reason];
    setMessage("scope-message", "error", "Not saved: the gateway refused these keys.");
    showErrors("scope-errors", errors);
    return;
  }
  if (r.status === 412) {
    setMessage("scope-message", "error", r.reason);
    loadStatus();
    await showConflict(read, r.data?.revision);
    return;
  }
  setMessage("scope-message", "error", r.status ? r.reason : "Not saved: " + r.reason);
}

/**
 * showConflict shows #conflict: the edit of revision read was refused,
 * the configuration being at revision current; it lists the revisions in
 * between from the history.
 * @param {number | null} read
 * @param {number | null | undefined} current
 * @returns {Promise<void>}
 */
async function showConflict(read, current) {
  const box = $("conflict");
  const list = $("conflict-changes");
  clear(list);
  $("conflict-summary").textContent = current !== undefined && current !== null
    ? `You edited revision ${read}; the configuration is now at revision ${current}. Your edit was not saved, and it is still in the editor.`
    : `You edited revision ${read}; the configuration changed since. Your edit was not saved, and it is still in the editor.`;
  box.hidden = false;
  const r = await api("GET", "/v1/cors/history?limit=20");
  /** @type {HistoryRecord[]} */
  const recs = Array.isArray(r.data?.history) ? r.data.history : [];
  const newer = recs.filter((x) => isObject(x) && Number(x.revision) > Number(read)).sort((a, b) => b.revision - a.revision);
  for (const rec of newer) {
    list.append(h("li", { dataset: { revision: String(rec.revision) } },
      h("div", { class: "meta" }, `Revision ${rec.revision}`, " · ", timeEl(rec.time), ` · ${rec.user || "?"} · ${rec.source || "?"}`),
      diffList(rec.diff)));
  }
  if (!r.ok) {
    list.append(h("li", { class: "muted", text: `The history cannot be read: ${r.reason}` }));
  } else if (newer.length === 0) {
    list.append(h("li", { class: "muted", text: "No newer revision is in the last 20 of the history." }));
  } else if (current && newer.length < Number(current) - Number(read)) {
    list.append(h("li", { class: "muted", text: "Older revisions in between are not shown (only the last 20 are read)." }));
  }
}

async function conflictReload() {
  const ok = await busy($("conflict-reload"), () => loadConfig());
  if (!ok) return;
  $("conflict").hidden = true;
  hideErrors("scope-errors");
  loadStatus();
  loadHistory();
  setMessage("scope-message", "info", `Revision ${state.revision} read; your edit is kept: check it against the changes, then save again.`);
}

/** wirePolicies sets the Policies tab's event listeners. */
export function wirePolicies() {
  $("scopes").addEventListener("click", (ev) => {
    const btn = /** @type {HTMLButtonElement | null} */ (/** @type {Element} */ (ev.target).closest("button.scope"));
    if (btn) selectScope(/** @type {string} */ (btn.dataset.scope));
  });
  $("scope-editor").addEventListener("input", () => {
    const had = local.drafts.has(local.scope);
    local.drafts.set(local.scope, /** @type {HTMLTextAreaElement} */ ($("scope-editor")).value);
    if (!had) renderScopeList(); // marks the scope as edited
  });
  $("save-scope").addEventListener("click", saveScope);
  $("drop-scope").addEventListener("click", dropScope);
  $("revert-scope").addEventListener("click", () => {
    local.drafts.delete(local.scope);
    clearMessage("scope-message");
    hideErrors("scope-errors");
    renderPolicies();
  });
  $("conflict-reload").addEventListener("click", conflictReload);
}
