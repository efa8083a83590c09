"""The page's layout: the form reads top to bottom (model and GPU first, the rest folded), the results sit
beside the form on a desktop and right after the essentials on a phone, and nothing widens a 360 px page.
One booted page for the module; its viewport changes between phone and desktop sizes."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from conftest import BOOT_TIMEOUT_MS

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1440, "height": 900}
ROUTING_TIMEOUT_MS = 120_000
SAMPLE = "mooncake_conversation_trace.jsonl"
# Short prompts and big blocks keep the routing simulation quick; the layout does not depend on the numbers.
LIGHT_SCENARIO = "?block=64&user=64&out=64&sys=128&replicas=2"

# How many line boxes the text of each matching element takes (one rect per line of an inline run).
LINE_COUNTS = """(nodes) => nodes.filter((n) => n.getClientRects().length).map((n) => {
  const range = document.createRange();
  range.selectNodeContents(n);
  const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
  return [n.dataset.metric || n.id || n.textContent, tops.size];
})"""

TOP = "(node) => node.getBoundingClientRect().top"


@pytest.fixture(scope="module")
def watch(booted):
    booted.page.set_viewport_size(PHONE)
    return booted


@pytest.fixture(scope="module")
def page(watch):
    return watch.page


@contextmanager
def viewport(page, size):
    before = page.viewport_size
    page.set_viewport_size(size)
    try:
        yield
    finally:
        page.set_viewport_size(before)


@pytest.fixture(scope="module")
def everything_open(watch, page):
    """Two offload tiers, the classes editor, a finished routing comparison and the sample trace replayed."""
    watch.load_query(LIGHT_SCENARIO)
    page.click(".tier-add")
    page.fill("input[name='tiers.0.capacity_gb']", "100")
    page.click(".tier-add")
    page.fill("input[name='tiers.1.capacity_gb']", "1000")
    page.click("#workload-to-classes")
    watch.wait_idle()
    assert page.is_visible(".classes-body")
    page.click("#routing-start")
    page.wait_for_selector("#routing-compare[data-state='done']", state="attached", timeout=ROUTING_TIMEOUT_MS)
    page.click(f"#trace-panel button[data-example='{SAMPLE}']")
    page.wait_for_selector("#trace-panel[data-state='done']", state="attached", timeout=BOOT_TIMEOUT_MS)
    watch.wait_idle()
    assert page.locator("#routing-table tr[data-routing]").count() == 4
    assert page.locator(".section-tiers .tier-row").count() == 2
    return watch


def named_inputs_top_to_bottom(page) -> list[str]:
    """The names of the form's visible inputs in the order they are drawn, top to bottom."""
    return page.eval_on_selector_all("#scenario-form [name]", """(nodes) => nodes
        .filter((n) => n.checkVisibility())
        .map((n) => [n.name, n.getBoundingClientRect().top + window.scrollY])
        .sort((a, b) => a[1] - b[1]).map(([name]) => name)""")


def test_the_form_starts_with_the_model_and_the_gpu(watch, page):
    names = named_inputs_top_to_bottom(page)
    assert names[:2] == ["model.preset", "hardware.gpu"]
    assert "hardware.num_gpus" in names[:3]
    # the keyboard follows the same order (a closed fold's fields are skipped)
    keyboard = page.eval_on_selector_all("#scenario-form [name]",
                                         "(nodes) => nodes.filter((n) => n.checkVisibility()).map((n) => n.name)")
    assert keyboard[:3] == ["model.preset", "hardware.gpu", "hardware.num_gpus"]
    assert keyboard[3].startswith("workload.")
    # the architecture and the engine's knobs are folded while a preset fills them
    assert not page.eval_on_selector("details.fold-model-details", "(d) => d.open")
    assert not page.eval_on_selector("details.fold-hardware-details", "(d) => d.open")
    assert page.is_hidden("input[name='model.num_layers']")
    assert page.is_hidden("select[name='deploy.engine']")
    assert page.text_content("details.fold-model-details > summary") == "Model architecture"
    # then traffic, cache and tiers, and the planning sections last
    sections = page.eval_on_selector_all("#scenario-form fieldset.section", "(nodes) => nodes.map((n) => n.dataset.section)")
    assert sections == ["model", "hardware", "workload", "cache", "tiers", "cluster", "latency"]
    watch.assert_clean()


