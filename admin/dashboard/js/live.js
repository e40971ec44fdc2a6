// @ts-check
// The Live tab, refreshed every 5 s while shown: the gateway's CORS
// decisions per step as a stacked bar chart (allowed, and refused by
// reason), the most refused origins, and the fleet of gateways with the
// revision each applies.
//
// No inline style: the chart's colours come from CSS custom properties
// (app.css).

import { $, h, clear, busy, fmtClock, fmtTime, timeEl, isObject, num, originEl, compact, setMessage, clearMessage, labelCells } from "./dom.js";
import { api, unavailable, storeDown, warningsText } from "./api.js";
import { state, reloadAll } from "./state.js";
import { layerKeys, layerWith, effectiveOrigins, scopeURL } from "./policies.js";

/** @typedef {import("./api.js").Decisions} Decisions */
/** @typedef {import("./api.js").DecisionPoint} DecisionPoint */
/** @typedef {import("./api.js").Fleet} Fleet */

/**
 * The geometry of the chart drawn, for the hover line: the left edge of
 * the plot, the width of a step's slot, the first slot with data, the
 * number of steps and the plot's width (CSS pixels).
 * @typedef {Object} ChartGeometry
 * @property {number} left
 * @property {number} slot
 * @property {number} first
 * @property {number} count
 * @property {number} plotW
 */

const CHART_COLOURS = 8;

/**
 * The colour of each refusal reason (--chart-N of app.css), the same in
 * the chart, its legend and the tables, whatever the order they are seen
 * in. A reason a newer gateway adds gets the last colours, by its name.
 * @type {Readonly<Record<string, number>>}
 */
const REASON_COLOUR = {
  origin_denied: 0, method_denied: 1, header_denied: 2, upgrade_denied: 3,
  origin_malformed: 4, header_malformed: 5,
};

/**
 * reasonColour gives the colour index of a refusal reason.
 * @param {string} reason
 * @returns {number}
 */
export function reasonColour(reason) {
  if (Object.prototype.hasOwnProperty.call(REASON_COLOUR, reason)) return REASON_COLOUR[reason];
  let hash = 0;
  for (const c of reason) hash = (hash * 31 + (c.codePointAt(0) ?? 0)) >>> 0;
  return 6 + (hash % (CHART_COLOURS - 6));
}

/** The window the chart shows when the answer does not say: 10 minutes. */
const DEFAULT_WINDOW_SECONDS = 600;

// The state of this tab.
const local = {
  /** @type {Decisions | null} the last answer of GET /v1/cors/decisions */
  decisions: null,
  /** @type {ChartGeometry | null} the drawn chart's geometry, for the hover line */
  chart: null,
};

/**
 * pollLive reads the decisions and the fleet, and shows them.
 * @returns {Promise<void>}
 */
export async function pollLive() {
  const [d, f] = await Promise.all([
    api("GET", "/v1/cors/decisions", { optional: true }),
    api("GET", "/v1/cors/fleet", { optional: true }),
  ]);
  const msg = $("decisions-message");
  if (unavailable(d.status)) {
    local.decisions = null;
    msg.textContent = `This gateway does not report its decisions: ${d.reason}`;
    msg.hidden = false;
  } else if (d.ok && isObject(d.data)) {
    local.decisions = d.data;
    msg.hidden = true;
  }
  renderDecisions();
  if (f.ok && isObject(f.data)) renderFleet(f.data);
  else renderFleetUnread(f.status, f.reason);
  $("live-updated").textContent = "updated " + fmtClock(new Date());
}

/**
 * series gives the steps of the decisions read, oldest first.
 * @returns {DecisionPoint[]}
 */
function series() {
  const s = local.decisions?.series;
  return Array.isArray(s) ? s.filter(isObject) : [];
}

/**
 * refusalReasons gives the refusal reasons of list, in the order of their
 * colours.
 * @param {DecisionPoint[]} list
 * @returns {string[]}
 */
function refusalReasons(list) {
  /** @type {Set<string>} */
  const set = new Set();
  for (const p of list) if (isObject(p.refused)) for (const k of Object.keys(p.refused)) set.add(k);
  return [...set].sort((a, b) => reasonColour(a) - reasonColour(b) || a.localeCompare(b));
}

