"""The deployment to copy on the page: Python's command text shown as is, the engine and checkpoint in
the form and the share link, each advice item's command line, Copy, and hostile checkpoints refused.
One booted page for the module."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import cpython_answer, reveal


@pytest.fixture(scope="module")
def watch(module_context, open_site):
    return open_site(module_context, "?engine=sglang&hf=my-org/my-model-ft&replicas=2")


def shown(watch) -> str:
    return watch.page.text_content("#deploy .deploy-text")


def test_the_linked_deployment_is_pythons(watch):
    scenario = watch.scenario()
    assert scenario["deploy"] == {"engine": "sglang", "model_id": "my-org/my-model-ft"}
    expected = cpython_answer("analyze", {"scenario": scenario})["deploy"]
    assert shown(watch) == expected["current"]["text"]
    assert "python -m sglang.launch_server" in shown(watch) and "sglang_router.launch_router" in shown(watch)
    rows = watch.page.eval_on_selector_all("#deploy tr[data-flag]", "(rows) => rows.map((r) => r.dataset.flag)")
    assert rows == [f["name"] for f in expected["current"]["flags"]]
    hrefs = watch.page.eval_on_selector_all("#deploy tr[data-flag] a", "(links) => links.map((a) => a.href)")
    assert hrefs and all(h.startswith("https://github.com/") for h in hrefs)
    advice = watch.page.eval_on_selector_all(
        "#advice .advice-item", "(items) => items.map((i) => [i.dataset.advice, i.querySelector('.deploy-text')?.textContent])")
    assert advice and all(text == expected["advice"][item]["text"] for item, text in advice)
    watch.assert_clean()


def test_switching_the_engine_rewrites_the_command_and_the_link(watch):
    reveal(watch.page, "select[name='deploy.engine']")  # folded under the GPU
    watch.page.select_option("select[name='deploy.engine']", "vllm")
    watch.wait_idle()
    watch.page.wait_for_selector("#deploy .deploy-text:has-text('vllm serve my-org/my-model-ft')")
    assert cpython_answer("deploy", {"scenario": watch.scenario()})["current"]["text"] == shown(watch)
    query = parse_qs(urlsplit(watch.page.url).query)
    assert query.get("engine") is None or query["engine"] == ["vllm"]  # the default need not travel
    assert query["hf"] == ["my-org/my-model-ft"]
    watch.page.click("#deploy .deploy-copy")
    watch.page.wait_for_selector("#deploy .deploy-copy-status:not(:empty)")
    watch.assert_clean()


def test_a_hostile_checkpoint_is_refused_in_the_form_and_in_a_link(watch):
    reveal(watch.page, "input[name='deploy.model_id']")
    field = watch.page.locator("input[name='deploy.model_id']")
    field.fill("x; rm -rf /")
    field.dispatch_event("change")
    watch.wait_idle()
    watch.page.wait_for_selector("#field-deploy-model_id-error:not(:empty)")
    assert "Checkpoint: " in watch.page.text_content("#field-deploy-model_id-error")  # the label, not deploy.model_id
    assert "rm -rf" not in (shown(watch) or "")
    field.fill("")
    field.dispatch_event("change")
    watch.wait_idle()
    watch.load_query("?hf=%24(reboot)")
    notices = watch.page.text_content("#notices")
    assert "hf" in notices
    assert "reboot" not in shown(watch)
    assert "meta-llama/Llama-3.1-8B" in shown(watch)
    assert watch.problems() == []


def test_long_command_lines_scroll_in_their_box_on_a_phone(module_context, open_site):
    # a CPU tier's --kv-transfer-config JSON is one long line: it must not widen the results column
    phone = open_site(module_context, "?tier=cpu:100gb")
    phone.page.set_viewport_size({"width": 390, "height": 844})
    phone.page.wait_for_selector("#deploy .deploy-text:has-text('OffloadingConnector')")
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    phone.page.evaluate("document.querySelectorAll('#deploy, .advice-deploy').forEach((e) => e.hidden = true)")
    assert width == phone.page.evaluate("document.documentElement.scrollWidth")
    phone.assert_clean()
