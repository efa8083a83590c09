// Copy a text to the clipboard and say in `status` whether it worked (the page's links and JSON,
// the deployment command lines).

import { t } from "./i18n.js";

export async function copyText(text, status) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = t("copied");
  } catch {
    status.textContent = t("copy_failed");
  }
}
