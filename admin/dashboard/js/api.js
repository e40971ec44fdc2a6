// @ts-check
// Access to the admin API of the listener that serves the dashboard, and
// the error banner its failures go to.
//
// Every call is a same-origin fetch() with credentials: "same-origin";
// every change is a PUT, POST or DELETE with a JSON body. An error answer
// has the API's one shape: {"error", "reason", "errors": [{path, message}]}
// (and "revision" for a 412).

import { $, h, clear } from "./dom.js";
import { state } from "./state.js";

/** @typedef {import("./dom.js").Problem} Problem */

/**
 * The body of an error answer of the admin API.
 * @typedef {Object} ErrorBody
 * @property {string} error a short code, such as "bad_request"
 * @property {string} reason what is wrong and how to fix it
 * @property {Problem[]} [errors] every problem of the request's content
 * @property {number} [revision] the revision in force (412 and 428)
 */

/**
 * The answer of a write: PUT or DELETE of a scope, PUT of the layer, a
 * rollback, PUT of the candidate.
 * @typedef {Object} WriteAnswer
 * @property {boolean} ok
 * @property {number} [revision] the new revision (not for the candidate)
 * @property {Problem[]} [warnings]
 */

/**
 * What api() gives in every case: ok and status of the answer (status 0:
 * no answer), its parsed JSON body (null: none, or not JSON), a reason to
 * show (the body's "reason", else the status line), the revision of its
 * ETag, and its headers.
 * @typedef {Object} ApiResult
 * @property {boolean} ok
 * @property {number} status
 * @property {any} data
 * @property {string} reason
 * @property {number | null} etag
 * @property {Headers} headers
 */

/**
 * The options of api().
 * @typedef {Object} ApiOptions
 * @property {unknown} [body] the JSON body of a write; a string is sent as is
 * @property {number | null} [ifMatch] the revision the write is based on
 * @property {boolean} [stale] a read whose X-Corsgate-Stale header is shown
 * @property {boolean} [optional] 404 and 503 (a gateway without the
 *   feature) are answers, not failures
 */

/**
 * GET /v1/cors/status.
 * @typedef {Object} Status
 * @property {string} replica
 * @property {number} revision
 * @property {StoreStatus} [store]
 * @property {FileStatus} [file]
 */

/**
 * The store of the run-time layer, in Status.
 * @typedef {Object} StoreStatus
 * @property {string} type
 * @property {string} [path]
 * @property {string} [prefix]
 * @property {boolean} ok
 * @property {string} [error]
 * @property {string} [unreachable_since]
 * @property {{revision: number, error: string, time: string}} [refused]
 */

/**
 * The configuration file, in Status.
 * @typedef {Object} FileStatus
 * @property {string} path
 * @property {string} [last_reload]
 * @property {string} [error]
 * @property {string[]} [restart_required]
 * @property {KeyDiff[]} [masked] the keys the run-time layer masks
 */

/**
 * Where a key of the run-time layer comes from.
 * @typedef {Object} KeySource
 * @property {boolean} [runtime]
 * @property {number} [revision]
 * @property {string} [user]
 * @property {string} [time]
 */

/**
 * One key compared between the file and the run-time layer
 * (GET /v1/cors/diff, and the status's file.masked).
 * @typedef {Object} KeyDiff
 * @property {string} scope
 * @property {string} key
 * @property {unknown} [file]
 * @property {unknown} [layer]
 * @property {"file" | "layer"} wins
 * @property {boolean} masked
 * @property {KeySource} [set_by]
 */

/**
 * GET and PUT /_api/v2/user/config/cors: Cloudant's view of the
 * service-level policy.
 * @typedef {Object} CloudantCORS
 * @property {boolean} enable_cors
 * @property {boolean} allow_credentials
 * @property {string[]} origins
 */

/**
 * A block of CORS keys: the service-level one or an endpoint's.
 * @typedef {Record<string, unknown>} Block
 */

/**
 * A document of blocks: the effective policy or the file's.
 * @typedef {Object} PolicyDocument
 * @property {Block} [service]
 * @property {Record<string, Block>} [endpoints]
 */

/**
 * The run-time layer; a key set to null removes the file's key.
 * @typedef {Object} Layer
 * @property {boolean} [cors_off]
 * @property {Block} [service]
 * @property {Record<string, Block>} [endpoints]
 */

/**
 * GET /v1/cors/config.
 * @typedef {Object} Config
 * @property {number} revision
 * @property {PolicyDocument | null} effective
 * @property {PolicyDocument | null} file
 * @property {Layer | null} layer
 * @property {Record<string, Record<string, string>>} [sources] scope ->
 *   key -> "file" or "runtime"
 * @property {Record<string, Record<string, KeySource>>} [provenance] scope ->
 *   key -> the revision of the layer that set it
 */

