// @ts-check
// The Live tab, refreshed every 5 s while shown: the gateway's CORS
// decisions per step as a stacked bar chart (allowed, and refused by
// reason), the most refused origins, and the fleet of gateways with the
// revision each applies.
//
// No inline style: the chart's colours come from CSS custom properties
// (app.css).

import { $, h, clear, fmtClock, timeEl, isObject, num, originEl } from "./dom.js";
import { api, unavailable } from "./api.js";

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

// The state of this tab.
const local = {
  /** @type {Decisions | null} the last answer of GET /v1/cors/decisions */
  decisions: null,
  /** @type {Map<string, number>} refusal reason -> colour index, stable */
  reasonColour: new Map(),
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
    api("GET", "/v1/cors/fleet"),
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
 * refusalReasons gives the refusal reasons of list, sorted, each given a
 * colour the first time it is seen.
 * @param {DecisionPoint[]} list
 * @returns {string[]}
 */
function refusalReasons(list) {
  /** @type {Set<string>} */
  const set = new Set();
  for (const p of list) if (isObject(p.refused)) for (const k of Object.keys(p.refused)) set.add(k);
  const reasons = [...set].sort();
  for (const r of reasons) {
    if (!local.reasonColour.has(r)) local.reasonColour.set(r, local.reasonColour.size % CHART_COLOURS);
  }
  return reasons;
}

function renderDecisions() {
  const list = series();
  const reasons = refusalReasons(list);
  const step = local.decisions?.step_seconds;
  $("decisions-step").textContent = step ? `per ${step} s, the last ${list.length} steps` : "";

  const legend = $("decisions-legend");
  clear(legend);
  if (local.decisions) {
    const allowed = list.reduce((n, p) => n + num(p.allowed), 0);
    legend.append(h("li", null, h("span", { class: "swatch allowed", "aria-hidden": "true" }), `allowed (${allowed})`));
    for (const r of reasons) {
      const total = list.reduce((n, p) => n + num(p.refused?.[r]), 0);
      legend.append(h("li", null, h("span", { class: `swatch c${local.reasonColour.get(r)}`, "aria-hidden": "true" }), `refused: ${r} (${total})`));
    }
  }
  drawChart();

  const tbody = /** @type {HTMLTableElement} */ ($("top-refused")).tBodies[0];
  clear(tbody);
  const top = Array.isArray(local.decisions?.top_refused) ? local.decisions.top_refused : [];
  let rows = 0;
  for (const group of top) {
    if (!isObject(group)) continue;
    for (const o of Array.isArray(group.origins) ? group.origins : []) {
      if (!isObject(o)) continue;
      rows++;
      tbody.append(h("tr", null,
        h("td", null, h("code", { text: String(group.scope ?? "") })),
        h("td", null, originEl("code", String(o.origin ?? "") + (o.truncated ? "…" : ""))),
        h("td", { class: "num", title: num(o.error) ? `may overstate by up to ${num(o.error)}` : null, text: String(num(o.count)) }),
        h("td", null, String(o.reason ?? ""))));
    }
  }
  if (rows === 0) {
    tbody.append(h("tr", null, h("td", { colspan: "4", class: "empty", text: local.decisions ? "No refused origin in this window." : "No data." })));
  }
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
 * niceMax gives the top of the chart's scale for a highest bar of v: 4
 * at least, else 1, 2, 2.5 or 5 times a power of 10.
 * @param {number} v
 * @returns {number}
 */
function niceMax(v) {
  if (v <= 4) return 4;
  const mag = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= v) return m * mag;
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
  const max = niceMax(Math.max(0, ...totals));
  /** @type {(v: number) => string} */
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
  local.chart = { left: pad.left, slot, first, count: list.length, plotW };
  if (list.length === 0) {
    ctx.textAlign = "center";
    ctx.fillText(local.decisions ? "No decisions yet" : "No data", pad.left + plotW / 2, pad.top + plotH / 2);
    return;
  }
  /** @type {Record<string, string>} */
  const colours = { allowed: cssVar("--chart-allowed", "#2f9e5a") };
  for (const r of reasons) colours[r] = cssVar(`--chart-${local.reasonColour.get(r)}`, "#d64532");
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

/** wireLive sets the Live tab's event listeners, and redraws the chart on resize. */
export function wireLive() {
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
}
