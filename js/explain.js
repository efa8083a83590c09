// A "?" next to every metric and form field: a short explanation (js/explain-i18n.js) in a popover
// with a link to the docs section that derives the number. Shown on hover, keyboard focus and tap;
// closed by Escape, blur or a tap elsewhere. Text only (textContent), never HTML.
//
// The results and the form re-render often (and a language switch rewrites their labels), so
// decorate() is idempotent and a MutationObserver runs it after every change of the page.

import { language } from "./i18n.js";
import { EXPLANATIONS, EXPLAIN_UI } from "./explain-i18n.js";

const POPOVER_ID = "explain-popover";
const DOCS_DIR = "docs/";
/** A tap focuses, then clicks: a click this soon after the popover opened keeps it open. */
const TAP_GRACE_MS = 400;
const HOVER_CLOSE_DELAY_MS = 200;
const VIEWPORT_MARGIN_PX = 8;

const DOCS_LINKS = [
  ["docs_method", "model.html"],
  ["docs_accuracy", "accuracy.html"],
  ["docs_glossary", "glossary.html"],
  ["docs_all", "index.html"],
];

const ui = (key, params = {}) => {
  const table = EXPLAIN_UI[language()] || EXPLAIN_UI.en;
  return (table[key] ?? EXPLAIN_UI.en[key]).replace(/\{(\w+)\}/g, (whole, name) => params[name] ?? whole);
};

/** The explanation of `key` in the current language: {text, href}, or null when there is none. */
export function explanation(key) {
  const entry = EXPLANATIONS[key];
  if (!entry) return null;
  const [target, english, chinese] = entry;
  return { text: language() === "zh" ? chinese : english, href: DOCS_DIR + target };
}

/** A form control's explanation key: its schema path without list indices or a law's ".dist". */
export function fieldKey(name) {
  const parts = String(name).split(".").filter((part) => !/^\d+$/.test(part));
  if (parts.length > 1 && parts[parts.length - 1] === "dist") parts.pop();
  return parts.join(".");
}

const state = {
  popover: null,
  text: null,
  link: null,
  button: null, // the button whose popover is open
  openedAt: 0,
  hoverTimer: 0,
  labelOf: new WeakMap(), // button -> the node whose text names what it explains
};

function labelText(node) {
  if (!node) return "";
  // the label's own text, without the button (empty) or the popover (when it sits inside)
  let text = "";
  for (const child of node.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) text += child.textContent;
    else if (child.nodeType === Node.ELEMENT_NODE && !child.matches(".explain-button, .explain-popover")) text += child.textContent;
  }
  return text.replace(/\s+/g, " ").trim();
}

function accessibleLabel(button) {
  const text = labelText(state.labelOf.get(button));
  return text ? ui("button", { label: text }) : ui("button_plain");
}

function makeButton(key, labelNode) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "explain-button";
  button.dataset.explain = key;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-describedby", POPOVER_ID);
  state.labelOf.set(button, labelNode);
  button.setAttribute("aria-label", accessibleLabel(button));
  button.addEventListener("focus", () => open(button));
  button.addEventListener("blur", (event) => {
    if (!state.popover.contains(event.relatedTarget)) close(button);
  });
  button.addEventListener("click", () => {
    if (state.button === button && performance.now() - state.openedAt > TAP_GRACE_MS) close(button);
    else open(button);
  });
  button.addEventListener("mouseenter", () => open(button));
  button.addEventListener("mouseleave", scheduleHoverClose);
  return button;
}

/** Put a button for `key` inside `host` (at its end), unless one is there or there is no text for it. */
function addInside(host, key, labelNode = host) {
  if (!host || !EXPLANATIONS[key]) return;
  const existing = host.querySelector(`:scope > .explain-button`);
  if (existing && existing.dataset.explain === key) return;
  if (existing) existing.remove();
  host.append(makeButton(key, labelNode));
}

/** Put a button for `key` right after `node`, unless one is there. */
function addAfter(node, key, labelNode = node) {
  if (!node || !EXPLANATIONS[key]) return;
  const next = node.nextElementSibling;
  if (next && next.matches(".explain-button") && next.dataset.explain === key) return;
  if (next && next.matches(".explain-button")) next.remove();
  node.after(makeButton(key, labelNode));
}

