// The deployment to copy: the engine command lines Python wrote for the scenario (analyze's
// `deploy.current`) and for each advice item (`deploy.advice[id]`), with one-click copy, the
// notes Python attached and where each flag is defined in the engine's source. No text here is
// composed from the scenario: JS shows Python's strings through textContent.

import { copyText } from "./clipboard.js";
import { el, tableHead } from "./dom.js";
import { language, t } from "./i18n.js";

/** Links only to the engines' repositories on GitHub (the table in py/kvcache_calc/deploy/flags.py). */
const SOURCE_PREFIX = "https://github.com/";

function notesList(notes) {
  const list = el("ul", "deploy-notes");
  for (const note of notes || []) {
    const item = el("li", "deploy-note", note[`message_${language()}`] || note.message_en || note.code);
    item.dataset.code = note.code || "";
    list.append(item);
  }
  list.hidden = !list.children.length;
  return list;
}

/** A command block: the shell text, a Copy button and its status line. */
export function commandBlock(deployment) {
  const box = el("div", "deploy-command");
  const heading = el("p", "deploy-engine muted", t("deploy_engine", {
    engine: deployment.engine === "sglang" ? "SGLang" : "vLLM", version: deployment.version,
    model: deployment.model_id, replicas: deployment.replicas,
  }));
  const pre = el("pre", "deploy-text");
  pre.tabIndex = 0;
  pre.textContent = deployment.text;
  const button = el("button", "deploy-copy", t("deploy_copy"));
  button.type = "button";
  const status = el("span", "deploy-copy-status muted");
  status.setAttribute("role", "status");
  button.addEventListener("click", () => copyText(deployment.text, status));
  box.append(heading, pre, button, status, notesList(deployment.notes));
  return box;
}

function flagsTable(flags) {
  const details = el("details", "deploy-flags");
  details.append(el("summary", "", t("deploy_flags_title", { count: flags.length })));
  const table = el("table", "deploy-flag-table");
  const tbody = el("tbody");
  for (const flag of flags) {
    const row = el("tr");
    row.dataset.flag = flag.name;
    const name = el("td");
    name.append(el("code", "", flag.name));
    const source = el("td");
    if (typeof flag.source_url === "string" && flag.source_url.startsWith(SOURCE_PREFIX)) {
      const link = el("a", "", `${flag.engine} ${flag.version} ${flag.source}`);
      link.href = flag.source_url;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      source.append(link);
    } else {
      source.textContent = flag.source || "";
    }
    row.append(name, el("td", "", flag.value ?? ""), el("td", "", flag.meaning || ""), source);
    tbody.append(row);
  }
  table.append(tableHead([t("deploy_flag"), t("deploy_value"), t("deploy_meaning"), t("deploy_source")]), tbody);
  details.append(table);
  return details;
}

/** The results panel's deployment section; render(deploy) with analyze's `deploy` result. */
export class DeployView {
  constructor(root) {
    this.section = el("section", "deploy");
    this.section.id = "deploy";
    this.title = el("h3", "", t("deploy_title"));
    this.description = el("p", "muted deploy-desc", t("deploy_desc"));
    this.body = el("div", "deploy-body");
    this.section.append(this.title, this.description, this.body);
    this.section.hidden = true;
    root.append(this.section);
    this.last = null;
  }

  render(deploy) {
    this.last = deploy;
    this.title.textContent = t("deploy_title");
    this.description.textContent = t("deploy_desc");
    const current = deploy && deploy.current;
    this.section.hidden = !current;
    if (!current) return;
    this.body.replaceChildren(commandBlock(current), flagsTable(current.flags || []));
  }

  relabel() {
    if (this.last) this.render(this.last);
  }
}

/** An advice item's command lines, folded under a summary. */
export function adviceCommand(deployment) {
  const details = el("details", "advice-deploy");
  details.append(el("summary", "", t("deploy_advice_summary")), commandBlock(deployment));
  return details;
}