/**
 * A change of one key, in a revision of the history.
 * @typedef {Object} DiffEntry
 * @property {string} scope
 * @property {string} key
 * @property {unknown} [old] absent: the key was unset
 * @property {unknown} [new] absent: the key is unset
 */

/**
 * A revision, in GET /v1/cors/history's "history".
 * @typedef {Object} HistoryRecord
 * @property {number} revision
 * @property {string} time
 * @property {string} user
 * @property {string} source
 * @property {number} [rollback_of] for a rollback, the revision it returned to
 * @property {Layer} layer
 * @property {DiffEntry[]} [diff]
 */

/**
 * GET /v1/cors/history.
 * @typedef {Object} HistoryAnswer
 * @property {HistoryRecord[]} history
 */

/**
 * One step of the decisions' series: allowed requests, and refused ones
 * by reason.
 * @typedef {Object} DecisionPoint
 * @property {string} time
 * @property {number} allowed
 * @property {Record<string, number>} [refused]
 * @property {boolean} [partial]
 */

/**
 * A refused origin, in TopRefused.
 * @typedef {Object} RefusedOrigin
 * @property {string} origin
 * @property {boolean} [truncated]
 * @property {number} count
 * @property {number} [error] how much count may overstate
 * @property {string} reason the reason of its last refusal
 * @property {string} [kind] "origin" (refused for itself), "request" (an allowed origin, refused for its method or headers) or "upgrade"
 * @property {string} [first_seen]
 * @property {string} [last_seen]
 */

/**
 * The most refused origins of a scope.
 * @typedef {Object} TopRefused
 * @property {string} scope
 * @property {RefusedOrigin[]} origins
 */

/**
 * GET /v1/cors/decisions.
 * @typedef {Object} Decisions
 * @property {number} step_seconds
 * @property {number} [window_seconds] how far back the series goes once full
 * @property {DecisionPoint[]} series
 * @property {TopRefused[]} top_refused
 */

/**
 * A gateway of the fleet.
 * @typedef {Object} FleetMember
 * @property {string} id
 * @property {string} admin
 * @property {number} applied_revision
 * @property {string} [error]
 * @property {string} started
 * @property {string} updated
 */

/**
 * GET /v1/cors/fleet.
 * @typedef {Object} Fleet
 * @property {string} store
 * @property {string} [prefix]
 * @property {string} replica this gateway
 * @property {number} revision the revision this gateway applies
 * @property {FleetMember[]} members
 * @property {boolean} converged
 */

/**
 * A kind of decision the candidate changes, in Candidate.
 * @typedef {Object} CandidateChange
 * @property {string} kind
 * @property {string} enforced
 * @property {string} candidate
 * @property {number} count
 */

/**
 * A request the candidate would decide differently, in Candidate.
 * @typedef {Object} CandidateSample
 * @property {string} time
 * @property {string} method
 * @property {string} path
 * @property {string} origin
 * @property {string} enforced
 * @property {string} candidate
 * @property {string} reason
 */

/**
 * One key a change changes: the entries of a revision's diff.
 * @typedef {Object} KeyChange
 * @property {string} scope
 * @property {string} key
 * @property {unknown} [old]
 * @property {unknown} [new]
 */

/**
 * GET /v1/cors/candidate: the report of report-only mode.
 * @typedef {Object} Candidate
 * @property {boolean} active
 * @property {string} [since]
 * @property {Layer} [layer]
 * @property {number} [revision] the revision it is judged against
 * @property {KeyChange[]} [diff] what it changes from that revision's layer
 * @property {number} evaluated
 * @property {number} differences
 * @property {CandidateChange[]} by_change
 * @property {CandidateSample[]} samples
 */

/**
 * The failures shown in #error-banner: call ("GET /v1/cors/status") ->
 * its message and HTTP status (0: no answer).
 * @type {Map<string, {message: string, status: number}>}
 */
const failures = new Map();

/**
 * parseETag gives the revision of an ETag ("7", W/"7" or 7), or null.
 * @param {string | null} v
 * @returns {number | null}
 */
function parseETag(v) {
  const m = /^(?:W\/)?"?(\d+)"?$/.exec((v || "").trim());
  return m ? Number(m[1]) : null;
}

