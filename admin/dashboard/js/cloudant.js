// @ts-check
// The "CORS (Cloudant)" tab: the service-level policy as IBM Cloudant's
// CORS API describes it (enable_cors, allow_credentials, origins), edited
// and saved with PUT on that API.

import { $, h, clear, busy, setMessage, clearMessage, fieldError, showErrors, hideErrors, isObject, originEl } from "./dom.js";
import { api } from "./api.js";
import { reloadAll } from "./state.js";
import { layerKeys, layerWith } from "./policies.js";

/** @typedef {import("./api.js").CloudantCORS} CloudantCORS */
/** @typedef {import("./dom.js").Problem} Problem */

const CLOUDANT = "/_api/v2/user/config/cors";

// The state of this tab.
const local = {
  /** @type {CloudantCORS | null} the last answer of GET CLOUDANT */
  cloudant: null,
  /** the form has unsaved changes */
  cloudantDirty: false,
  /** @type {string[]} the origins being edited, in "restrict" mode */
  origins: [],
};

/**
 * loadCloudant reads Cloudant's view and shows it, unless the form has
 * unsaved changes and force is false.
 * @param {boolean} force
 * @returns {Promise<void>}
 */
export async function loadCloudant(force) {
  const r = await api("GET", CLOUDANT, { stale: true });
  if (!r.ok || !isObject(r.data)) return;
  local.cloudant = r.data;
  if (force || !local.cloudantDirty) renderCloudant();
}

function renderCloudant() {
  const c = /** @type {CloudantCORS} */ (local.cloudant);
  /** @type {HTMLInputElement} */ ($("enable-cors")).checked = !!c.enable_cors;
  /** @type {HTMLInputElement} */ ($("allow-credentials")).checked = !!c.allow_credentials;
  const origins = Array.isArray(c.origins) ? c.origins.map(String) : [];
  const all = origins.length === 1 && origins[0] === "*";
  /** @type {HTMLInputElement} */ ($("origin-mode-all")).checked = all;
  /** @type {HTMLInputElement} */ ($("origin-mode-restrict")).checked = !all;
  local.origins = all ? [] : origins;
  local.cloudantDirty = false;
  clearCloudantErrors();
  renderOrigins();
}

/**
 * originMode: the radio button chosen, "all" (*) or "restrict".
 * @returns {"all" | "restrict"}
 */
function originMode() {
  return /** @type {HTMLInputElement} */ ($("origin-mode-all")).checked ? "all" : "restrict";
}

function renderOrigins() {
  const ul = $("origins");
  clear(ul);
  local.origins.forEach((o, i) => {
    ul.append(h("li", { dataset: { index: String(i) } },
      originEl("span", o, { class: "origin" }),
      h("button", { type: "button", class: "remove-origin secondary small", "aria-label": `Remove ${o}`, text: "Remove" })));
  });
  const restrict = originMode() === "restrict";
  $("origins-empty").hidden = !(restrict && local.origins.length === 0);
  $("origins-editor").classList.toggle("disabled", !restrict);
  $("origins-mode-hint").hidden = restrict || local.origins.length === 0;
}

function markCloudantDirty() {
  local.cloudantDirty = true;
}

async function addOrigin() {
  const input = /** @type {HTMLInputElement} */ ($("new-origin"));
  const err = $("new-origin-error");
  const o = input.value.trim();
  err.hidden = true;
  $("new-origin-suggestion").hidden = true;
  if (!o) {
    err.textContent = "Type an origin first, such as https://app.example.com.";
    err.hidden = false;
    input.focus();
    return;
  }
  if (local.origins.includes(o)) {
    err.textContent = `${o} is listed already.`;
    err.hidden = false;
    input.focus();
    return;
  }
  const problem = await busy($("add-origin"), () => checkOrigin(o));
  if (problem) {
    err.textContent = problem.message;
    err.hidden = false;
    if (problem.suggestion && problem.suggestion !== o && !local.origins.includes(problem.suggestion)) {
      $("new-origin-suggestion-text").textContent = `Did you mean ${problem.suggestion}?`;
      $("new-origin-use").dataset.value = problem.suggestion;
      $("new-origin-suggestion").hidden = false;
    }
    input.focus();
    return;
  }
  local.origins.push(o);
  if (originMode() === "all") /** @type {HTMLInputElement} */ ($("origin-mode-restrict")).checked = true;
  input.value = "";
  markCloudantDirty();
  renderOrigins();
  input.focus();
}

