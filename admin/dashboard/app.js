// @ts-check
// corsgate dashboard: reads and changes the CORS settings through the
// admin API of the listener that serves this page.
//
// This is the entry module (index.html loads it with type="module"); it
// wires the modules of js/ together:
//   - js/dom.js: the DOM helpers (h, $, messages, formatting);
//   - js/api.js: the calls of the admin API and the error banner;
//   - js/state.js: the state the modules share;
//   - js/status.js: the header and the banners above the tabs;
//   - js/cloudant.js, js/policies.js, js/history.js, js/live.js,
//     js/candidate.js: one per tab.
//
// Rules every module keeps:
//   - every call is a same-origin fetch() with credentials: "same-origin",
//     in api(); every change is a PUT, POST or DELETE with a JSON body;
//   - every server-provided string reaches the page through textContent
//     or createElement, never as markup;
//   - no inline style: elements get classes (app.css), and the chart's
//     colours come from CSS custom properties.

import { $, busy } from "./js/dom.js";
import { clearFailures } from "./js/api.js";
import { state, once, setReloader } from "./js/state.js";
import { loadStatus } from "./js/status.js";
import { loadCloudant, wireCloudant } from "./js/cloudant.js";
import { loadConfig, wirePolicies } from "./js/policies.js";
import { loadHistory, wireHistory } from "./js/history.js";
import { pollLive, drawChart, wireLive } from "./js/live.js";
import { pollCandidate, wireCandidate } from "./js/candidate.js";

/** @typedef {import("./js/state.js").ReloadOptions} ReloadOptions */

/** The tabs, in order: #tab-NAME shows #panel-NAME. */
const TABS = ["cloudant", "policies", "history", "live", "candidate"];
const POLL_MS = 5000;

/**
 * reloadAll reads everything again, and polls the active tab.
 * @param {ReloadOptions} [opts]
 * @returns {Promise<void>}
 */
async function reloadAll(opts = {}) {
  const tasks = [loadStatus(), loadCloudant(!!opts.forceCloudant), loadConfig(), loadHistory()];
  if (state.tab === "live") tasks.push(once("live", pollLive));
  if (state.tab === "candidate") tasks.push(once("candidate", pollCandidate));
  await Promise.all(tasks);
}

/**
 * selectTab shows the tab name (the first for an unknown name), and reads
 * what it shows.
 * @param {string} name
 * @param {boolean} focus move the focus to the tab
 */
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

/**
 * tabKeys moves between the tabs with the arrow keys, Home and End.
 * @param {KeyboardEvent} ev
 */
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

/** poll reads the active tab again, if it is refreshed and the page is seen. */
function poll() {
  if (document.visibilityState !== "visible") return;
  if (state.tab === "live") once("live", pollLive);
  if (state.tab === "candidate") once("candidate", pollCandidate);
}

function wire() {
  for (const t of TABS) $("tab-" + t).addEventListener("click", () => selectTab(t, false));
  /** @type {HTMLElement} */ (document.querySelector('[role="tablist"]')).addEventListener("keydown", tabKeys);
  window.addEventListener("hashchange", () => selectTab(window.location.hash.slice(1), false));

  $("refresh").addEventListener("click", () => busy($("refresh"), () => reloadAll()));
  $("revision-notice-reload").addEventListener("click", () => reloadAll());
  $("error-dismiss").addEventListener("click", clearFailures);

  wireCloudant();
  wirePolicies();
  wireHistory();
  wireLive();
  wireCandidate();

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
  setReloader(reloadAll);
  wire();
  selectTab(window.location.hash.slice(1), false);
  reloadAll({ forceCloudant: true });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