/**
 * api calls the admin API. opts: body (a string is sent as is), ifMatch
 * (a revision), stale (a read whose X-Corsgate-Stale header is shown),
 * optional (404 and 503, a gateway without the feature, are answers, not
 * failures). Failures that are no panel's business (network, 401, 403,
 * 5xx, and any other for a read) go to the error banner; the caller gets
 * {ok, status, data, reason, etag, headers} in every case.
 * @param {"GET" | "HEAD" | "PUT" | "POST" | "DELETE"} method
 * @param {string} path
 * @param {ApiOptions} [opts]
 * @returns {Promise<ApiResult>}
 */
export async function api(method, path, opts = {}) {
  // Resolved against the origin, so that a page address carrying
  // user:password@ never makes fetch() refuse the URL.
  const url = new URL(path, window.location.origin);
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  /** @type {RequestInit} */
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
    const e = /** @type {Error | undefined} */ (err);
    const reason = `network error (${e && e.message ? e.message : e}); is the gateway running?`;
    // One line for the fact, whichever calls failed on it.
    fail(key, `The admin API does not answer: ${reason}`, 0);
    return { ok: false, status: 0, data: null, reason, etag: null, headers: new Headers() };
  }
  /** @type {any} */
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
  /** @type {ApiResult} */
  const out = { ok: res.ok, status: res.status, data, reason, etag: parseETag(res.headers.get("ETag")), headers: res.headers };

  const isRead = method === "GET" || method === "HEAD";
  const stale = res.ok ? res.headers.get("X-Corsgate-Stale") : null;
  if (opts.stale) setStale(stale);
  const st = res.status;
  if (st === 401) fail(key, "Not signed in: reload the page and sign in.", st);
  else if (opts.optional && isRead && unavailable(st)) unfail(key);
  else if (st === 403) fail(key, `${key}: forbidden: ${reason}`, st);
  else if (st >= 500) fail(key, `${key}: ${st}: ${reason}`, st);
  else if (isRead && !res.ok) fail(key, `${key}: ${st}: ${reason}`, st);
  else if (res.ok && data === null && isRead) fail(key, `${key}: the answer is not JSON`, st);
  else unfail(key);
  return out;
}

/**
 * unavailable: the answer of an optional route on a gateway without the
 * feature (404: an older gateway; 503: built without decision counts).
 * @param {number} status
 * @returns {boolean}
 */
export function unavailable(status) {
  return status === 404 || status === 503;
}

/**
 * warningsText gives the warnings of a write's answer as a sentence to
 * append to its message, or "".
 * @param {WriteAnswer | null | undefined} data
 * @returns {string}
 */
export function warningsText(data) {
  const w = Array.isArray(data?.warnings) ? data.warnings : [];
  if (!w.length) return "";
  return " Warnings: " + w.map((x) => (x && x.path ? `${x.path}: ${x.message}` : String(x?.message ?? x))).join("; ");
}

/**
 * fail shows message in the error banner, for the call key, which was
 * answered with status.
 * @param {string} key
 * @param {string} message
 * @param {number} status
 */
function fail(key, message, status) {
  failures.set(key, { message, status });
  renderFailures();
}

/**
 * unfail removes the failure of the call key, if any.
 * @param {string} key
 */
function unfail(key) {
  if (failures.delete(key)) renderFailures();
}

/** clearFailures empties the error banner (its Dismiss button). */
export function clearFailures() {
  failures.clear();
  renderFailures();
}

/**
 * renderFailures draws the error banner: every failure, once, except the
 * 503s of a store that does not answer, which the store banner explains
 * (status.js calls this again when it learns that).
 */
export function renderFailures() {
  const list = $("error-list");
  clear(list);
  const down = storeDown();
  const shown = new Set([...failures.values()].filter((f) => !(down && f.status === 503)).map((f) => f.message));
  for (const msg of shown) list.append(h("li", null, msg));
  $("error-banner").hidden = shown.size === 0;
}

/**
 * storeDown: the last status or stale read says the store does not
 * answer. Then a 503 is that one fact, which the store banner shows
 * (status.js), not one more line of the error banner.
 * @returns {boolean}
 */
export function storeDown() {
  return !!(state.stale || state.status?.store?.unreachable_since);
}

/** @type {Array<() => void>} */
const staleListeners = [];

/**
 * onStale registers fn, called when a read's X-Corsgate-Stale header
 * appears, changes or goes.
 * @param {() => void} fn
 */
export function onStale(fn) {
  staleListeners.push(fn);
}

/**
 * setStale keeps the X-Corsgate-Stale header of a read (null: none) in
 * state.stale, for the store banner.
 * @param {string | null} text
 */
function setStale(text) {
  if (state.stale === text) return;
  state.stale = text;
  for (const fn of staleListeners) fn();
}