/**
 * reasonEl shows a refusal reason with its colour's swatch.
 * @param {string} reason
 * @returns {HTMLElement}
 */
function reasonEl(reason) {
  return h("span", { class: "reason-name" }, h("span", { class: `swatch c${reasonColour(reason)}`, "aria-hidden": "true" }), reason);
}

/**
 * windowSeconds is the time the chart spans.
 * @returns {number}
 */
function windowSeconds() {
  const w = num(local.decisions?.window_seconds);
  return w > 0 ? w : DEFAULT_WINDOW_SECONDS;
}

function renderDecisions() {
  const list = series();
  const reasons = refusalReasons(list);
  const step = num(local.decisions?.step_seconds);
  const win = windowSeconds();
  $("decisions-step").textContent = step ? `the last ${fmtSpan(win)}, per ${step} s` : "";

  const legend = $("decisions-legend");
  clear(legend);
  if (local.decisions) {
    const allowed = list.reduce((n, p) => n + num(p.allowed), 0);
    legend.append(h("li", null, h("span", { class: "swatch allowed", "aria-hidden": "true" }), `allowed (${allowed})`));
    for (const r of reasons) {
      const total = list.reduce((n, p) => n + num(p.refused?.[r]), 0);
      legend.append(h("li", null, h("span", { class: `swatch c${reasonColour(r)}`, "aria-hidden": "true" }), `refused: ${r} (${total})`));
    }
  }
  drawChart();
  renderTopRefused();
}

/**
 * fmtSpan gives a number of seconds as "10 minutes", "90 s".
 * @param {number} secs
 * @returns {string}
 */
function fmtSpan(secs) {
  if (secs >= 120 && secs % 60 === 0) return `${secs / 60} minutes`;
  return `${secs} s`;
}

/**
 * renderTopRefused fills the two tables of refused origins: those refused
 * for themselves, each with "Allow", and the allowed origins refused for
 * a method, headers or an upgrade.
 */
function renderTopRefused() {
  const origins = /** @type {HTMLTableElement} */ ($("top-refused"));
  const requests = /** @type {HTMLTableElement} */ ($("top-refused-requests"));
  const tbodyO = origins.tBodies[0];
  const tbodyR = requests.tBodies[0];
  clear(tbodyO);
  clear(tbodyR);
  const top = Array.isArray(local.decisions?.top_refused) ? local.decisions.top_refused : [];
  for (const group of top) {
    if (!isObject(group)) continue;
    const scope = String(group.scope ?? "");
    for (const o of Array.isArray(group.origins) ? group.origins : []) {
      if (!isObject(o)) continue;
      const origin = String(o.origin ?? "");
      const reason = String(o.reason ?? "");
      const kind = o.kind ? String(o.kind) : reason === "origin_denied" || reason === "origin_malformed" ? "origin" : "request";
      const cells = [
        h("td", null, h("code", { text: scope })),
        h("td", { class: "value" }, originEl("code", origin), o.truncated ? h("span", { class: "muted", title: "cut: the top keeps the first 128 bytes of an origin", text: "…" }) : null),
        h("td", { class: "num", title: num(o.error) ? `may overstate by up to ${num(o.error)}` : null, text: String(num(o.count)) }),
        h("td", null, reasonEl(reason)),
        h("td", { class: "nowrap" }, timeEl(o.first_seen)),
        h("td", { class: "nowrap" }, timeEl(o.last_seen)),
      ];
      if (kind === "origin") {
        // Only a whole origin, refused for not being listed, can be allowed.
        const allowable = reason === "origin_denied" && !o.truncated && origin !== "" && origin !== "null";
        cells.push(h("td", null, allowable
          ? h("button", { type: "button", class: "allow-origin small secondary", dataset: { scope, origin }, "aria-label": `Allow ${origin} on ${scope}`, text: "Allow" })
          : h("span", { class: "muted", text: o.truncated ? "cut: too long to allow" : "cannot be listed" })));
        tbodyO.append(h("tr", { dataset: { origin, scope } }, cells));
      } else {
        tbodyR.append(h("tr", { dataset: { origin, scope } }, cells));
      }
    }
  }
  const none = local.decisions ? "None in this window." : "No data.";
  if (!tbodyO.rows.length) tbodyO.append(h("tr", null, h("td", { colspan: "7", class: "empty", text: none })));
  if (!tbodyR.rows.length) tbodyR.append(h("tr", null, h("td", { colspan: "6", class: "empty", text: none })));
  labelCells(origins);
  labelCells(requests);
}

