// @ts-check
// DOM helpers of the corsgate dashboard: finding the page's elements,
// building new ones, messages and error lists, and formatting values for
// display.
//
// Every server-provided string reaches the page through textContent or
// createElement, never as markup.

/**
 * A child of h: a node, or a value shown as text; null, undefined and
 * false are skipped. h also takes arrays of children (one level).
 * @typedef {Node | string | number | boolean | null | undefined} Child
 */

/**
 * The attributes of h: "class" sets className, "text" textContent,
 * "dataset" the data-* attributes, "on…" with a function an event
 * listener; any other key is an attribute (true: present and empty).
 * null, undefined and false leave the attribute out.
 * @typedef {{[name: string]: string | number | boolean | null | undefined | DOMStringMap | ((ev: Event) => void)}} Attrs
 */

/**
 * A {path, message} entry of an answer's "errors" (or "warnings"): path
 * is where the problem is, such as origins[1].
 * @typedef {Object} Problem
 * @property {string} path
 * @property {string} message
 */

/**
 * $ gives the page's element with this id. Every id the modules ask for
 * is in index.html (the package's tests check it).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $(id) {
  return /** @type {HTMLElement} */ (document.getElementById(id));
}

/**
 * h creates an element; strings among children become text nodes.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} attrs
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = /** @type {string} */ (v);
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

/**
 * clear removes every child of e.
 * @param {Node} e
 */
export function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
}

/**
 * setMessage shows parts in the message element id, of class kind (ok,
 * error, info).
 * @param {string} id
 * @param {string} kind
 * @param {...(Node | string)} parts
 */
export function setMessage(id, kind, ...parts) {
  const e = $(id);
  clear(e);
  e.className = "message " + kind;
  e.append(...parts.map((p) => (p instanceof Node ? p : String(p))));
  e.hidden = false;
}

/**
 * clearMessage empties and hides the message element id.
 * @param {string} id
 */
export function clearMessage(id) {
  const e = $(id);
  clear(e);
  e.hidden = true;
}

/**
 * fieldError adds message to the error paragraph id of a field, and shows
 * it.
 * @param {string} id
 * @param {string} message
 */
export function fieldError(id, message) {
  const e = $(id);
  e.textContent = e.textContent ? e.textContent + " " + message : message;
  e.hidden = false;
}

/**
 * showErrors lists {path, message} entries (or plain strings) in a ul.
 * @param {string} id
 * @param {ReadonlyArray<Problem | string>} errors
 */
export function showErrors(id, errors) {
  const ul = $(id);
  clear(ul);
  for (const err of errors) {
    if (typeof err === "string") ul.append(h("li", null, err));
    else if (err && err.path) ul.append(h("li", null, h("code", { text: err.path }), ": ", String(err.message ?? "")));
    else ul.append(h("li", null, String(err?.message ?? err)));
  }
  ul.hidden = errors.length === 0;
}

/**
 * hideErrors empties and hides the error list id.
 * @param {string} id
 */
export function hideErrors(id) {
  showErrors(id, []);
}

/**
 * busy disables button while fn runs, and gives fn's result.
 * @template T
 * @param {HTMLElement} button a button
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function busy(button, fn) {
  const b = /** @type {HTMLButtonElement} */ (button);
  b.disabled = true;
  try {
    return await fn();
  } finally {
    b.disabled = false;
  }
}

/**
 * fmtTime gives a time of the API (RFC 3339) as a local date and time;
 * "" for none, and the value itself when it is not a time.
 * @param {string | null | undefined} t
 * @returns {string}
 */
export function fmtTime(t) {
  if (!t) return "";
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

/**
 * fmtClock gives the local time of day of t.
 * @param {string | Date | null | undefined} t
 * @returns {string}
 */
export function fmtClock(t) {
  const d = new Date(/** @type {string | Date} */ (t));
  if (Number.isNaN(d.getTime())) return String(t ?? "");
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/**
 * timeEl gives a <time> element showing t, or "" for none.
 * @param {string | null | undefined} t
 * @returns {HTMLTimeElement | string}
 */
export function timeEl(t) {
  return t ? h("time", { datetime: String(t), title: String(t), text: fmtTime(t) }) : "";
}

/**
 * compact renders a JSON value on one line.
 * @param {unknown} v
 * @returns {string}
 */
export function compact(v) {
  /** @type {string | undefined} */
  let s;
  try {
    s = JSON.stringify(v);
  } catch {
    s = String(v);
  }
  if (s === undefined) s = String(v);
  return s.length > 400 ? s.slice(0, 400) + "…" : s;
}

/**
 * isObject: v is a JSON object (not null, not an array).
 * @param {unknown} v
 * @returns {v is Record<string, any>}
 */
export function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * num gives v if it is a finite number, else 0.
 * @param {unknown} v
 * @returns {number}
 */
export function num(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/**
 * originText shows an origin so that it cannot pass for another: a host
 * name with characters outside ASCII (a Cyrillic "а" in "аpp.example.com")
 * in its punycode form (xn--…), and any other character outside printable
 * ASCII (bidi controls, invisible ones) escaped as \u{…}. odd says that
 * it was changed, for a marker.
 * @param {string} o
 * @returns {{text: string, odd: boolean}}
 */
export function originText(o) {
  const plain = /^[\x20-\x7e]*$/;
  if (plain.test(o)) return { text: o, odd: false };
  let text = o;
  try {
    const u = new URL(o);
    if (u.origin !== "null") text = u.protocol + "//" + u.host;
  } catch {
    // not a URL: escaped below
  }
  text = text.replace(/[^\x20-\x7e]/gu, (c) => "\\u{" + (c.codePointAt(0) ?? 0).toString(16) + "}");
  return { text, odd: true };
}

/**
 * originEl is an element showing an origin with originText, marked with ⚠
 * and a title when it is not plain ASCII.
 * @param {string} tag such as "code" or "span"
 * @param {string} o
 * @param {Record<string, string>} [attrs]
 * @returns {HTMLElement}
 */
export function originEl(tag, o, attrs) {
  const { text, odd } = originText(o);
  if (!odd) return h(tag, { ...attrs, text: o });
  return h(tag, { ...attrs, class: ((attrs && attrs.class) || "") + " odd-origin", title: "This origin has characters outside ASCII: it is shown in its punycode or escaped form, and it is not the ASCII origin it may look like.", text: "⚠ " + text });
}

/**
 * labelCells starts every cell of table's body with the name of its
 * column (span.cell-label, hidden from screen readers, which have the
 * header): narrow screens show it beside the value, a row being a card
 * there (app.css); wide ones hide it. Call it after filling the table.
 * @param {HTMLTableElement} table
 */
export function labelCells(table) {
  const head = table.tHead && table.tHead.rows[0];
  const names = head ? [...head.cells].map((c) => (c.textContent || "").trim()) : [];
  for (const body of table.tBodies) {
    for (const row of body.rows) {
      let col = 0;
      for (const cell of row.cells) {
        const name = names[col];
        col += cell.colSpan || 1;
        if (name === undefined || cell.classList.contains("empty") || cell.querySelector(":scope > .cell-label")) continue;
        cell.prepend(h("span", { class: "cell-label", "aria-hidden": "true", text: name }));
      }
    }
  }
}
