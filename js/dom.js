// Small DOM builders shared by the page modules; text always goes in through textContent.

/** An element with a class name and text (both optional). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** An element from attributes ({text, className, dataset, others as attributes}) and children. */
export function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

/** A table head with one column header per label. */
export function tableHead(labels) {
  const row = el("tr");
  for (const label of labels) {
    const cell = el("th", "", label);
    cell.scope = "col";
    row.append(cell);
  }
  const thead = el("thead");
  thead.append(row);
  return thead;
}

/** Mark an input as wrong and put the message beside it (errorNode); a message alone when no input. */
export function markInvalid(input, errorNode, message) {
  errorNode.textContent = message;
  if (!input) return;
  input.classList.add("invalid");
  input.setAttribute("aria-invalid", "true");
  input.closest(".field")?.classList.add("has-error");
}

/** Undo markInvalid on an input (its message node is cleared by the caller). */
export function clearInvalid(input) {
  input.classList.remove("invalid");
  input.removeAttribute("aria-invalid");
  input.closest(".field")?.classList.remove("has-error");
}