/**
 * allowOrigin adds origin to the allow_origins of scope, from the top
 * refused origins: the new list is checked by the validator first
 * (POST /v1/cors/validate, the whole layer as it would be), shown for
 * confirmation, then written with If-Match, as any other change.
 * @param {HTMLButtonElement} button
 */
async function allowOrigin(button) {
  const scope = String(button.dataset.scope ?? "");
  const origin = String(button.dataset.origin ?? "");
  clearMessage("refused-message");
  const cfg = state.config;
  if (!cfg || state.revision === null) {
    setMessage("refused-message", "error", "The configuration is not read yet: press Refresh, then Allow again.");
    return;
  }
  const before = effectiveOrigins(scope);
  if (before && before.includes(origin)) {
    setMessage("refused-message", "info", `${origin} is in the allow_origins of ${scope} already: it was refused before that change. Nothing to do.`);
    return;
  }
  const after = [...(before || []), origin];
  const keys = { ...(layerKeys(scope) || {}), allow_origins: after };
  const read = state.revision;
  const dry = await busy(button, () => api("POST", "/v1/cors/validate", { body: layerWith(scope, keys) }));
  if (!dry.ok || !isObject(dry.data)) {
    setMessage("refused-message", "error", `Not allowed: the change could not be checked (${dry.reason}).`);
    return;
  }
  if (dry.data.valid !== true) {
    /** @type {Array<{path?: string, message?: string}>} */
    const errs = Array.isArray(dry.data.errors) ? dry.data.errors : [];
    setMessage("refused-message", "error", `Not allowed: the gateway would refuse ${origin} in the allow_origins of ${scope}: ` +
      errs.map((e) => `${e.path}: ${e.message}`).join("; "));
    return;
  }
  const question = `Allow ${origin} on ${scope}?\n\n` +
    `allow_origins of ${scope}:\n  ${before ? compact(before) : "(not set: no origin listed)"}\n→ ${compact(after)}\n\n` +
    `This sets allow_origins of ${scope} in the run-time layer (revision ${read} becomes ${read + 1}), and the gateway applies it at once.`;
  if (!window.confirm(question)) {
    setMessage("refused-message", "info", `Nothing changed: ${origin} stays refused.`);
    return;
  }
  const r = await busy(button, () => api("PUT", scopeURL(scope), { body: keys, ifMatch: read }));
  if (r.ok) {
    await reloadAll();
    setMessage("refused-message", "ok", `Allowed ${origin} on ${scope}: revision ${r.data?.revision ?? r.etag}. Its next request gets CORS headers; past refusals stay counted here until they age out.${warningsText(r.data)}`);
    return;
  }
  if (r.status === 412) {
    await reloadAll();
    setMessage("refused-message", "error", `Not allowed: the configuration changed since this page read it (now revision ${r.data?.revision ?? "?"}). It is read again: press Allow again to add ${origin} to the current list.`);
    return;
  }
  /** @type {Array<{path?: string, message?: string}>} */
  const errs = Array.isArray(r.data?.errors) ? r.data.errors : [];
  setMessage("refused-message", "error", `Not allowed: ${r.reason}` + (errs.length ? " " + errs.map((e) => `${e.path}: ${e.message}`).join("; ") : ""));
}

/**
 * cssVar gives the value of the custom property name on the root, or
 * fallback.
 * @param {string} name
 * @param {string} fallback
 * @returns {string}
 */
function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/**
 * tickStep gives the step between the chart's four grid lines for a
 * highest bar of v: a whole number (1, 2, 2.5 or 5 times a power of 10), so
 * that every tick is a whole count of requests.
 * @param {number} v
 * @returns {number}
 */
export function tickStep(v) {
  const need = Math.max(1, Math.ceil(v / 4));
  const mag = Math.pow(10, Math.floor(Math.log10(need)));
  for (const m of [1, 2, 2.5, 5, 10]) if (Number.isInteger(m * mag) && m * mag >= need) return m * mag;
  return 10 * mag;
}

/** @type {MediaQueryList | null} */
let dprQuery = null;

