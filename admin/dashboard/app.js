// corsgate dashboard: reads and changes the CORS settings through the
// admin API of the listener that serves this page.
//
// Rules this file keeps:
//   - every call is a same-origin fetch() with credentials: "same-origin";
//     every change is a PUT, POST or DELETE with a JSON body;
//   - every server-provided string reaches the page through textContent
//     or createElement, never as markup;
//   - no inline style: elements get classes (app.css), and the chart's
//     colours come from CSS custom properties.
"use strict";

(() => {
  const CLOUDANT = "/_api/v2/user/config/cors";
  const TABS = ["cloudant", "policies", "history", "live", "candidate"];
  const POLL_MS = 5000;
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
  const CHART_COLOURS = 8;

  const state = {
    tab: "cloudant",
    status: null,
    cloudant: null,
    cloudantDirty: false,
    origins: [], // the origins being edited, in "restrict" mode
    config: null, // GET /v1/cors/config
    revision: null, // the revision read with it (its ETag)
    scope: "service",
    extraScopes: new Set(), // scopes typed by the operator
    drafts: new Map(), // scope -> unsaved text of the scope editor
    candidateDirty: false,
    history: [],
    decisions: null,
    reasonColour: new Map(), // refusal reason -> colour index, stable
    chart: null, // the drawn chart's geometry, for the hover line
    failures: new Map(), // call -> message, shown in #error-banner
    inFlight: new Set(),
  };

  // ---------------------------------------------------------------- DOM

  const $ = (id) => document.getElementById(id);

  // h creates an element; strings among children become text nodes.
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = String(v);
        else if (k === "dataset") Object.assign(e.dataset, v);
        else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  function clear(e) {
    while (e.firstChild) e.removeChild(e.firstChild);
  }

  function setMessage(id, kind, ...parts) {
    const e = $(id);
    clear(e);
    e.className = "message " + kind;
    e.append(...parts.map((p) => (p instanceof Node ? p : String(p))));
    e.hidden = false;
  }

  function clearMessage(id) {
    const e = $(id);
    clear(e);
    e.hidden = true;
  }

  // showErrors lists {path, message} entries (or plain strings) in a ul.
  function showErrors(id, errors) {
    const ul = $(id);
    clear(ul);
    for (const err of errors) {
      if (typeof err === "string") ul.append(h("li", null, err));
      else if (err && err.path) ul.append(h("li", null, h("code", { text: err.path }), ": ", String(err.message ?? "")));
      else ul.append(h("li", null, String(err?.message ?? err)));
    }
    ul.hidden = errors.length === 0;
  }

  function hideErrors(id) {
    showErrors(id, []);
  }

  function fmtTime(t) {
    if (!t) return "";
    const d = new Date(t);
    if (Number.isNaN(d.getTime())) return String(t);
    return d.toLocaleString(undefined, {
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
  }

  function fmtClock(t) {
    const d = new Date(t);
    if (Number.isNaN(d.getTime())) return String(t ?? "");
    return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function timeEl(t) {
    return t ? h("time", { datetime: String(t), title: String(t), text: fmtTime(t) }) : "";
  }

  // compact renders a JSON value on one line.
  function compact(v) {
    let s;
    try {
      s = JSON.stringify(v);
    } catch {
      s = String(v);
    }
    if (s === undefined) s = String(v);
    return s.length > 400 ? s.slice(0, 400) + "…" : s;
  }

  function isObject(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  function num(v) {
    return typeof v === "number" && Number.isFinite(v) ? v : 0;
  }

  // ---------------------------------------------------------------- API

  function parseETag(v) {
    const m = /^(?:W\/)?"?(\d+)"?$/.exec((v || "").trim());
    return m ? Number(m[1]) : null;
  }

  // api calls the admin API. opts: body (a string is sent as is), ifMatch
  // (a revision), stale (a read whose X-Corsgate-Stale header is shown),
  // optional (404 and 503, a gateway without the feature, are answers, not
  // failures). Failures that are no panel's business (network, 401, 403,
  // 5xx, and any other for a read) go to the error banner; the caller gets
  // {ok, status, data, reason, etag, headers} in every case.
  async function api(method, path, opts = {}) {
    // Resolved against the origin, so that a page address carrying
    // user:password@ never makes fetch() refuse the URL.
    const url = new URL(path, window.location.origin);
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store", redirect: "error" };
    if (method !== "GET" && method !== "HEAD") {
      headers["Content-Type"] = "application/json";
      init.body = opts.body === undefined ? "{}" : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    }
    if (opts.ifMatch !== undefined && opts.ifMatch !== null) headers["If-Match"] = `"${opts.ifMatch}"`;
    const key = `${method} ${path.split("?")[0]}`;
    let res;
    try {
      res = await fetch(url, init);
    } catch (err) {
      const reason = `network error (${err && err.message ? err.message : err}); is the gateway running?`;
      fail(key, `${key}: ${reason}`);
      return { ok: false, status: 0, data: null, reason, etag: null, headers: new Headers() };
    }
    let data = null;
    let text = "";
    try {
      text = await res.text();
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    let reason = data && typeof data.reason === "string" && data.reason ? data.reason : "";
    if (!reason) reason = `${res.status} ${res.statusText || ""}`.trim();
    const out = { ok: res.ok, status: res.status, data, reason, etag: parseETag(res.headers.get("ETag")), headers: res.headers };

    const isRead = method === "GET" || method === "HEAD";
    if (res.status === 401) fail(key, "Not signed in: reload the page and sign in.");
    else if (opts.optional && isRead && unavailable(res.status)) unfail(key);
    else if (res.status === 403) fail(key, `${key}: forbidden: ${reason}`);
    else if (res.status >= 500) fail(key, `${key}: ${res.status}: ${reason}`);
    else if (isRead && !res.ok) fail(key, `${key}: ${res.status}: ${reason}`);
    else if (res.ok && data === null && isRead) fail(key, `${key}: the answer is not JSON`);
    else unfail(key);
    if (opts.stale) setStale(res.ok ? res.headers.get("X-Corsgate-Stale") : null);
    return out;
  }

  // unavailable: the answer of an optional route on a gateway without the
  // feature (404: an older gateway; 503: built without decision counts).
  function unavailable(status) {
    return status === 404 || status === 503;
  }

  function fail(key, message) {
    state.failures.set(key, message);
    renderFailures();
  }

  function unfail(key) {
    if (state.failures.delete(key)) renderFailures();
  }

  function renderFailures() {
    const list = $("error-list");
    clear(list);
    for (const msg of new Set(state.failures.values())) list.append(h("li", null, msg));
    $("error-banner").hidden = state.failures.size === 0;
  }

  function setStale(text) {
    const e = $("stale-banner");
    e.textContent = text ? "Stale: " + text : "";
    e.hidden = !text;
  }

  // once runs fn unless a previous run of the same name is still going.
  async function once(name, fn) {
    if (state.inFlight.has(name)) return;
    state.inFlight.add(name);
    try {
      await fn();
    } finally {
      state.inFlight.delete(name);
    }
  }

  async function busy(button, fn) {
    button.disabled = true;
    try {
      return await fn();
    } finally {
      button.disabled = false;
    }
  }

  // ------------------------------------------------------------- status

  async function loadStatus() {
    const r = await api("GET", "/v1/cors/status");
    if (!r.ok || !isObject(r.data)) return;
    state.status = r.data;
    renderStatus();
  }

  function renderStatus() {
    const s = state.status;
    $("replica").textContent = s.replica || "(unnamed)";
    $("revision").textContent = String(s.revision ?? "?");
    const st = isObject(s.store) ? s.store : {};
    let cls = "ok";
    let text = "ok";
    if (st.unreachable_since) {
      cls = "unreachable";
      text = "unreachable since " + fmtTime(st.unreachable_since);
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

    const detail = $("store-detail");
    detail.textContent = st.error ? "Store: " + st.error : "";
    detail.hidden = !st.error;

    const fe = $("file-error");
    const file = isObject(s.file) ? s.file : {};
    const parts = [];
    if (file.error) parts.push(`The configuration file's last reload was refused: ${file.error}`);
    if (Array.isArray(file.restart_required) && file.restart_required.length) {
      parts.push(`Changes of the file that need a restart: ${file.restart_required.join("; ")}`);
    }
    fe.textContent = parts.join(" — ");
    fe.hidden = parts.length === 0;
    renderRevisionNotice();
    if (state.history.length) renderHistory();
  }

  function renderRevisionNotice() {
    const s = state.status;
    const show = s && state.config && state.revision !== null && Number(s.revision) !== state.revision;
    $("revision-notice").hidden = !show;
    if (show) {
      $("revision-notice-text").textContent =
        `The configuration is at revision ${s.revision}; this page shows revision ${state.revision}. Unsaved edits are kept on reload.`;
    }
  }

  // -------------------------------------------------------------- reload

  async function reloadAll(opts = {}) {
    const tasks = [loadStatus(), loadCloudant(!!opts.forceCloudant), loadConfig(), loadHistory()];
    if (state.tab === "live") tasks.push(once("live", pollLive));
    if (state.tab === "candidate") tasks.push(once("candidate", pollCandidate));
    await Promise.all(tasks);
  }

  // ------------------------------------------------------------ Cloudant

  async function loadCloudant(force) {
    const r = await api("GET", CLOUDANT, { stale: true });
    if (!r.ok || !isObject(r.data)) return;
    state.cloudant = r.data;
    if (force || !state.cloudantDirty) renderCloudant();
  }

  function renderCloudant() {
    const c = state.cloudant;
    $("enable-cors").checked = !!c.enable_cors;
    $("allow-credentials").checked = !!c.allow_credentials;
    const origins = Array.isArray(c.origins) ? c.origins.map(String) : [];
    const all = origins.length === 1 && origins[0] === "*";
    $("origin-mode-all").checked = all;
    $("origin-mode-restrict").checked = !all;
    state.origins = all ? [] : origins;
    state.cloudantDirty = false;
    clearCloudantErrors();
    renderOrigins();
  }

  function originMode() {
    return $("origin-mode-all").checked ? "all" : "restrict";
  }

  function renderOrigins() {
    const ul = $("origins");
    clear(ul);
    state.origins.forEach((o, i) => {
      ul.append(h("li", { dataset: { index: String(i) } },
        h("span", { class: "origin", text: o }),
        h("button", { type: "button", class: "remove-origin secondary small", "aria-label": `Remove ${o}`, text: "Remove" })));
    });
    const restrict = originMode() === "restrict";
    $("origins-empty").hidden = !(restrict && state.origins.length === 0);
    $("origins-editor").classList.toggle("disabled", !restrict);
    $("origins-mode-hint").hidden = restrict || state.origins.length === 0;
  }

  function markCloudantDirty() {
    state.cloudantDirty = true;
  }

  function addOrigin() {
    const input = $("new-origin");
    const err = $("new-origin-error");
    const o = input.value.trim();
    err.hidden = true;
    if (!o) {
      err.textContent = "Type an origin first, such as https://app.example.com.";
      err.hidden = false;
      input.focus();
      return;
    }
    if (state.origins.includes(o)) {
      err.textContent = `${o} is listed already.`;
      err.hidden = false;
      input.focus();
      return;
    }
    state.origins.push(o);
    if (originMode() === "all") $("origin-mode-restrict").checked = true;
    input.value = "";
    markCloudantDirty();
    renderOrigins();
    input.focus();
  }

  function removeOrigin(index) {
    if (index < 0 || index >= state.origins.length) return;
    state.origins.splice(index, 1);
    markCloudantDirty();
    renderOrigins();
  }

  function clearCloudantErrors() {
    for (const id of ["enable-cors-error", "allow-credentials-error", "origins-error", "new-origin-error"]) {
      const e = $(id);
      e.textContent = "";
      e.hidden = true;
    }
    for (const li of $("origins").children) {
      li.classList.remove("invalid");
      li.removeAttribute("aria-invalid");
      for (const fe of li.querySelectorAll(".field-error")) fe.remove();
    }
    clearMessage("cloudant-message");
    hideErrors("cloudant-errors");
  }

  function fieldError(id, message) {
    const e = $(id);
    e.textContent = e.textContent ? e.textContent + " " + message : message;
    e.hidden = false;
  }

  // placeCloudantErrors shows each error next to the control it concerns;
  // it returns those it found no place for.
  function placeCloudantErrors(errors, sent) {
    const rest = [];
    const items = $("origins").children;
    for (const err of errors) {
      const path = String(err?.path ?? "");
      const message = String(err?.message ?? "");
      const m = /^origins\[(\d+)\]/.exec(path);
      if (m && sent === "restrict" && items[Number(m[1])]) {
        // The li gets its .field-error only when it has an error.
        const li = items[Number(m[1])];
        li.classList.add("invalid");
        li.setAttribute("aria-invalid", "true");
        let fe = li.querySelector(".field-error");
        if (!fe) {
          fe = h("p", { class: "field-error", role: "alert" });
          li.append(fe);
        }
        fe.textContent = fe.textContent ? fe.textContent + " " + message : message;
      } else if (m || /^origins(\b|$)/.test(path)) {
        fieldError("origins-error", message);
      } else if (/^allow_credentials(\b|$)/.test(path)) {
        fieldError("allow-credentials-error", message);
      } else if (/^(enable_cors|cors_off)(\b|$)/.test(path)) {
        fieldError("enable-cors-error", message);
      } else {
        rest.push(err);
      }
    }
    return rest;
  }

  async function saveCloudant() {
    clearCloudantErrors();
    const mode = originMode();
    let origins;
    if (mode === "all") {
      origins = ["*"];
    } else {
      origins = state.origins.slice();
      if (origins.length === 0) {
        fieldError("origins-error", "List at least one origin, or choose All domains (*): an empty list would allow every origin.");
        setMessage("cloudant-message", "error", "Nothing saved: no origin is listed.");
        return;
      }
    }
    const body = { enable_cors: $("enable-cors").checked, allow_credentials: $("allow-credentials").checked, origins };
    const r = await busy($("save-cloudant"), () => api("PUT", CLOUDANT, { body }));
    if (r.ok) {
      state.cloudantDirty = false;
      await reloadAll({ forceCloudant: true });
      setMessage("cloudant-message", "ok", r.etag !== null ? `Saved: revision ${r.etag}.` : "Saved.");
      return;
    }
    if (r.status === 400) {
      const errors = Array.isArray(r.data?.errors) ? r.data.errors : [];
      const rest = placeCloudantErrors(errors, mode);
      setMessage("cloudant-message", "error", r.reason);
      if (rest.length) showErrors("cloudant-errors", rest);
      return;
    }
    setMessage("cloudant-message", "error", r.reason);
  }

  // ------------------------------------------------------------ Policies

  async function loadConfig() {
    const r = await api("GET", "/v1/cors/config", { stale: true });
    if (!r.ok || !isObject(r.data)) return false;
    state.config = r.data;
    state.revision = r.etag !== null ? r.etag : Number(r.data.revision ?? 0);
    renderPolicies();
    if (!state.candidateDirty) fillCandidate();
    renderRevisionNotice();
    return true;
  }

  function layerKeys(scope) {
    const layer = isObject(state.config?.layer) ? state.config.layer : {};
    if (scope === "service") return isObject(layer.service) ? layer.service : null;
    const eps = isObject(layer.endpoints) ? layer.endpoints : {};
    return isObject(eps[scope]) ? eps[scope] : null;
  }

  function block(doc, scope) {
    if (!isObject(doc)) return null;
    if (scope === "service") return isObject(doc.service) ? doc.service : null;
    return isObject(doc.endpoints) && isObject(doc.endpoints[scope]) ? doc.endpoints[scope] : null;
  }

  function scopeNames() {
    const cfg = state.config || {};
    const names = new Set();
    for (const doc of [cfg.effective, cfg.file, cfg.layer]) {
      if (isObject(doc) && isObject(doc.endpoints)) for (const k of Object.keys(doc.endpoints)) names.add(k);
    }
    for (const k of state.extraScopes) names.add(k);
    names.delete("service");
    return ["service", ...[...names].sort((a, b) => {
      const pa = a.slice(a.indexOf(" ") + 1);
      const pb = b.slice(b.indexOf(" ") + 1);
      return pa === pb ? a.localeCompare(b) : pa.localeCompare(pb);
    })];
  }

  function keyRank(k) {
    const i = KEY_ORDER.indexOf(k);
    return i < 0 ? KEY_ORDER.length : i;
  }

  function sortKeys(keys) {
    return keys.sort((a, b) => keyRank(a) - keyRank(b) || a.localeCompare(b));
  }

  // scopeRows gives the rows of the keys table: {key, value, has, badge, cls}.
  function scopeRows(scope) {
    const cfg = state.config || {};
    const eff = block(cfg.effective, scope) || {};
    const file = block(cfg.file, scope);
    const layer = layerKeys(scope) || {};
    const sources = isObject(cfg.sources) && isObject(cfg.sources[scope]) ? cfg.sources[scope] : {};
    const rows = [];
    const shown = new Set();
    for (const key of Object.keys(eff)) {
      const runtime = sources[key] === "runtime" || (sources[key] === undefined && key in layer);
      let badge = "file";
      if (runtime) badge = file && key in file ? "runtime (overridden)" : "runtime";
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

  function renderPolicies() {
    const cfg = state.config;
    if (!cfg) return;
    $("config-revision").textContent = String(state.revision);
    $("cors-off-note").hidden = !(isObject(cfg.layer) && cfg.layer.cors_off);
    if (!scopeNames().includes(state.scope)) state.scope = "service";
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
      if (n) marks.push(`${n} run-time`);
      if (state.drafts.has(name)) marks.push("edited");
      ul.append(h("li", null, h("button", {
        type: "button", class: "scope", dataset: { scope: name },
        "aria-current": name === state.scope ? "true" : "false",
      }, name, marks.length ? h("span", { class: "count", text: " · " + marks.join(" · ") }) : null)));
    }
  }

  function renderScope() {
    const scope = state.scope;
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
    if (scope !== "service" && !block(cfg.file, scope) && !layerKeys(scope) && state.extraScopes.has(scope)) {
      notes.push("Saving tells whether the gateway serves this endpoint: routes only change with a restart.");
    }
    $("scope-note").textContent = notes.join(" ");
    $("scope-note").hidden = notes.length === 0;

    const tbody = $("scope-keys").tBodies[0];
    clear(tbody);
    const rows = scopeRows(scope);
    for (const r of rows) {
      tbody.append(h("tr", { class: "key-row", dataset: { key: r.key, source: r.cls } },
        h("td", null, h("code", { text: r.key })),
        h("td", { class: "nowrap" }, h("span", { class: "badge " + r.cls, text: r.badge })),
        h("td", { class: "value" }, h("code", { text: r.has ? compact(r.value) : "(unset)" }))));
    }
    if (rows.length === 0) {
      tbody.append(h("tr", null, h("td", { colspan: "3", class: "empty", text: "No key set: the defaults apply." })));
    }

    const editor = $("scope-editor");
    editor.value = state.drafts.has(scope) ? state.drafts.get(scope) : JSON.stringify(layerKeys(scope) || {}, null, 2);
    editor.setAttribute("aria-label", `Run-time keys of ${scope}, as JSON`);
  }

  function selectScope(name) {
    if (name === state.scope) return;
    state.scope = name;
    clearMessage("scope-message");
    hideErrors("scope-errors");
    $("conflict").hidden = true;
    renderPolicies();
  }

  function openScope() {
    const input = $("new-scope");
    const err = $("new-scope-error");
    const m = /^([A-Za-z]+)\s+(\/\S*)$/.exec(input.value.trim());
    if (!m) {
      err.textContent = "Write an endpoint as METHOD /path, such as GET /users/{id}.";
      err.hidden = false;
      return;
    }
    err.hidden = true;
    const name = `${m[1].toUpperCase()} ${m[2]}`;
    state.extraScopes.add(name);
    input.value = "";
    state.scope = name;
    clearMessage("scope-message");
    hideErrors("scope-errors");
    $("conflict").hidden = true;
    renderPolicies();
  }

  // scopeURL: "service" -> /v1/cors/scopes/service; "GET /users/{id}" ->
  // /v1/cors/scopes/GET/users/{id} (encodeURI only).
  function scopeURL(scope) {
    if (scope === "service") return "/v1/cors/scopes/service";
    const i = scope.indexOf(" ");
    const method = scope.slice(0, i);
    let path = scope.slice(i + 1).trim();
    if (!path.startsWith("/")) path = "/" + path;
    return "/v1/cors/scopes/" + encodeURI(method + path);
  }

  function warningsText(data) {
    const w = Array.isArray(data?.warnings) ? data.warnings : [];
    if (!w.length) return "";
    return " Warnings: " + w.map((x) => (x && x.path ? `${x.path}: ${x.message}` : String(x?.message ?? x))).join("; ");
  }

  async function saveScope() {
    const scope = state.scope;
    const text = $("scope-editor").value;
    clearMessage("scope-message");
    hideErrors("scope-errors");
    $("conflict").hidden = true;
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      setMessage("scope-message", "error", `Not saved: the keys are not JSON (${e.message}).`);
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
    const scope = state.scope;
    clearMessage("scope-message");
    hideErrors("scope-errors");
    $("conflict").hidden = true;
    const read = state.revision;
    const r = await busy($("drop-scope"), () => api("DELETE", scopeURL(scope), { ifMatch: read }));
    await afterScopeWrite(r, scope, read, "Run-time keys dropped");
  }

  async function afterScopeWrite(r, scope, read, verb) {
    if (r.ok) {
      state.drafts.delete(scope);
      await reloadAll();
      const rev = r.data?.revision ?? r.etag;
      setMessage("scope-message", "ok", `${verb}: revision ${rev}.${warningsText(r.data)}`);
      return;
    }
    if (r.status === 400) {
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

  function diffList(diff) {
    const ul = h("ul", { class: "diff" });
    if (!Array.isArray(diff) || diff.length === 0) {
      ul.append(h("li", { class: "muted", text: "(no key changed)" }));
      return ul;
    }
    const val = (d, k) => (Object.prototype.hasOwnProperty.call(d, k) && d[k] !== undefined ? compact(d[k]) : "(unset)");
    for (const d of diff) {
      if (!isObject(d)) continue;
      ul.append(h("li", null,
        h("span", { class: "scope", text: String(d.scope ?? "") }), " ",
        h("strong", { text: String(d.key ?? "") }), ": ",
        h("span", { class: "old", text: val(d, "old") }), " → ",
        h("span", { class: "new", text: val(d, "new") })));
    }
    return ul;
  }

  async function showConflict(read, current) {
    const box = $("conflict");
    const list = $("conflict-changes");
    clear(list);
    $("conflict-summary").textContent = current !== undefined && current !== null
      ? `You edited revision ${read}; the configuration is now at revision ${current}. Your edit was not saved, and it is still in the editor.`
      : `You edited revision ${read}; the configuration changed since. Your edit was not saved, and it is still in the editor.`;
    box.hidden = false;
    const r = await api("GET", "/v1/cors/history?limit=20");
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

  // ------------------------------------------------------------- History

  async function loadHistory() {
    const r = await api("GET", "/v1/cors/history?limit=50");
    if (!r.ok || !isObject(r.data)) return;
    state.history = Array.isArray(r.data.history) ? r.data.history.filter(isObject) : [];
    renderHistory();
  }

  function renderHistory() {
    const tbody = $("history").tBodies[0];
    clear(tbody);
    const current = state.status ? Number(state.status.revision) : state.revision;
    const recs = state.history.slice().sort((a, b) => Number(b.revision) - Number(a.revision));
    for (const rec of recs) {
      const isCurrent = Number(rec.revision) === current;
      tbody.append(h("tr", { class: isCurrent ? "current" : null, dataset: { revision: String(rec.revision) } },
        h("td", { class: "num nowrap" }, String(rec.revision), isCurrent ? " " : null, isCurrent ? h("span", { class: "badge current", text: "current" }) : null),
        h("td", { class: "nowrap" }, timeEl(rec.time)),
        h("td", null, String(rec.user ?? "")),
        h("td", null, String(rec.source ?? "")),
        h("td", null, diffList(rec.diff)),
        h("td", null, h("button", {
          type: "button", class: "rollback secondary small", dataset: { revision: String(rec.revision) },
          "aria-label": `Roll back to revision ${rec.revision}`, text: "Roll back to this",
        }))));
    }
    $("history-empty").hidden = recs.length !== 0;
  }

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
    const errors = Array.isArray(r.data?.errors) ? r.data.errors : [];
    const parts = [`Not rolled back: ${r.reason}`];
    if (errors.length) parts.push(" " + errors.map((e) => `${e.path}: ${e.message}`).join("; "));
    setMessage("history-message", "error", ...parts);
  }

  // ---------------------------------------------------------------- Live

  async function pollLive() {
    const [d, f] = await Promise.all([
      api("GET", "/v1/cors/decisions", { optional: true }),
      api("GET", "/v1/cors/fleet"),
    ]);
    const msg = $("decisions-message");
    if (unavailable(d.status)) {
      state.decisions = null;
      msg.textContent = `This gateway does not report its decisions: ${d.reason}`;
      msg.hidden = false;
    } else if (d.ok && isObject(d.data)) {
      state.decisions = d.data;
      msg.hidden = true;
    }
    renderDecisions();
    if (f.ok && isObject(f.data)) renderFleet(f.data);
    $("live-updated").textContent = "updated " + fmtClock(new Date());
  }

  function series() {
    const s = state.decisions?.series;
    return Array.isArray(s) ? s.filter(isObject) : [];
  }

  function refusalReasons(list) {
    const set = new Set();
    for (const p of list) if (isObject(p.refused)) for (const k of Object.keys(p.refused)) set.add(k);
    const reasons = [...set].sort();
    for (const r of reasons) {
      if (!state.reasonColour.has(r)) state.reasonColour.set(r, state.reasonColour.size % CHART_COLOURS);
    }
    return reasons;
  }

  function renderDecisions() {
    const list = series();
    const reasons = refusalReasons(list);
    const step = state.decisions?.step_seconds;
    $("decisions-step").textContent = step ? `per ${step} s, the last ${list.length} steps` : "";

    const legend = $("decisions-legend");
    clear(legend);
    if (state.decisions) {
      const allowed = list.reduce((n, p) => n + num(p.allowed), 0);
      legend.append(h("li", null, h("span", { class: "swatch allowed", "aria-hidden": "true" }), `allowed (${allowed})`));
      for (const r of reasons) {
        const total = list.reduce((n, p) => n + num(p.refused?.[r]), 0);
        legend.append(h("li", null, h("span", { class: `swatch c${state.reasonColour.get(r)}`, "aria-hidden": "true" }), `refused: ${r} (${total})`));
      }
    }
    drawChart();

    const tbody = $("top-refused").tBodies[0];
    clear(tbody);
    const top = Array.isArray(state.decisions?.top_refused) ? state.decisions.top_refused : [];
    let rows = 0;
    for (const group of top) {
      if (!isObject(group)) continue;
      for (const o of Array.isArray(group.origins) ? group.origins : []) {
        if (!isObject(o)) continue;
        rows++;
        tbody.append(h("tr", null,
          h("td", null, h("code", { text: String(group.scope ?? "") })),
          h("td", null, h("code", { text: String(o.origin ?? "") + (o.truncated ? "…" : "") })),
          h("td", { class: "num", title: num(o.error) ? `may overstate by up to ${num(o.error)}` : null, text: String(num(o.count)) }),
          h("td", null, String(o.reason ?? ""))));
      }
    }
    if (rows === 0) {
      tbody.append(h("tr", null, h("td", { colspan: "4", class: "empty", text: state.decisions ? "No refused origin in this window." : "No data." })));
    }
  }

  function cssVar(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  function niceMax(v) {
    if (v <= 4) return 4;
    const mag = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= v) return m * mag;
    return 10 * mag;
  }

  let dprQuery = null;

  function watchDPR() {
    if (dprQuery) dprQuery.removeEventListener("change", onDPRChange);
    dprQuery = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    dprQuery.addEventListener("change", onDPRChange);
  }

  function onDPRChange() {
    watchDPR();
    drawChart();
  }

  function drawChart() {
    const canvas = $("decisions-chart");
    const boxW = Math.floor($("chart-box").clientWidth);
    const cssH = Math.floor(canvas.clientHeight);
    if (boxW <= 0 || cssH <= 0) return; // hidden: drawn when shown
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(boxW * dpr);
    const hh = Math.round(cssH * dpr);
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== hh) canvas.height = hh;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, boxW, cssH);

    const list = series();
    const reasons = refusalReasons(list);
    const text = cssVar("--chart-text", "#5b6475");
    const grid = cssVar("--chart-grid", "#e3e6ec");
    const font = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    ctx.font = font;

    const totals = list.map((p) => num(p.allowed) + reasons.reduce((n, r) => n + num(p.refused?.[r]), 0));
    const max = niceMax(Math.max(0, ...totals));
    const tick = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
    const labels = [0, 1, 2, 3, 4].map((i) => tick((max * i) / 4));
    const left = Math.ceil(Math.max(...labels.map((l) => ctx.measureText(l).width))) + 12;
    const pad = { left, right: 8, top: 10, bottom: 22 };
    const plotW = Math.max(10, boxW - pad.left - pad.right);
    const plotH = Math.max(10, cssH - pad.top - pad.bottom);

    ctx.strokeStyle = grid;
    ctx.fillStyle = text;
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      const y = Math.round(pad.top + plotH - (plotH * i) / 4) + 0.5;
      ctx.beginPath();
      ctx.moveTo(pad.left, y);
      ctx.lineTo(pad.left + plotW, y);
      ctx.stroke();
      ctx.fillText(labels[i], pad.left - 6, y);
    }

    const slots = Math.max(list.length, 60);
    const slot = plotW / slots;
    const first = slots - list.length;
    state.chart = { left: pad.left, slot, first, count: list.length, plotW };
    if (list.length === 0) {
      ctx.textAlign = "center";
      ctx.fillText(state.decisions ? "No decisions yet" : "No data", pad.left + plotW / 2, pad.top + plotH / 2);
      return;
    }
    const colours = { allowed: cssVar("--chart-allowed", "#2f9e5a") };
    for (const r of reasons) colours[r] = cssVar(`--chart-${state.reasonColour.get(r)}`, "#d64532");
    const barW = Math.max(1, slot * 0.8);
    const scale = plotH / max;
    list.forEach((p, i) => {
      const x = pad.left + (first + i) * slot + (slot - barW) / 2;
      let y = pad.top + plotH;
      const parts = [["allowed", num(p.allowed)], ...reasons.map((r) => [r, num(p.refused?.[r])])];
      for (const [name, n] of parts) {
        if (n <= 0) continue;
        const bh = n * scale;
        ctx.fillStyle = colours[name];
        ctx.fillRect(x, y - bh, barW, bh);
        y -= bh;
      }
    });

    ctx.fillStyle = text;
    ctx.textBaseline = "alphabetic";
    const baseY = cssH - 6;
    const firstX = pad.left + first * slot;
    const lastLabel = fmtClock(list[list.length - 1].time);
    const firstLabel = fmtClock(list[0].time);
    ctx.textAlign = "right";
    ctx.fillText(lastLabel, pad.left + plotW, baseY);
    if (list.length > 1 && pad.left + plotW - firstX > ctx.measureText(lastLabel).width * 2 + 16) {
      ctx.textAlign = "left";
      ctx.fillText(firstLabel, firstX, baseY);
    }
  }

  function chartHover(ev) {
    const c = state.chart;
    const out = $("decisions-hover");
    if (!c || !c.count) {
      out.textContent = "";
      return;
    }
    const rect = ev.currentTarget.getBoundingClientRect();
    const i = Math.floor((ev.clientX - rect.left - c.left) / c.slot) - c.first;
    const list = series();
    if (i < 0 || i >= list.length) {
      out.textContent = "";
      return;
    }
    const p = list[i];
    const parts = [fmtClock(p.time), `allowed ${num(p.allowed)}`];
    if (isObject(p.refused)) for (const [r, n] of Object.entries(p.refused)) parts.push(`${r} ${num(n)}`);
    out.textContent = parts.join(" · ");
  }

  function renderFleet(f) {
    const tbody = $("fleet").tBodies[0];
    clear(tbody);
    const members = Array.isArray(f.members) ? f.members.filter(isObject) : [];
    const rev = Number(f.revision);
    for (const m of members) {
      const applied = Number(m.applied_revision ?? 0);
      const differs = applied !== rev;
      tbody.append(h("tr", { dataset: { id: String(m.id ?? "") }, class: differs ? "differs" : null },
        h("td", null, h("code", { text: String(m.id ?? "") }), m.id === f.replica ? " " : null,
          m.id === f.replica ? h("span", { class: "badge neutral", text: "this gateway" }) : null),
        h("td", null, h("code", { text: String(m.admin ?? "") })),
        h("td", { class: "nowrap" }, String(applied),
          differs ? " " : null,
          differs ? h("span", { class: "badge behind", title: `differs from revision ${rev}, which this gateway applies`, text: `≠ ${rev}` }) : null),
        h("td", { class: "nowrap" }, timeEl(m.started)),
        h("td", { class: "nowrap" }, timeEl(m.updated)),
        h("td", { class: m.error ? "value field-error" : "value" }, String(m.error ?? ""))));
    }
    if (members.length === 0) tbody.append(h("tr", null, h("td", { colspan: "6", class: "empty", text: "No live member." })));
    const where = `${f.store || "store"}${f.prefix ? " " + f.prefix : ""}`;
    $("fleet-summary").textContent = f.converged
      ? `${where}: converged on revision ${rev}`
      : `${where}: not converged — some members do not apply revision ${rev}`;
  }

  // ----------------------------------------------------------- Candidate

  function fillCandidate() {
    const layer = isObject(state.config?.layer) ? state.config.layer : {};
    $("candidate-editor").value = JSON.stringify(layer, null, 2);
    state.candidateDirty = false;
  }

  function candidateText() {
    const text = $("candidate-editor").value;
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      setMessage("candidate-message", "error", `The candidate is not JSON (${e.message}).`);
      return null;
    }
    if (!isObject(parsed)) {
      setMessage("candidate-message", "error", 'The candidate must be a JSON object: {"cors_off": false, "service": {…}, "endpoints": {"GET /x": {…}}}.');
      return null;
    }
    return text;
  }

  async function pollCandidate() {
    const r = await api("GET", "/v1/cors/candidate", { optional: true });
    const status = $("candidate-status");
    const changes = $("candidate-changes").tBodies[0];
    const samples = $("candidate-samples").tBodies[0];
    if (unavailable(r.status)) {
      status.textContent = `not available on this gateway: ${r.reason}`;
      $("candidate-differences").textContent = "";
      clear(changes);
      clear(samples);
      return;
    }
    if (!r.ok || !isObject(r.data)) return;
    const c = r.data;
    status.textContent = c.active ? `active since ${fmtTime(c.since)}` : "not running";
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
        h("td", null, h("code", { text: String(s.path ?? "") })),
        h("td", null, h("code", { text: String(s.origin ?? "") })),
        h("td", null, String(s.enforced ?? "")),
        h("td", null, String(s.candidate ?? "")),
        h("td", { class: "reason" }, String(s.reason ?? ""))));
    }
    if (!samples.rows.length) samples.append(h("tr", null, h("td", { colspan: "7", class: "empty", text: "No sample." })));
  }

  function candidateFailure(r, what) {
    if (r.status === 400) {
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
    if (r.ok) setMessage("candidate-message", "ok", `Report-only started: the candidate is evaluated, not enforced.${warningsText(r.data)}`);
    else candidateFailure(r, "Not started");
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

  async function applyCandidate() {
    clearMessage("candidate-message");
    hideErrors("candidate-errors");
    const text = candidateText();
    if (text === null) return;
    const read = state.revision;
    if (!window.confirm(`Apply the candidate?\n\nIt replaces the whole run-time layer (revision ${read}) and is enforced at once.`)) return;
    const r = await busy($("apply-candidate"), () => api("PUT", "/v1/cors/layer", { body: text, ifMatch: read }));
    if (r.ok) {
      state.candidateDirty = false;
      await reloadAll();
      setMessage("candidate-message", "ok", `Applied: revision ${r.data?.revision ?? r.etag}.${warningsText(r.data)}`);
      return;
    }
    if (r.status === 412) {
      await loadConfig(); // the editor keeps the candidate: it is marked edited
      setMessage("candidate-message", "error",
        `Not applied: the configuration changed since revision ${read} (it is at revision ${r.data?.revision ?? state.revision}). ` +
        "Your candidate is kept: look at the History tab, then apply again.");
      return;
    }
    candidateFailure(r, "Not applied");
  }

  // ---------------------------------------------------------------- Tabs

  function selectTab(name, focus) {
    if (!TABS.includes(name)) name = "cloudant";
    state.tab = name;
    for (const t of TABS) {
      const tab = $("tab-" + t);
      const on = t === name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      $("panel-" + t).hidden = !on;
    }
    if (focus) $("tab-" + name).focus();
    if (window.location.hash !== "#" + name) window.history.replaceState(null, "", "#" + name);
    if (name === "live") {
      drawChart();
      once("live", pollLive);
    } else if (name === "candidate") {
      once("candidate", pollCandidate);
    } else if (name === "history") {
      once("history", loadHistory);
    }
  }

  function tabKeys(ev) {
    const i = TABS.indexOf(state.tab);
    let next = null;
    if (ev.key === "ArrowRight") next = TABS[(i + 1) % TABS.length];
    else if (ev.key === "ArrowLeft") next = TABS[(i + TABS.length - 1) % TABS.length];
    else if (ev.key === "Home") next = TABS[0];
    else if (ev.key === "End") next = TABS[TABS.length - 1];
    if (next) {
      ev.preventDefault();
      selectTab(next, true);
    }
  }

  // ------------------------------------------------------------- Polling

  function poll() {
    if (document.visibilityState !== "visible") return;
    if (state.tab === "live") once("live", pollLive);
    if (state.tab === "candidate") once("candidate", pollCandidate);
  }

  // ---------------------------------------------------------------- Wire

  function wire() {
    for (const t of TABS) $("tab-" + t).addEventListener("click", () => selectTab(t, false));
    document.querySelector('[role="tablist"]').addEventListener("keydown", tabKeys);
    window.addEventListener("hashchange", () => selectTab(window.location.hash.slice(1), false));

    $("refresh").addEventListener("click", () => busy($("refresh"), () => reloadAll()));
    $("revision-notice-reload").addEventListener("click", () => reloadAll());
    $("error-dismiss").addEventListener("click", () => {
      state.failures.clear();
      renderFailures();
    });

    // Cloudant
    $("enable-cors").addEventListener("change", markCloudantDirty);
    $("allow-credentials").addEventListener("change", markCloudantDirty);
    for (const radio of document.querySelectorAll('input[name="origin-mode"]')) {
      radio.addEventListener("change", () => {
        markCloudantDirty();
        renderOrigins();
      });
    }
    $("add-origin").addEventListener("click", addOrigin);
    $("new-origin").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        addOrigin();
      }
    });
    $("new-origin").addEventListener("input", () => {
      $("new-origin-error").hidden = true;
    });
    $("origins").addEventListener("click", (ev) => {
      const btn = ev.target.closest("button.remove-origin");
      if (!btn) return;
      const li = btn.closest("li");
      removeOrigin(Number(li?.dataset.index));
    });
    $("save-cloudant").addEventListener("click", saveCloudant);
    $("discard-cloudant").addEventListener("click", async () => {
      state.cloudantDirty = false;
      await loadCloudant(true);
    });

    // Policies
    $("scopes").addEventListener("click", (ev) => {
      const btn = ev.target.closest("button.scope");
      if (btn) selectScope(btn.dataset.scope);
    });
    $("scope-editor").addEventListener("input", () => {
      const had = state.drafts.has(state.scope);
      state.drafts.set(state.scope, $("scope-editor").value);
      if (!had) renderScopeList(); // marks the scope as edited
    });
    $("save-scope").addEventListener("click", saveScope);
    $("drop-scope").addEventListener("click", dropScope);
    $("revert-scope").addEventListener("click", () => {
      state.drafts.delete(state.scope);
      clearMessage("scope-message");
      hideErrors("scope-errors");
      renderPolicies();
    });
    $("open-scope").addEventListener("click", openScope);
    $("new-scope").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        openScope();
      }
    });
    $("conflict-reload").addEventListener("click", conflictReload);

    // History
    $("history").addEventListener("click", (ev) => {
      const btn = ev.target.closest("button.rollback");
      if (btn) rollback(btn);
    });
    $("history-reload").addEventListener("click", () => busy($("history-reload"), loadHistory));

    // Live
    const chart = $("decisions-chart");
    chart.addEventListener("mousemove", chartHover);
    chart.addEventListener("mouseleave", () => {
      $("decisions-hover").textContent = "";
    });
    if ("ResizeObserver" in window) {
      let queued = false;
      new ResizeObserver(() => {
        if (queued) return;
        queued = true;
        requestAnimationFrame(() => {
          queued = false;
          drawChart();
        });
      }).observe($("chart-box"));
    } else {
      window.addEventListener("resize", drawChart);
    }
    watchDPR();

    // Report-only
    $("candidate-editor").addEventListener("input", () => {
      state.candidateDirty = true;
    });
    $("start-candidate").addEventListener("click", startCandidate);
    $("stop-candidate").addEventListener("click", stopCandidate);
    $("apply-candidate").addEventListener("click", applyCandidate);
    $("reset-candidate").addEventListener("click", () => {
      clearMessage("candidate-message");
      hideErrors("candidate-errors");
      fillCandidate();
    });

    setInterval(poll, POLL_MS);
    setInterval(() => {
      if (document.visibilityState === "visible") once("status", loadStatus);
    }, 2 * POLL_MS);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState !== "visible") return;
      once("status", loadStatus);
      poll();
    });
  }

  function start() {
    wire();
    selectTab(window.location.hash.slice(1), false);
    reloadAll({ forceCloudant: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