function decorateResults(root) {
  for (const row of root.querySelectorAll("[data-row]")) addInside(row.querySelector("dt"), row.dataset.row);
  for (const card of root.querySelectorAll(".headline-card")) {
    const value = card.querySelector("[data-metric]");
    if (value) addInside(card.querySelector("h3"), value.dataset.metric);
  }
  for (const line of root.querySelectorAll("p.ceiling")) {
    const label = line.querySelector(":scope > span:not([data-metric])");
    addAfter(label, "ceiling");
  }
  for (const line of root.querySelectorAll("p.seed-line")) addInside(line, "seed_formula_hit_rate", null);
  for (const line of root.querySelectorAll("p.pinned-running")) addInside(line, "running_requests", null);
  for (const item of root.querySelectorAll(".stacked-legend li")) {
    const value = item.querySelector(":scope > [data-metric]:not([data-scope])");
    const label = item.querySelector(":scope > span:not(.swatch):not([data-metric]):not(.explain-button)");
    if (value && label) addAfter(label, value.dataset.metric);
  }
  for (const line of root.querySelectorAll("[data-bar]")) addAfter(line.querySelector(".tier-bar-label"), line.dataset.bar);
  for (const row of root.querySelectorAll("tr[data-figure]")) addInside(row.querySelector("th"), `tier.${row.dataset.figure}`);
  for (const table of root.querySelectorAll("table")) {
    const cells = table.querySelectorAll("tbody tr:first-child [data-scope='class'][data-metric]");
    if (!cells.length) continue;
    const heads = table.querySelectorAll("thead th");
    cells.forEach((cell, index) => {
      const column = cell.dataset.metric.split(".").pop();
      addInside(heads[index + 1], `class.${column}`);
    });
  }
  for (const value of root.querySelectorAll("[data-scope='advice'][data-metric]")) {
    addAfter(value, `advice.${value.dataset.metric}`, null);
  }
}

function decorateVerify(root) {
  for (const row of root.querySelectorAll("tr[data-rate]")) addInside(row.querySelector("th"), `sim.${row.dataset.rate}`);
  for (const row of root.querySelectorAll("tr.sim-tier-row")) addInside(row.querySelector("th"), "sim.tier_token_hit_rate");
  for (const table of root.querySelectorAll("table.verify-table")) {
    const heads = table.querySelectorAll("thead th");
    if (heads.length) addInside(heads[heads.length - 1], "sim.difference");
  }
  for (const row of root.querySelectorAll(".verify-result .metric-row")) {
    const value = row.querySelector("[data-metric^='sim_']");
    if (value) addInside(row.querySelector("dt"), `sim.${value.dataset.metric.slice(4)}`);
  }
}

function decorateTrace(root) {
  for (const row of root.querySelectorAll(".metric-row")) {
    const value = row.querySelector("[data-scope='trace'][data-metric^='trace.']");
    if (value) addInside(row.querySelector("dt"), value.dataset.metric);
  }
  for (const row of root.querySelectorAll("tr")) {
    const value = row.querySelector(":scope > td > [data-metric^='trace.stats.']");
    if (value) addInside(row.querySelector("th"), value.dataset.metric);
  }
}

function decorateForm(root) {
  for (const label of root.querySelectorAll("label[for]")) {
    const control = document.getElementById(label.htmlFor);
    if (!control || !control.name) continue;
    addAfter(label, fieldKey(control.name));
  }
}

/** Add the "?" buttons under `root` that are missing and refresh their names; safe to call again. */
export function decorate(root = document.body) {
  if (!state.popover) ensurePopover();
  decorateResults(root);
  decorateVerify(root);
  decorateTrace(root);
  decorateForm(root);
  for (const button of root.querySelectorAll(".explain-button")) {
    const name = accessibleLabel(button);
    if (button.getAttribute("aria-label") !== name) button.setAttribute("aria-label", name);
  }
}

// --- the popover -------------------------------------------------------------------------------

function ensurePopover() {
  const popover = document.createElement("span");
  popover.id = POPOVER_ID;
  popover.className = "explain-popover";
  popover.setAttribute("role", "tooltip");
  popover.hidden = true;
  state.text = document.createElement("span");
  state.text.className = "explain-text";
  state.link = document.createElement("a");
  state.link.className = "explain-link";
  popover.append(state.text, state.link);
  popover.addEventListener("mouseenter", () => window.clearTimeout(state.hoverTimer));
  popover.addEventListener("mouseleave", scheduleHoverClose);
  popover.addEventListener("focusout", (event) => {
    if (!popover.contains(event.relatedTarget) && event.relatedTarget !== state.button) close(state.button);
  });
  document.body.append(popover);
  state.popover = popover;
}