/**
 * watchDPR redraws the chart when the device pixel ratio changes (zoom, or
 * a move to another screen).
 */
function watchDPR() {
  if (dprQuery) dprQuery.removeEventListener("change", onDPRChange);
  dprQuery = window.matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
  dprQuery.addEventListener("change", onDPRChange);
}

function onDPRChange() {
  watchDPR();
  drawChart();
}

/**
 * drawChart draws the decisions on the canvas, at the size of its box and
 * the device's pixel ratio; nothing while the tab is hidden.
 */
export function drawChart() {
  const canvas = /** @type {HTMLCanvasElement} */ ($("decisions-chart"));
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
  const stepV = tickStep(Math.max(0, ...totals));
  const max = stepV * 4;
  const labels = [0, 1, 2, 3, 4].map((i) => String(stepV * i));
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
    const y = Math.round(pad.top + plotH - (plotH * i) / 4) + 0.5;
    ctx.beginPath();
    ctx.moveTo(pad.left, y);
    ctx.lineTo(pad.left + plotW, y);
    ctx.stroke();
    ctx.fillText(labels[i], pad.left - 6, y);
  }

  // The whole window, always: the steps not yet seen (a gateway started
  // a minute ago) are empty slots on the left.
  const stepS = num(local.decisions?.step_seconds) || 5;
  const win = windowSeconds();
  const slots = Math.max(list.length, Math.round(win / stepS) + 1);
  const slot = plotW / slots;
  const first = slots - list.length;
  local.chart = { left: pad.left, slot, first, count: list.length, plotW };
  drawTimeAxis(ctx, pad.left, plotW, cssH - 6, list.length ? list[list.length - 1].time : new Date().toISOString(), win);
  if (list.length === 0) {
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(local.decisions ? "No decisions yet" : "No data", pad.left + plotW / 2, pad.top + plotH / 2);
    return;
  }
  /** @type {Record<string, string>} */
  const colours = { allowed: cssVar("--chart-allowed", "#2f9e5a") };
  for (const r of reasons) colours[r] = cssVar(`--chart-${reasonColour(r)}`, "#d64532");
  const barW = Math.max(1, slot * 0.8);
  const scale = plotH / max;
  list.forEach((p, i) => {
    const x = pad.left + (first + i) * slot + (slot - barW) / 2;
    let y = pad.top + plotH;
    /** @type {Array<[string, number]>} */
    const parts = [["allowed", num(p.allowed)], ...reasons.map((r) => /** @type {[string, number]} */ ([r, num(p.refused?.[r])]))];
    for (const [name, n] of parts) {
      if (n <= 0) continue;
      const bh = n * scale;
      ctx.fillStyle = colours[name];
      ctx.fillRect(x, y - bh, barW, bh);
      y -= bh;
    }
  });
}

/**
 * drawTimeAxis labels the time axis: the clock time at both ends of the
 * window (ending at end), and the minutes before it in between, as many
 * as fit without overlapping.
 * @param {CanvasRenderingContext2D} ctx
 * @param {number} left
 * @param {number} width
 * @param {number} y the baseline
 * @param {string} end the time of the last step
 * @param {number} win the window, in seconds
 */
function drawTimeAxis(ctx, left, width, y, end, win) {
  const endT = new Date(end).getTime();
  if (Number.isNaN(endT)) return;
  ctx.fillStyle = cssVar("--chart-text", "#5b6475");
  ctx.textBaseline = "alphabetic";
  const startLabel = fmtClock(new Date(endT - win * 1000));
  const endLabel = fmtClock(new Date(endT));
  ctx.textAlign = "left";
  ctx.fillText(startLabel, left, y);
  ctx.textAlign = "right";
  ctx.fillText(endLabel, left + width, y);
  const used = ctx.measureText(startLabel).width + ctx.measureText(endLabel).width + 24;
  const minutes = Math.floor(win / 60);
  for (const every of [1, 2, 5]) {
    const marks = [];
    for (let m = every; m < minutes; m += every) marks.push(m);
    const labelW = ctx.measureText("−10 min").width + 16;
    if (marks.length && marks.length * labelW + used <= width) {
      ctx.textAlign = "center";
      for (const m of marks) ctx.fillText(`−${m} min`, left + width * (1 - (m * 60) / win), y);
      return;
    }
  }
}

