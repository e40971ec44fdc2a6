// corsgate playground: runs fetch() against the gateway and shows the
// outcome next to the gateway's explanation of the same request.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const target = document.body.dataset.target;
  const DEBUG_OFF = "start the gateway with -d or debug_endpoint: true to see explanations";
  let runs = 0;

  $("page-origin").textContent = location.origin;

  // Request headers a page cannot set: the browser silently drops them.
  const FORBIDDEN = new Set([
    "accept-charset", "accept-encoding", "access-control-request-headers",
    "access-control-request-method", "connection", "content-length", "cookie",
    "cookie2", "date", "dnt", "expect", "host", "keep-alive", "origin", "referer",
    "set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "via",
  ]);
  const isForbidden = (name) => {
    const n = name.toLowerCase();
    return FORBIDDEN.has(n) || n.startsWith("proxy-") || n.startsWith("sec-");
  };

  // CORS-safelisted request headers (Fetch standard, simplified): they
  // never need a preflight.
  const SAFE_CONTENT_TYPES = new Set(["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]);
  const UNSAFE_BYTE = /[\x00-\x08\x0a-\x1f"():<>?@\[\\\]{}\x7f]/;
  function isSafelisted(name, value) {
    if (value.length > 128) return false;
    switch (name.toLowerCase()) {
      case "accept":
        return !UNSAFE_BYTE.test(value);
      case "accept-language":
      case "content-language":
        return /^[0-9A-Za-z *,\-.;=]*$/.test(value);
      case "content-type":
        return !UNSAFE_BYTE.test(value) && SAFE_CONTENT_TYPES.has(value.split(";")[0].trim().toLowerCase());
      case "range":
        return /^bytes=\d+-\d*$/.test(value);
    }
    return false;
  }

  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

  // parseHeaders reads "Name: value" lines.
  function parseHeaders(text) {
    const out = { headers: [], errors: [], dropped: [] };
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      const i = line.indexOf(":");
      const name = i > 0 ? line.slice(0, i).trim() : "";
      if (!TOKEN.test(name)) {
        out.errors.push(line);
        continue;
      }
      const value = line.slice(i + 1).trim();
      if (isForbidden(name)) out.dropped.push(name);
      else out.headers.push([name, value]);
    }
    return out;
  }

  // The names the browser puts in Access-Control-Request-Headers: the
  // non-safelisted ones, lower-cased and sorted, as Chromium sends them.
  function preflightHeaderNames(headers) {
    const names = new Set();
    for (const [n, v] of headers) if (!isSafelisted(n, v)) names.add(n.toLowerCase());
    return [...names].sort();
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  function pretty(text) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (_) {
      return text;
    }
  }

  async function runFetch(url, init) {
    const out = { ok: false, status: 0, statusText: "", headers: [], body: "", error: "" };
    try {
      const r = await fetch(url, init);
      out.ok = true;
      out.status = r.status;
      out.statusText = r.statusText;
      for (const [k, v] of r.headers) out.headers.push([k, v]);
      out.body = await r.text();
    } catch (e) {
      out.error = e.name + ": " + e.message;
    }
    return out;
  }

  // getJSON calls the playground's own /api (same origin, no CORS).
  async function getJSON(url) {
    try {
      const r = await fetch(url, { cache: "no-store" });
      const text = await r.text();
      let data = null;
      try { data = JSON.parse(text); } catch (_) { /* not JSON */ }
      return { status: r.status, data, text };
    } catch (e) {
      return { status: 0, data: null, text: "", error: e.name + ": " + e.message };
    }
  }

  function apiProblem(res) {
    if (res.status === 404) return DEBUG_OFF;
    if (res.status === 0) return "the playground server did not answer: " + res.error;
    // corsgate's error shape: {"error": code, "reason": sentence, "errors": [...]}.
    if (res.data && (res.data.reason || res.data.error)) return res.data.reason || res.data.error;
    return "";
  }

  function renderResult(res, init, sentHeaders) {
    const box = $("result");
    box.replaceChildren();
    if (res.ok) {
      box.dataset.outcome = "ok";
      const cls = res.status >= 200 && res.status < 300 ? "good" : "warn";
      box.append(el("p", { id: "result-status", class: "status " + cls },
        el("strong", {}, String(res.status)), " " + (res.statusText || ""),
        el("span", { class: "aside" }, "the browser let the page read the response")));
      box.append(el("h3", {}, "Response headers the page can read"));
      if (res.headers.length === 0) {
        box.append(el("p", { class: "muted" }, "none"));
      } else {
        const tbody = el("tbody");
        for (const [k, v] of res.headers) tbody.append(el("tr", {}, el("th", {}, k), el("td", {}, v)));
        box.append(el("table", { id: "result-headers", class: "headers" }, tbody));
      }
      box.append(el("p", { class: "hint" }, "A page only sees the CORS-safelisted response headers and those the gateway lists in Access-Control-Expose-Headers."));
      if (init.method !== "HEAD") {
        const body = res.body.length > 4000 ? res.body.slice(0, 4000) + "\n…" : res.body;
        box.append(el("h3", {}, "Body"), el("pre", { id: "result-body" }, body === "" ? "(empty)" : pretty(body)));
      }
    } else {
      box.dataset.outcome = "blocked";
      box.append(el("p", { id: "result-status", class: "status bad" },
        el("strong", {}, "Blocked"), " no response for the page"));
      box.append(el("pre", { id: "result-error", class: "error" }, res.error));
      box.append(el("p", {},
        "The browser gives the page only this TypeError and hides why (a CORS refusal and an unreachable gateway look the same to a script; the details are in the DevTools console). ",
        el("strong", {}, "See the gateway's explanation below"), " for its decision on this request."));
    }
    const sent = sentHeaders.length ? sentHeaders.map(([n, v]) => n + ": " + v).join("\n") : "(none set by the page)";
    box.append(el("details", {}, el("summary", {}, "What the page asked for"),
      el("pre", {}, init.method + " " + res.url + "\ncredentials: " + init.credentials + "\n" + sent)));
  }

  function chip(label, value) {
    const v = String(value || "?");
    const cls = v === "allowed" ? "good" : v === "refused" ? "bad" : "neutral";
    return el("span", { class: "chip " + cls }, label + ": ", el("strong", {}, v));
  }

  function renderExplain(res) {
    const box = $("explain");
    box.replaceChildren();
    const problem = apiProblem(res);
    if (problem) {
      box.dataset.state = res.status === 404 ? "off" : "error";
      box.append(el("p", { id: "explain-reason", class: "notice" }, problem));
      return;
    }
    const v = res.data && res.data.verdict;
    if (!v || typeof v !== "object") {
      box.dataset.state = "error";
      box.append(el("p", { id: "explain-reason", class: "notice" },
        "The gateway answered without a verdict: it may not implement /__debug/cors/explain yet."),
        el("pre", { class: "json" }, pretty(res.text)));
      return;
    }
    box.dataset.state = "done";
    const verdictClass = v.actual === "refused" || v.preflight === "refused" ? "bad" : "good";
    box.append(el("div", { class: "verdict " + verdictClass },
      el("div", { class: "chips" },
        el("span", { id: "explain-preflight" }, chip("Preflight", v.preflight)),
        el("span", { id: "explain-actual" }, chip("Actual request", v.actual))),
      el("p", { id: "explain-reason", class: "reason" }, v.reason || "(no reason given)")));
    // Every failing check, not only the first the browser meets: fixing
    // the origin alone would only lead to the next refusal.
    const failures = Array.isArray(v.failures) ? v.failures.filter((f) => f && typeof f === "object") : [];
    if (failures.length > 1) {
      const list = el("ol", { id: "explain-failures", class: "failures" });
      for (const f of failures) {
        list.append(el("li", { "data-check": String(f.check || "") },
          el("strong", {}, String(f.check || "?")), ": " + String(f.reason || ""),
          f.fix ? el("div", { class: "fix" }, "fix: " + String(f.fix)) : ""));
      }
      box.append(el("p", { class: "reason" }, `${failures.length} checks fail; fix them all:`), list);
    }
    box.append(el("details", { open: "" }, el("summary", {}, "Full explanation"),
      el("pre", { id: "explain-json", class: "json" }, JSON.stringify(res.data, null, 2))));
  }

  async function loadPolicy() {
    const box = $("policy");
    box.dataset.state = "loading";
    const res = await getJSON("/api/policy");
    box.replaceChildren();
    const problem = apiProblem(res);
    if (problem) {
      box.dataset.state = res.status === 404 ? "off" : "error";
      box.append(el("p", { class: "notice" }, problem));
      return;
    }
    box.dataset.state = "loaded";
    box.append(el("pre", { id: "policy-json", class: "json" }, res.data ? JSON.stringify(res.data, null, 2) : res.text));
  }

  async function send(ev) {
    ev.preventDefault();
    const method = $("method").value;
    let path = $("path").value.trim() || "/";
    if (!path.startsWith("/")) path = "/" + path;
    const parsed = parseHeaders($("headers").value);
    const credentials = $("credentials").checked;

    const notes = $("notes");
    notes.replaceChildren();
    for (const line of parsed.errors) notes.append(el("li", {}, "ignored, not a Name: value line: " + line));
    for (const name of parsed.dropped) notes.append(el("li", {}, name + " is a forbidden request header: the browser will not send it"));

    const init = {
      method,
      mode: "cors",
      cache: "no-store",
      credentials: credentials ? "include" : "omit",
      headers: parsed.headers,
    };
    const body = $("body").value;
    if (body !== "" && method !== "GET" && method !== "HEAD") init.body = body;
    if (body !== "" && init.body === undefined) notes.append(el("li", {}, "the body is not sent with " + method));

    const pathOnly = path.replace(/[?#].*$/, "");
    const q = new URLSearchParams({
      method,
      path: pathOnly,
      headers: preflightHeaderNames(parsed.headers).join(","),
      credentials: String(credentials),
    });

    $("send").disabled = true;
    $("sending").hidden = false;
    $("result").dataset.state = "pending";
    const url = target + path;
    const [res, exp] = await Promise.all([runFetch(url, init), getJSON("/api/explain?" + q.toString())]);
    res.url = url;
    renderResult(res, init, parsed.headers);
    renderExplain(exp);
    $("send").disabled = false;
    $("sending").hidden = true;
    runs++;
    $("result").dataset.state = "done";
    $("result").dataset.run = String(runs);
  }

  // A HAR file, dropped or chosen: the gateway explains each request in it.
  async function explainHAR(file) {
    const box = $("har");
    box.dataset.state = "pending";
    box.replaceChildren(el("p", { class: "muted" }, "Explaining " + file.name + "…"));
    let res;
    try {
      const r = await fetch("/api/har", { method: "POST", headers: { "Content-Type": "application/json" }, body: await file.text() });
      const text = await r.text();
      let data = null;
      try { data = JSON.parse(text); } catch (_) { /* not JSON */ }
      res = { status: r.status, data, text };
    } catch (e) {
      res = { status: 0, data: null, error: e.name + ": " + e.message };
    }
    box.replaceChildren();
    if (res.status !== 200 || !res.data || !res.data.summary) {
      const msg = res.status === 404 ? DEBUG_OFF : (res.data && (res.data.reason || res.data.error)) || res.error || res.text;
      box.append(el("p", { id: "har-error", class: "notice" }, file.name + ": " + msg));
      box.dataset.state = "error";
      return;
    }
    const s = res.data.summary;
    box.append(el("p", { id: "har-summary" }, `${s.entries} request(s): ${s.explained} explained (${s.allowed} allowed, ${s.refused} refused), ${s.skipped} skipped; ${s.changed} decided otherwise than recorded`));
    const list = el("ul", { id: "har-entries", class: "har" });
    for (const e of res.data.entries) {
      const item = el("li", { class: e.explanation ? (e.explanation.verdict.actual === "allowed" ? "allowed" : "refused") : "skipped" });
      item.append(el("code", {}, `#${e.entry} ${e.method} ${e.url}`), " ");
      if (!e.explanation) {
        item.append(el("span", { class: "muted" }, "skipped: " + e.skipped));
      } else {
        const v = e.explanation.verdict;
        item.append(chip("from " + e.explanation.request.origin, v.actual));
        if (v.actual !== "allowed" && v.reason) item.append(el("div", { class: "reason" }, v.reason));
        if (e.changed) item.append(el("div", { class: "notice" }, "The browser saw " + (e.recorded.allowed ? "it allowed" : "it refused") + " then: the configuration decides otherwise now."));
      }
      list.append(item);
    }
    box.append(list);
    box.dataset.state = "done";
  }
  const drop = $("har-drop");
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (f) explainHAR(f);
  });
  $("har-file").addEventListener("change", (ev) => { if (ev.target.files[0]) explainHAR(ev.target.files[0]); });

  $("form").addEventListener("submit", send);
  $("policy-reload").addEventListener("click", loadPolicy);
  loadPolicy();
})();