function fill(button) {
  const found = explanation(button.dataset.explain);
  state.text.textContent = found ? found.text : "";
  state.link.textContent = ui("link");
  state.link.href = found ? found.href : DOCS_DIR + "index.html";
}

/** Fixed to the viewport next to the button, clamped inside it: it never widens the page. */
function place(button) {
  const popover = state.popover;
  const anchor = button.getBoundingClientRect();
  popover.style.left = "0px";
  popover.style.top = "0px";
  const box = popover.getBoundingClientRect();
  const maxLeft = Math.max(VIEWPORT_MARGIN_PX, window.innerWidth - box.width - VIEWPORT_MARGIN_PX);
  const left = Math.min(Math.max(VIEWPORT_MARGIN_PX, anchor.left), maxLeft);
  const below = anchor.bottom + 6;
  const top = below + box.height > window.innerHeight && anchor.top - box.height - 6 > 0 ? anchor.top - box.height - 6 : below;
  popover.style.left = `${Math.round(left)}px`;
  popover.style.top = `${Math.round(top)}px`;
}

function open(button) {
  window.clearTimeout(state.hoverTimer);
  if (state.button && state.button !== button) close(state.button);
  const popover = state.popover;
  fill(button);
  // right after its button, so Tab reaches the link next
  if (button.nextSibling !== popover) button.after(popover);
  popover.hidden = false;
  button.setAttribute("aria-expanded", "true");
  if (state.button !== button) state.openedAt = performance.now();
  state.button = button;
  place(button);
}

function close(button) {
  if (!button || state.button !== button) return;
  window.clearTimeout(state.hoverTimer);
  state.popover.hidden = true;
  button.setAttribute("aria-expanded", "false");
  state.button = null;
  if (state.popover.parentNode !== document.body) document.body.append(state.popover);
}

function scheduleHoverClose() {
  window.clearTimeout(state.hoverTimer);
  const button = state.button;
  state.hoverTimer = window.setTimeout(() => {
    if (!button || state.button !== button) return;
    const focused = document.activeElement;
    if (focused === button || state.popover.contains(focused)) return;
    if (button.matches(":hover") || state.popover.matches(":hover")) return;
    close(button);
  }, HOVER_CLOSE_DELAY_MS);
}

function onKeydown(event) {
  if (event.key !== "Escape" || !state.button) return;
  const button = state.button;
  const focusInside = state.popover.contains(document.activeElement);
  close(button);
  if (focusInside && button.isConnected) button.focus({ preventScroll: true });
}

function onPointerDown(event) {
  if (!state.button) return;
  if (state.popover.contains(event.target) || state.button.contains(event.target)) return;
  close(state.button);
}

// --- docs links and language -------------------------------------------------------------------

function addDocsLinks() {
  const host = document.querySelector(".page-header .title-block") || document.querySelector(".page-footer");
  if (!host || host.querySelector(".docs-links")) return;
  const nav = document.createElement("nav");
  nav.className = "docs-links";
  const title = document.createElement("span");
  title.className = "docs-links-title";
  title.dataset.explainUi = "docs_nav";
  nav.append(title);
  for (const [key, page] of DOCS_LINKS) {
    const link = document.createElement("a");
    link.href = DOCS_DIR + page;
    link.dataset.explainUi = key;
    link.dataset.doc = page;
    nav.append(link);
  }
  host.append(nav);
  relabelDocsLinks();
}

function relabelDocsLinks() {
  for (const node of document.querySelectorAll("[data-explain-ui]")) {
    const text = ui(node.dataset.explainUi);
    if (node.textContent !== text) node.textContent = text;
  }
}

function onLanguageChange() {
  relabelDocsLinks();
  decorate(document.body);
  if (state.button) {
    fill(state.button);
    place(state.button);
  }
}

/**
 * Decorate `root` now and after every change under it; follow the page language. Called once by
 * app.js when the panels exist.
 */
export function initExplanations(root = document.body) {
  ensurePopover();
  addDocsLinks();
  decorate(root);
  new MutationObserver(() => {
    if (state.button && !state.button.isConnected) close(state.button);
    decorate(root);
  }).observe(root, { childList: true, subtree: true });
  new MutationObserver(onLanguageChange).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  document.addEventListener("keydown", onKeydown);
  document.addEventListener("pointerdown", onPointerDown, true);
  window.addEventListener("resize", () => state.button && place(state.button));
  window.addEventListener("scroll", () => state.button && place(state.button), { passive: true, capture: true });
}