/**
 * A problem of an origin being added, in Cloudant's words, with the
 * validator's fix when it offers one.
 * @typedef {Object} OriginProblem
 * @property {string} message
 * @property {string} [suggestion]
 */

/**
 * checkOrigin asks the gateway's validator (POST /v1/cors/validate) about
 * origin as the only origin of the service-level policy, with the
 * credentials the form shows: the check a save would make of it. It gives
 * its problem, or null when it passes (or cannot be checked: the save
 * checks it again).
 * @param {string} origin
 * @returns {Promise<OriginProblem | null>}
 */
async function checkOrigin(origin) {
  /** @type {Record<string, unknown>} */
  const keys = { ...(layerKeys("service") || {}), allow_origins: [origin] };
  const credentials = /** @type {HTMLInputElement} */ ($("allow-credentials")).checked;
  if (local.cloudant && credentials !== !!local.cloudant.allow_credentials) keys.allow_credentials = credentials;
  const layer = layerWith("service", keys);
  delete layer.cors_off;
  const r = await api("POST", "/v1/cors/validate", { body: layer });
  if (!r.ok || !isObject(r.data) || r.data.valid !== false) return null;
  /** @type {Problem[]} */
  const errors = Array.isArray(r.data.errors) ? r.data.errors : [];
  const mine = errors.find((e) => /^service\.allow_origins(\[0\])?(\b|$)/.test(String(e?.path ?? ""))) ||
    errors.find((e) => /^service\.allow_credentials/.test(String(e?.path ?? "")));
  if (!mine) return null; // another key's problem, not this origin's
  const message = cloudantWords(String(mine.message ?? ""), "restrict");
  return { message, suggestion: suggestionOf(mine) };
}

/**
 * suggestionOf gives the origin a validator error offers in its place: the
 * value of its "fix" when the fix replaces the origin with a string (the
 * validator accepts every fix it offers; the add checks it again).
 * @param {Problem & {fix?: {op?: string, value?: unknown}}} p
 * @returns {string | undefined}
 */
function suggestionOf(p) {
  const f = p.fix;
  if (isObject(f) && f.op === "replace" && typeof f.value === "string" && f.value) return f.value;
  return undefined;
}

/**
 * cloudantWords says a validator message in the terms of this tab: its
 * switches and choices, not the configuration keys behind them.
 * @param {string} message
 * @param {"all" | "restrict"} mode the origin mode it concerns
 * @returns {string}
 */
export function cloudantWords(message, mode) {
  if (/credentials/.test(message) && (mode === "all" || /any origin|every origin|"\*"|wildcard|\*/.test(message))) {
    if (mode === "all") {
      return "To allow all domains (*), turn off “Allow credentials”: a browser never shares its cookies with every site. " +
        "Or keep credentials and choose “Restrict to specific domains”, listing the sites you trust.";
    }
  }
  return message
    .replace(/\s*\(only the configuration file can allow every origin with credentials[^)]*\)/, "")
    .replace(/\ballow_any_origin_with_credentials_unsafe\b/g, "the configuration file's unsafe opt-in")
    .replace(/\ballow_origins\b/g, "the origin domains")
    .replace(/\ballow_credentials\b/g, "“Allow credentials”")
    .replace(/\bcors_off\b/g, "“Enable CORS”");
}

