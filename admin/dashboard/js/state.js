// @ts-check
// The state the dashboard's modules share: the active tab, what the last
// reads of the status, the configuration and the history gave, and the
// calls in flight. Each tab keeps the rest of its state to itself.

/** @typedef {import("./api.js").Status} Status */
/** @typedef {import("./api.js").Config} Config */
/** @typedef {import("./api.js").HistoryRecord} HistoryRecord */

/**
 * The tabs of the page, in order: #tab-NAME shows #panel-NAME.
 * @typedef {"cloudant" | "policies" | "history" | "live" | "candidate"} TabName
 */

/**
 * The options of reloadAll: forceCloudant redraws Cloudant's tab even
 * when it has unsaved changes.
 * @typedef {Object} ReloadOptions
 * @property {boolean} [forceCloudant]
 */

/**
 * @typedef {Object} State
 * @property {string} tab the active tab, a TabName
 * @property {Status | null} status GET /v1/cors/status
 * @property {Config | null} config GET /v1/cors/config
 * @property {number | null} revision the revision read with it (its ETag)
 * @property {HistoryRecord[]} history GET /v1/cors/history?limit=50
 * @property {Set<string>} inFlight the names of the runs of once() going on
 * @property {string | null} stale the X-Corsgate-Stale header of the last read that had one, null when the last read was fresh
 */

/** @type {State} */
export const state = {
  tab: "cloudant",
  status: null,
  config: null, // GET /v1/cors/config
  revision: null, // the revision read with it (its ETag)
  history: [],
  inFlight: new Set(),
  stale: null,
};

/**
 * once runs fn unless a previous run of the same name is still going.
 * @param {string} name
 * @param {() => Promise<unknown>} fn
 * @returns {Promise<void>}
 */
export async function once(name, fn) {
  if (state.inFlight.has(name)) return;
  state.inFlight.add(name);
  try {
    await fn();
  } finally {
    state.inFlight.delete(name);
  }
}

/** @type {(opts: ReloadOptions) => Promise<void>} */
let reloader = async () => {};

/**
 * setReloader sets what reloadAll does: the entry module's, which reads
 * everything again. (The tabs call reloadAll after a write; it lives in the
 * entry module, which imports them.)
 * @param {(opts: ReloadOptions) => Promise<void>} fn
 */
export function setReloader(fn) {
  reloader = fn;
}

/**
 * reloadAll reads the status, Cloudant's view, the configuration and the
 * history again, and polls the active tab.
 * @param {ReloadOptions} [opts]
 * @returns {Promise<void>}
 */
export function reloadAll(opts = {}) {
  return reloader(opts);
}
