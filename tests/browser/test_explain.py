"""Explanations on one booted page: every visible metric and form field has a "?" whose text exists
in English and in Chinese; focusing it shows the popover, whose docs link exists in _site (file and
id); Escape closes it; the language switch changes it; at 360 px it does not widen the page; the
docs load under the CSP without a console error."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from conftest import BOOT_TIMEOUT_MS, SITE

QUERY = "?tier=cpu:100gb:50"
CJK = re.compile(r"[\u4e00-\u9fff]")
# English words a Chinese explanation may keep: proper names, units, flags, formats.
KEPT_IN_CHINESE = {
    "AWQ", "CUDA", "DeepSeek-V3", "DeepSeek-V3.2", "FIFO", "FP8", "FlashInfer", "GB", "GPTQ", "GPU", "GQA", "GiB", "HBM",
    "ID", "K", "KV", "LFU", "LRU", "Llama", "MBU", "MFU", "MHA", "MLA", "MLP", "MQA", "Mamba", "MoE", "SGLang", "TFLOP",
    "V", "cpu", "gpu-memory-utilization", "logits", "mem-fraction-static", "min", "s", "ssd", "token", "torch", "vLLM",
}
TRACE_KEYS = [
    "trace.ceiling.token_hit_rate", "trace.ceiling.request_hit_rate", "trace.current.token_hit_rate",
    "trace.current.request_hit_rate", "trace.gap.worst_points", "trace.gap.median_points",
    *(f"trace.stats.{key}" for key in ("requests", "prompt_tokens", "output_tokens", "block_size", "mean_input_tokens",
                                       "mean_output_tokens", "span_s", "request_rate", "unique_blocks", "unique_tokens",
                                       "unique_gb", "reused_blocks", "reused_block_share", "reused_token_share")),
]

# Which visible labels must carry a "?" (returns the ones that do not, and the keys of those that do).
COLLECT = """() => {
  const visible = (node) => node && node.getClientRects().length > 0;
  const hasInside = (host) => host && host.querySelector(':scope > .explain-button');
  const hasAfter = (node) => node && node.nextElementSibling && node.nextElementSibling.matches('.explain-button');
  const missing = [];
  const need = (ok, what) => { if (!ok) missing.push(what); };
  for (const row of document.querySelectorAll('[data-row]')) if (visible(row)) need(hasInside(row.querySelector('dt')), 'row ' + row.dataset.row);
  for (const card of document.querySelectorAll('.headline-card')) need(hasInside(card.querySelector('h3')), 'headline');
  for (const row of document.querySelectorAll('tr[data-figure]')) if (visible(row)) need(hasInside(row.querySelector('th')), 'tier ' + row.dataset.figure);
  for (const item of document.querySelectorAll('#results .stacked-legend li')) {
    if (visible(item) && item.querySelector(':scope > [data-metric]:not([data-scope])')) need(item.querySelector('.explain-button'), 'legend ' + item.textContent);
  }
  for (const value of document.querySelectorAll("[data-scope='advice'][data-metric]")) if (visible(value)) need(hasAfter(value), 'advice ' + value.dataset.metric);
  for (const row of document.querySelectorAll('#verify-result tr[data-rate], #verify-result .metric-row')) if (visible(row)) need(row.querySelector('.explain-button'), 'verify ' + row.textContent);
  for (const label of document.querySelectorAll('label[for]')) {
    const control = document.getElementById(label.htmlFor);
    if (control && control.name && visible(label)) need(hasAfter(label), 'field ' + control.name);
  }
  need(document.querySelector('p.seed-line .explain-button'), 'seed formula');
  need(document.querySelector('p.ceiling .explain-button'), 'ceiling');
  const keys = [...new Set([...document.querySelectorAll('.explain-button')].map((b) => b.dataset.explain))];
  return { missing, keys, count: document.querySelectorAll('.explain-button').length };
}"""

TEXTS = """async (keys) => {
  const { explanation } = await import('./js/explain.js');
  return Object.fromEntries(keys.map((key) => [key, explanation(key)]));
}"""


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name == "id")


def assert_docs_target_exists(href: str):
    parts = urlsplit(href)
    assert parts.path.startswith("docs/") and parts.fragment, href
    target = SITE / parts.path
    assert target.is_file(), href
    ids = _Ids()
    ids.feed(target.read_text(encoding="utf-8"))
    assert parts.fragment in ids.ids, href


def assert_chinese(key: str, text: str):
    assert CJK.search(text), f"{key}: no Chinese in {text!r}"
    english = set(re.findall(r"[A-Za-z][A-Za-z0-9_.\-]*[A-Za-z0-9]|[A-Za-z]", text))
    assert english <= KEPT_IN_CHINESE, f"{key}: English left in Chinese: {english - KEPT_IN_CHINESE}"


@pytest.fixture(scope="module")
def watch(module_context, open_site):
    watch = open_site(module_context, QUERY)
    page = watch.page
    page.wait_for_selector("#advice .advice-item", state="attached", timeout=BOOT_TIMEOUT_MS)
    page.fill("#sim-requests", "1500")
    page.click("#verify-start")
    page.wait_for_selector("#verify[data-state='done']", state="attached", timeout=BOOT_TIMEOUT_MS)
    return watch


def set_language(page, wanted: str):
    if page.evaluate("document.documentElement.lang").startswith("zh") != (wanted == "zh"):
        page.click("#language-switch")
    page.wait_for_selector(f"html[lang^='{wanted}']", state="attached")
    page.wait_for_selector("body[data-busy='false']", state="attached", timeout=BOOT_TIMEOUT_MS)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_visible_metric_and_field_has_an_explanation(watch, lang):
    page = watch.page
    set_language(page, lang)
    found = page.evaluate(COLLECT)
    assert found["missing"] == []
    assert found["count"] > 120
    assert {"token_hit_rate", "ideal_prefill_speedup", "tier.load_pays", "advice.token_hit_rate_gain", "sim.difference",
            "seed_formula_hit_rate", "latency.mfu", "tiers.capacity_gb", "sim-requests"} <= set(found["keys"])
    texts = page.evaluate(TEXTS, found["keys"])
    for key, entry in texts.items():
        assert entry and entry["text"].strip(), key
        if lang == "zh":
            assert_chinese(key, entry["text"])
        else:
            assert not CJK.search(entry["text"]), key
    # every "?" is named in the page language
    names = page.eval_on_selector_all(".explain-button", "buttons => buttons.map((b) => b.getAttribute('aria-label'))")
    assert all(names) and all(bool(CJK.search(name)) == (lang == "zh") for name in names)
    set_language(page, "en")
    watch.assert_clean()


def test_every_schema_field_and_trace_metric_has_both_languages_and_an_existing_docs_section(watch):
    page = watch.page
    keys = page.evaluate("""async () => {
      const { fieldKey } = await import('./js/explain.js');
      const schema = window.kvcacheCalc.schema;
      const paths = [...schema.fields.map((f) => f.path), schema.tiers.policy.path, ...schema.tiers.fields.map((f) => f.path),
        ...schema.traffic.group_fields.map((f) => 'workload.' + f.path), ...schema.traffic.class_fields.map((f) => 'workload.' + f.path),
        ...schema.traffic.laws.map((f) => 'workload.' + f.path)];
      return paths.map(fieldKey);
    }""")
    assert len(keys) > 70
    keys += TRACE_KEYS
    entries = page.evaluate("""async (keys) => {
      const { EXPLANATIONS } = await import('./js/explain-i18n.js');
      return Object.fromEntries(keys.map((key) => [key, EXPLANATIONS[key] || null]));
    }""", keys)
    missing = [key for key, entry in entries.items() if entry is None]
    assert missing == []
    for key, (target, english, chinese) in entries.items():
        assert english.strip() and not CJK.search(english), key
        assert_chinese(key, chinese)
        assert_docs_target_exists(f"docs/{target}")


def test_focus_shows_the_popover_with_a_working_docs_link_and_escape_closes_it(watch):
    page = watch.page
    set_language(page, "en")
    button = page.locator("[data-row='ideal_prefill_speedup'] .explain-button")
    button.focus()
    popover = page.locator("#explain-popover")
    popover.wait_for(state="visible")
    assert popover.get_attribute("role") == "tooltip"
    assert button.get_attribute("aria-expanded") == "true"
    assert button.get_attribute("aria-describedby") == "explain-popover"
    assert "1 ÷ (1 − token hit rate)" in popover.text_content()
    link = popover.locator("a.explain-link")
    assert link.text_content() == "How it is computed"
    assert_docs_target_exists(link.get_attribute("href"))

    # the language follows the page while it is open
    page.click("#language-switch")
    page.wait_for_selector("html[lang^='zh']", state="attached")
    button = page.locator("[data-row='ideal_prefill_speedup'] .explain-button")
    button.focus()
    popover.wait_for(state="visible")
    assert "token 命中率" in popover.text_content() and link.text_content() == "计算方法"
    page.keyboard.press("Escape")
    popover.wait_for(state="hidden")
    assert button.get_attribute("aria-expanded") == "false"
    set_language(page, "en")

    # a field's "?" links to the section deriving what it changes; a tap elsewhere closes it
    field_button = page.locator(".field[data-path='latency.mfu'] > .explain-button")
    field_button.click()
    popover.wait_for(state="visible")
    assert "MFU" in popover.text_content()
    assert_docs_target_exists(link.get_attribute("href"))
    page.mouse.click(5, 5)
    popover.wait_for(state="hidden")

    # the trace panel's request hit rate says it differs from the calculator's
    texts = page.evaluate(TEXTS, ["trace.current.request_hit_rate"])
    assert "first turns" in texts["trace.current.request_hit_rate"]["text"]
    watch.assert_clean()


def test_decorating_again_adds_nothing(watch):
    page = watch.page
    before = page.eval_on_selector_all(".explain-button", "b => b.length")
    page.evaluate("async () => { const { decorate } = await import('./js/explain.js'); decorate(document.body); decorate(document.body); }")
    assert page.eval_on_selector_all(".explain-button", "b => b.length") == before
    # a re-render (new numbers) keeps exactly one "?" per label
    page.fill("input[name='workload.arrival_rate']", "3")
    watch.wait_idle()
    assert page.eval_on_selector_all("[data-row] dt", "dts => dts.every((dt) => dt.querySelectorAll('.explain-button').length === 1)")


def test_at_360px_the_popover_does_not_widen_the_page(watch):
    page = watch.page
    page.set_viewport_size({"width": 360, "height": 740})
    try:
        before = page.evaluate("document.documentElement.scrollWidth")
        for selector in ["[data-row='decode_utilization'] .explain-button", ".field[data-path='model.preset'] > .explain-button"]:
            button = page.locator(selector)
            button.scroll_into_view_if_needed()
            button.focus()
            page.locator("#explain-popover").wait_for(state="visible")
            box = page.locator("#explain-popover").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
            assert page.evaluate("document.documentElement.scrollWidth") <= max(360, before)
            page.keyboard.press("Escape")
    finally:
        page.set_viewport_size({"width": 1280, "height": 720})


def test_docs_links_and_docs_pages_load_under_the_csp(watch, module_context):
    page = watch.page
    hrefs = page.eval_on_selector_all(".docs-links a", "links => links.map((a) => a.getAttribute('href'))")
    assert hrefs == ["docs/model.html", "docs/accuracy.html", "docs/glossary.html", "docs/index.html"]
    docs = module_context.new_page()
    errors = []
    docs.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    docs.on("pageerror", lambda error: errors.append(str(error)))
    try:
        docs.goto(watch.site_url + "docs/index.html")
        assert docs.locator(".docs-index li").count() >= 16
        docs.click(".docs-index a[href='accuracy.html']")
        docs.wait_for_selector("img[src='accuracy.png']")
        assert docs.evaluate("document.querySelector(\"img[src='accuracy.png']\").naturalWidth") > 0
        docs.goto(watch.site_url + "docs/glossary.html#percentage-points-pp")
        docs.click("text=← Calculator")
        docs.wait_for_selector("#scenario-form", state="attached")
        assert errors == []
    finally:
        docs.close()