/**
 * removeOrigin removes the origin at index from the list being edited.
 * @param {number} index
 */
function removeOrigin(index) {
  if (index < 0 || index >= local.origins.length) return;
  local.origins.splice(index, 1);
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

/**
 * placeCloudantErrors shows each error next to the control it concerns;
 * it returns those it found no place for.
 * @param {Problem[]} errors the "errors" of a 400
 * @param {"all" | "restrict"} sent the origin mode of the PUT
 * @returns {Problem[]}
 */
function placeCloudantErrors(errors, sent) {
  const rest = [];
  const items = $("origins").children;
  for (const err of errors) {
    const path = String(err?.path ?? "");
    const message = cloudantWords(String(err?.message ?? ""), sent);
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
    origins = local.origins.slice();
    if (origins.length === 0) {
      fieldError("origins-error", "List at least one origin, or choose All domains (*): an empty list would allow every origin.");
      setMessage("cloudant-message", "error", "Nothing saved: no origin is listed.");
      return;
    }
  }
  // Only what the user changed: a key sent is a key the run-time layer
  // sets, and a key it sets masks the file's later edits of it.
  const shown = /** @type {CloudantCORS} */ (local.cloudant);
  /** @type {Partial<CloudantCORS>} */
  const body = {};
  const enable = /** @type {HTMLInputElement} */ ($("enable-cors")).checked;
  const credentials = /** @type {HTMLInputElement} */ ($("allow-credentials")).checked;
  if (enable !== !!shown.enable_cors) body.enable_cors = enable;
  if (credentials !== !!shown.allow_credentials) body.allow_credentials = credentials;
  const before = Array.isArray(shown.origins) ? shown.origins.map(String) : [];
  if (origins.length !== before.length || origins.some((o, i) => o !== before[i])) body.origins = origins;
  if (Object.keys(body).length === 0) {
    local.cloudantDirty = false;
    setMessage("cloudant-message", "ok", "Nothing to save: nothing changed.");
    return;
  }
  const r = await busy($("save-cloudant"), () => api("PUT", CLOUDANT, { body }));
  if (r.ok) {
    local.cloudantDirty = false;
    await reloadAll({ forceCloudant: true });
    setMessage("cloudant-message", "ok", r.etag !== null ? `Saved: revision ${r.etag}.` : "Saved.");
    return;
  }
  if (r.status === 400) {
    /** @type {Problem[]} */
    const errors = Array.isArray(r.data?.errors) ? r.data.errors : [];
    const rest = placeCloudantErrors(errors, mode);
    if (rest.length) {
      setMessage("cloudant-message", "error", "Not saved: the gateway refused these settings.");
      showErrors("cloudant-errors", rest.map((e) => ({ path: String(e?.path ?? ""), message: cloudantWords(String(e?.message ?? ""), mode) })));
    } else {
      setMessage("cloudant-message", "error", errors.length ? "Not saved: fix what is marked above, then save again." : cloudantWords(r.reason, mode));
    }
    return;
  }
  setMessage("cloudant-message", "error", r.reason);
}

/** wireCloudant sets the event listeners of Cloudant's tab. */
export function wireCloudant() {
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
    $("new-origin-suggestion").hidden = true;
  });
  $("new-origin-use").addEventListener("click", () => {
    /** @type {HTMLInputElement} */ ($("new-origin")).value = String($("new-origin-use").dataset.value ?? "");
    addOrigin();
  });
  $("origins").addEventListener("click", (ev) => {
    const btn = /** @type {Element} */ (ev.target).closest("button.remove-origin");
    if (!btn) return;
    const li = btn.closest("li");
    removeOrigin(Number(li?.dataset.index));
  });
  $("save-cloudant").addEventListener("click", saveCloudant);
  $("discard-cloudant").addEventListener("click", async () => {
    local.cloudantDirty = false;
    await loadCloudant(true);
  });
}