/**
 * chartHover shows the counts of the step under the mouse in
 * #decisions-hover.
 * @param {MouseEvent} ev
 */
function chartHover(ev) {
  const c = local.chart;
  const out = $("decisions-hover");
  if (!c || !c.count) {
    out.textContent = "";
    return;
  }
  const rect = /** @type {Element} */ (ev.currentTarget).getBoundingClientRect();
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

/**
 * renderFleet draws the table of the fleet's members; a member that does
 * not apply this gateway's revision is marked.
 * @param {Fleet} f
 */
function renderFleet(f) {
  const tbody = /** @type {HTMLTableElement} */ ($("fleet")).tBodies[0];
  clear(tbody);
  const members = Array.isArray(f.members) ? f.members.filter(isObject) : [];
  const rev = Number(f.revision);
  for (const m of members) {
    const applied = Number(m.applied_revision ?? 0);
    const differs = applied !== rev;
    tbody.append(h("tr", { dataset: { id: String(m.id ?? "") }, class: differs ? "differs" : null },
      h("td", null, h("code", { text: String(m.id ?? "") }), m.id === f.replica ? " " : null,
        m.id === f.replica ? h("span", { class: "badge neutral", text: "this gateway" }) : null),
      h("td", { class: "value" }, h("code", { text: String(m.admin ?? "") })),
      h("td", { class: "nowrap" }, String(applied),
        differs ? " " : null,
        differs ? h("span", { class: "badge behind", title: `differs from revision ${rev}, which this gateway applies`, text: `≠ ${rev}` }) : null),
      h("td", { class: "nowrap" }, timeEl(m.started)),
      h("td", { class: "nowrap" }, timeEl(m.updated)),
      h("td", { class: m.error ? "value field-error" : "value" }, String(m.error ?? ""))));
  }
  const where = `${f.store || "store"}${f.prefix ? " " + f.prefix : ""}`;
  let why = "";
  if (f.store !== "etcd") {
    why = `This gateway's store (${where}) is its own, so the fleet is this gateway alone: replicas share changes, and appear here, with an etcd store (docs/runtime.md).`;
  } else if (members.length === 0) {
    why = `No replica has announced itself on ${where}: a replica announces itself when it starts and every few seconds after; one that stopped leaves the list when its lease ends.`;
  }
  if (members.length === 0) tbody.append(h("tr", null, h("td", { colspan: "6", class: "empty", text: "No member." })));
  $("fleet-empty").textContent = why;
  $("fleet-empty").hidden = !why;
  labelCells(/** @type {HTMLTableElement} */ ($("fleet")));
  $("fleet-summary").textContent = f.converged
    ? `${where}: converged on revision ${rev}`
    : `${where}: not converged — some members do not apply revision ${rev}`;
}

/**
 * renderFleetUnread says why the fleet could not be read, in place of its
 * members: while the store does not answer, that one fact (the banner
 * above has the details).
 * @param {number} status
 * @param {string} reason
 */
function renderFleetUnread(status, reason) {
  const tbody = /** @type {HTMLTableElement} */ ($("fleet")).tBodies[0];
  clear(tbody);
  tbody.append(h("tr", null, h("td", { colspan: "6", class: "empty", text: "Not read." })));
  const since = state.status?.store?.unreachable_since;
  let why;
  if (status === 503 && storeDown()) {
    why = `The fleet cannot be read while the store does not answer${since ? " (since " + fmtTime(since) + ")" : ""}: the members show again when it is back.`;
  } else if (unavailable(status)) {
    why = `This gateway does not list its fleet: ${reason}`;
  } else {
    why = `The fleet cannot be read: ${reason}`;
  }
  $("fleet-empty").textContent = why;
  $("fleet-empty").hidden = false;
  $("fleet-summary").textContent = "";
}

/** wireLive sets the Live tab's event listeners, and redraws the chart on resize. */
export function wireLive() {
  const chart = $("decisions-chart");
  chart.addEventListener("mousemove", chartHover);
  $("top-refused").addEventListener("click", (ev) => {
    const btn = /** @type {HTMLButtonElement | null} */ (/** @type {Element} */ (ev.target).closest("button.allow-origin"));
    if (btn) allowOrigin(btn);
  });
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
}