def test_a_custom_model_or_a_set_field_opens_its_fold(watch, page):
    page.select_option("select[name='model.preset']", "")
    watch.wait_idle()
    assert page.eval_on_selector("details.fold-model-details", "(d) => d.open")
    assert page.is_visible("input[name='model.num_layers']")
    watch.load_query("?engine=sglang")
    assert page.eval_on_selector("details.fold-hardware-details", "(d) => d.open")
    assert page.input_value("select[name='deploy.engine']") == "sglang"
    watch.load_query("")


def test_a_link_with_set_fields_opens_their_folds_on_arrival(module_context, site_url):
    # the form is built before Python boots: no need to wait for it
    arriving = module_context.new_page()
    try:
        arriving.goto(site_url + "?engine=sglang&kvdtype=fp8")
        arriving.wait_for_selector("body[data-form-ready='true']", state="attached", timeout=BOOT_TIMEOUT_MS)
        assert arriving.eval_on_selector("details.fold-model-details", "(d) => d.open")
        assert arriving.eval_on_selector("details.fold-hardware-details", "(d) => d.open")
        assert arriving.input_value("select[name='deploy.engine']") == "sglang"
    finally:
        arriving.close()


def test_a_phone_shows_the_headline_between_the_essentials_and_the_traffic(watch, page):
    headline = page.eval_on_selector("#results .headline", TOP)
    gpus = page.eval_on_selector("input[name='hardware.num_gpus']", TOP)
    first_traffic_field = page.eval_on_selector(".section-workload .field", TOP)
    assert gpus < headline < first_traffic_field
    # and the numbers beyond the headline come after the form
    calculate = page.eval_on_selector("#calculate", TOP)
    assert page.eval_on_selector(".results-more", TOP) > calculate
    sections = page.eval_on_selector_all("#results > section", "(nodes) => nodes.filter((n) => n.getClientRects().length)"
                                         ".map((n) => n.getBoundingClientRect().top)")
    assert sections and min(sections) > calculate


@pytest.mark.parametrize("language", ["en", "zh"])
def test_nothing_widens_a_phone_page(everything_open, page, language):
    if page.get_attribute("html", "lang") != ("en" if language == "en" else "zh-CN"):
        page.click("#language-switch")
        page.wait_for_selector(f"html[lang='{'en' if language == 'en' else 'zh-CN'}']", state="attached")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # the routing table is wider than the phone: it scrolls inside its own box
    box = page.eval_on_selector("#routing-table", "(n) => [n.scrollWidth, n.clientWidth]")
    assert box[0] > box[1]
    [(_, lines)] = page.eval_on_selector_all("#language-switch", LINE_COUNTS)
    assert lines == 1
    everything_open.assert_clean()


def test_a_desktop_keeps_the_results_beside_the_form_in_view(everything_open, page):
    with viewport(page, DESKTOP):
        form = page.eval_on_selector("#scenario-form", "(n) => n.getBoundingClientRect().toJSON()")
        panel = page.eval_on_selector("#results-panel", "(n) => n.getBoundingClientRect().toJSON()")
        assert panel["left"] >= form["right"]
        page.eval_on_selector("#calculate", "(n) => n.scrollIntoView({ block: 'end' })")
        assert page.evaluate("window.scrollY") > DESKTOP["height"]  # the form is far taller than the window
        headline = page.eval_on_selector("#results .headline", "(n) => n.getBoundingClientRect().toJSON()")
        assert 0 <= headline["top"] and headline["bottom"] <= DESKTOP["height"]
        # no metric value breaks over two lines, in either language
        for _ in range(2):
            counts = page.eval_on_selector_all("#results .metric-row .metric-value", LINE_COUNTS)
            assert counts and all(lines == 1 for _, lines in counts), [c for c in counts if c[1] != 1]
            [(_, lines)] = page.eval_on_selector_all("#language-switch", LINE_COUNTS)
            assert lines == 1
            page.click("#language-switch")
        page.evaluate("window.scrollTo(0, 0)")
    everything_open.assert_clean()
