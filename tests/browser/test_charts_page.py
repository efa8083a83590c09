"""Charts people can read: every chart names its series in a legend, titles its axes with units, marks
the scenario's value from Python's analysis (and a baseline's, dashed), follows the page language, and
exports a PNG drawn again with its title on white. One booted page for the module."""

from __future__ import annotations

import base64
import math
import re
import struct

import pytest

from conftest import cpython_answer

# What a drawn chart shows, read from its Chart.js instance: the legend as rendered, axis titles and
# tick labels as formatted, the markers (from data.markers) and each dataset's role and points.
CHART_INFO = """(canvas) => {
  const chart = window.Chart.getChart(canvas);
  if (!chart) return null;
  const axis = (id) => (chart.scales[id] ? {
    title: chart.options.scales[id].title.display ? chart.options.scales[id].title.text : null,
    ticks: chart.scales[id].ticks.map((tick) => tick.label) } : null);
  return {
    legend: chart.options.plugins.legend.display ? chart.legend.legendItems.map((item) => item.text) : [],
    x: axis('x'), y: axis('y'),
    markers: (chart.data.markers || []).map((m) => ({ kind: m.kind, x: m.x, category: m.category, legend: m.legend })),
    datasets: chart.data.datasets.map((d) => ({ label: d.label, role: d.role || null, dashed: Array.isArray(d.borderDash),
      data: d.data.map((p) => (p !== null && typeof p === 'object' && !Array.isArray(p) ? p.y : p)) })),
    labels: chart.data.labels || [],
  };
}"""

CHART_BY_NAME = f"""(name) => ({CHART_INFO})(document.querySelector(`canvas[data-chart="${{name}}"]`))"""

# A ChartPanel of its own on fresh canvases (the page's charts stay as they are), drawn with a baseline.
DRAW_WITH_BASELINE = f"""async ([analysis, baseline]) => {{
  const {{ ChartPanel, chartImage }} = await import('./js/charts.js');
  document.querySelector('#test-charts')?.remove();
  const box = document.createElement('div');
  box.id = 'test-charts';
  const canvas = (name) => {{
    const holder = document.createElement('div');
    holder.style.position = 'relative';
    holder.style.width = '720px';
    holder.style.height = '320px';
    const element = document.createElement('canvas');
    element.dataset.test = name;
    holder.append(element);
    box.append(holder);
    return element;
  }};
  const sweeps = document.createElement('div');
  const panel = new ChartPanel({{ memoryCanvas: canvas('memory'), sweepsContainer: sweeps, tornadoCanvas: canvas('tornado'),
    tierCanvas: canvas('tier'), routingCanvas: canvas('routing') }});
  box.append(sweeps);
  document.body.append(box);
  panel.draw(analysis, {{ baseline }});
  panel.drawRouting(analysis.routing, baseline.routing);
  const info = {CHART_INFO};
  const out = {{}};
  for (const element of box.querySelectorAll('canvas')) {{
    const name = element.dataset.test || element.dataset.chart;
    out[name] = {{ ...info(element), stem: chartImage(element).stem }};
  }}
  return out;
}}"""

DECODE_PNG = """async (dataUrl) => {
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  const at = (x, y) => Array.from(data.slice((y * canvas.width + x) * 4, (y * canvas.width + x) * 4 + 4));
  let transparent = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) transparent++;
  // dark pixels in the band above the plot, across the middle half (where the centred title is)
  let titleInk = 0;
  for (let y = 0; y < Math.round(canvas.height * 0.06); y++) {
    for (let x = Math.round(canvas.width * 0.25); x < Math.round(canvas.width * 0.75); x++) {
      const [r, g, b] = at(x, y);
      if (r < 90 && g < 90 && b < 90) titleInk++;
    }
  }
  return { width: canvas.width, height: canvas.height, corner: at(0, 0), transparent, titleInk };
}"""

UNIT_EN = {"conv/s": "conversations/s", "s": "s", "turns": "turns", "tokens": "tokens"}
GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})*(\.\d+)?$")


@pytest.fixture(scope="module")
def page(booted):
    return booted.page


def analysis_of(watch) -> dict:
    return cpython_answer("analyze", {"scenario": watch.scenario()})


def png_size(blob: bytes) -> tuple[int, int]:
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", blob[16:24])


def assert_readable_ticks(axis: dict, *, percent: bool):
    labels = [label for label in axis["ticks"] if label != ""]
    assert len(labels) >= 3, axis
    for label in labels:
        if percent:
            assert re.fullmatch(r"\d+(\.\d+)?%", label), label
        else:
            assert GROUPED.match(label), label  # digits grouped by thousands: 4,000 not 4000


def test_every_chart_has_legend_axis_titles_and_marker_at_the_scenario_value(booted, page):
    booted.wait_idle()
    analysis = analysis_of(booted)

    memory = page.evaluate(CHART_BY_NAME, "memory")
    curve = analysis["memory_curve"]
    assert curve["x_path"] == "hardware.memory_gib"
    assert memory["x"]["title"] == "Memory per GPU (GiB)" and memory["y"]["title"] == "Hit rate (%)"
    assert {"Token hit rate", "Request hit rate", "Old one-line formula", "Ceiling (token)", "This scenario"} <= set(memory["legend"])
    assert memory["legend"].count("This scenario") == 1
    assert memory["markers"] == [{"kind": "current", "x": curve["current"]["x"], "category": None, "legend": "This scenario"}]
    assert_readable_ticks(memory["x"], percent=False)
    assert_readable_ticks(memory["y"], percent=True)

    tier = page.evaluate(CHART_BY_NAME, "tier")
    assert tier["x"]["title"] == f"{analysis['tier_curve']['tier']} tier size per replica (GB)"
    assert tier["y"]["title"] == "Hit rate (%)"
    assert {"Token hit rate", "Request hit rate", "Token hits on the GPU", "This scenario"} <= set(tier["legend"])
    assert [m["x"] for m in tier["markers"]] == [analysis["tier_curve"]["current"]["x"]]

    assert len(analysis["sweeps"]) == 6
    for sweep in analysis["sweeps"]:
        chart = page.evaluate(CHART_BY_NAME, f"sweep:{sweep['path']}")
        assert chart["x"]["title"] == f"{sweep['label_en']} ({UNIT_EN[sweep['unit']]})", sweep["path"]
        assert chart["y"]["title"] == "Hit rate (%)"
        assert chart["legend"] == ["Token hit rate", "Request hit rate", "This scenario"]
        assert [(m["kind"], m["x"]) for m in chart["markers"]] == [("current", sweep["current"])]
        assert_readable_ticks(chart["x"], percent=False)
        assert_readable_ticks(chart["y"], percent=True)
    prompt = page.evaluate(CHART_BY_NAME, "sweep:workload.system_prompt_tokens")
    assert any("," in label for label in prompt["x"]["ticks"])  # the sweep reaches thousands of tokens

    tornado = page.evaluate(CHART_BY_NAME, "tornado")
    assert tornado["x"]["title"] == "Token hit rate (%)"
    assert tornado["y"]["title"] == "Field moved by −20% and +20%"
    assert tornado["legend"] == ["Field at −20%", "Field at +20%", "This scenario"]
    # Pyodide's libm may differ from CPython's in the last digits
    assert [m["kind"] for m in tornado["markers"]] == ["current"]
    assert math.isclose(tornado["markers"][0]["x"], analysis["tornado"]["base"], rel_tol=1e-9)
    assert tornado["labels"] == [bar["label_en"] for bar in analysis["tornado"]["bars"]]
    assert_readable_ticks(tornado["x"], percent=True)
    booted.assert_clean()


def test_routing_chart_frames_the_scenario_routing(booted, page):
    replicas = page.input_value("input[name='cluster.replicas']")
    page.fill("input[name='cluster.replicas']", "2")
    booted.wait_idle()
    page.wait_for_selector("#routing-result:not([hidden])", state="attached")
    routing = analysis_of(booted)["routing"]
    chart = page.evaluate(CHART_BY_NAME, "routing")
    assert chart["x"]["title"] == "Routing" and chart["y"]["title"] == "Hit rate (%)"
    assert chart["legend"] == ["Token hit rate", "Request hit rate", "This scenario's routing"]
    current = [row["routing"] for row in routing["rows"]].index(routing["current"])
    assert chart["markers"] == [{"kind": "current", "x": None, "category": current, "legend": "This scenario's routing"}]
    page.fill("input[name='cluster.replicas']", replicas)
    booted.wait_idle()
    booted.assert_clean()


def test_chinese_switch_relabels_every_chart(booted, page):
    booted.wait_idle()
    analysis = analysis_of(booted)
    page.click("#language-switch")
    booted.wait_idle()
    try:
        memory = page.evaluate(CHART_BY_NAME, "memory")
        assert memory["x"]["title"] == "每卡显存（GiB）" and memory["y"]["title"] == "命中率（%）"
        assert {"Token 命中率", "请求命中率", "当前场景"} <= set(memory["legend"])
        think = page.evaluate(CHART_BY_NAME, "sweep:workload.think_time_s")
        assert think["x"]["title"] == "思考时间（秒）"
        assert think["legend"] == ["Token 命中率", "请求命中率", "当前场景"]
        rate = page.evaluate(CHART_BY_NAME, "sweep:workload.arrival_rate")
        assert rate["x"]["title"] == "会话到达率（会话/秒）"
        tornado = page.evaluate(CHART_BY_NAME, "tornado")
        assert tornado["x"]["title"] == "Token 命中率（%）"
        assert tornado["legend"] == ["字段 −20%", "字段 +20%", "当前场景"]
        assert tornado["labels"] == [bar["label_zh"] for bar in analysis["tornado"]["bars"]]
        tier = page.evaluate(CHART_BY_NAME, "tier")
        assert tier["x"]["title"] == f"每副本 {analysis['tier_curve']['tier']} 层大小（GB）"
        assert page.text_content("button[data-png-all='sweeps']") == "PNG（全部敏感性图）"
    finally:
        page.click("#language-switch")
        booted.wait_idle()
    assert page.evaluate(CHART_BY_NAME, "memory")["x"]["title"] == "Memory per GPU (GiB)"
    assert page.text_content("button[data-png-all='sweeps']") == "PNG (all sweeps)"
    booted.assert_clean()


def download(page, selector: str):
    with page.expect_download() as info:
        page.click(selector)
    return info.value.suggested_filename, open(info.value.path(), "rb").read()


def test_png_exports_carry_title_legend_on_white_and_say_what_they_are(booted, page):
    booted.wait_idle()
    plot = page.evaluate("""() => { const area = window.Chart.getChart(document.querySelector('canvas[data-chart="memory"]')).chartArea;
        return { width: area.right - area.left, height: area.bottom - area.top }; }""")
    name, blob = download(page, "button[data-png='memory']")
    assert name == "kvcache-hit-rate-vs-memory-per-gpu.png"
    width, height = png_size(blob)
    decoded = page.evaluate(DECODE_PNG, "data:image/png;base64," + base64.b64encode(blob).decode())
    assert (decoded["width"], decoded["height"]) == (width, height)
    assert width > plot["width"] and height > plot["height"]
    assert decoded["corner"] == [255, 255, 255, 255] and decoded["transparent"] == 0
    assert decoded["titleInk"] > 200  # the title is drawn on the canvas

    name, blob = download(page, "button[data-png-sweep='workload.think_time_s']")
    assert name == "kvcache-hit-rate-vs-think-time.png"
    sweep = page.evaluate(DECODE_PNG, "data:image/png;base64," + base64.b64encode(blob).decode())
    assert sweep["transparent"] == 0 and sweep["titleInk"] > 100

    assert page.is_visible("button[data-png-all='sweeps']")
    name, blob = download(page, "button[data-png-all='sweeps']")
    assert name == "kvcache-sensitivity-sweeps.png"
    grid_width, grid_height = png_size(blob)
    assert grid_width == 2 * sweep["width"] and grid_height > 3 * sweep["height"]  # 2 × 3 sweeps under one title

    name, blob = download(page, "button[data-png='tornado']")
    assert name == "kvcache-token-hit-rate-swings-plus-minus-20-pct.png"
    assert png_size(blob)[0] > 0
    booted.assert_clean()


def test_baseline_is_drawn_dashed_with_its_own_markers(booted, page):
    booted.wait_idle()
    scenario = booted.scenario()
    scenario["cluster"] = {**scenario.get("cluster", {}), "replicas": 2}
    analysis = cpython_answer("analyze", {"scenario": scenario})
    other = {**scenario, "workload": {**scenario["workload"], "think_time_s": 20},
             "hardware": {**scenario["hardware"], "memory_gib": 141},
             "cluster": {**scenario["cluster"], "routing": "random"}}
    baseline = cpython_answer("analyze", {"scenario": other})
    assert baseline["memory_curve"]["current"]["x"] != analysis["memory_curve"]["current"]["x"]
    drawn = page.evaluate(DRAW_WITH_BASELINE, [analysis, baseline])

    memory = drawn["memory"]
    by_role = {d["role"]: d for d in memory["datasets"] if d["role"]}
    assert by_role["baseline-token"]["dashed"] and by_role["baseline-request"]["dashed"]
    assert by_role["baseline-token"]["data"] == [p["token_hit_rate"] for p in baseline["memory_curve"]["points"]]
    assert {"Baseline: Token hit rate", "Baseline: Request hit rate", "This scenario", "Baseline"} <= set(memory["legend"])
    assert [(m["kind"], m["x"]) for m in memory["markers"]] == [
        ("current", analysis["memory_curve"]["current"]["x"]), ("baseline", baseline["memory_curve"]["current"]["x"])]
    assert memory["stem"] == "hit-rate-vs-memory-per-gpu-vs-baseline"

    for own, theirs in zip(analysis["sweeps"], baseline["sweeps"]):
        chart = drawn[f"sweep:{own['path']}"]
        lines = {d["role"]: d for d in chart["datasets"] if d["role"]}
        assert lines["baseline-request"]["data"] == [p["request_hit_rate"] for p in theirs["points"]]
        assert [(m["kind"], m["x"]) for m in chart["markers"]] == [("current", own["current"]), ("baseline", theirs["current"])]
    think = drawn["sweep:workload.think_time_s"]["markers"]
    assert think[0]["x"] != think[1]["x"]

    tornado = drawn["tornado"]
    assert [d["role"] for d in tornado["datasets"]][2:] == ["baseline-low", "baseline-high"]
    assert [m["x"] for m in tornado["markers"]] == [analysis["tornado"]["base"], baseline["tornado"]["base"]]
    assert "Baseline: Field at +20%" in tornado["legend"]

    tier = drawn["tier"]
    assert any(d["role"] == "baseline-token" for d in tier["datasets"])
    assert [m["kind"] for m in tier["markers"]] == ["current", "baseline"]

    routing = drawn["routing"]
    order = [row["routing"] for row in analysis["routing"]["rows"]]
    assert [d["role"] for d in routing["datasets"]] == ["token_hit_rate", "request_hit_rate",
                                                        "baseline-token_hit_rate", "baseline-request_hit_rate"]
    assert routing["datasets"][2]["data"] == [
        next(r["token_hit_rate"] for r in baseline["routing"]["rows"] if r["routing"] == name) for name in order]
    assert [(m["kind"], m["category"]) for m in routing["markers"]] == [
        ("current", order.index(analysis["routing"]["current"])), ("baseline", order.index("random"))]
    assert routing["stem"] == "hit-rate-by-routing-vs-baseline"

    # the page's own charts have no baseline
    assert not any(d["role"] and d["role"].startswith("baseline")
                   for d in page.evaluate(CHART_BY_NAME, "memory")["datasets"])
    page.evaluate("document.querySelector('#test-charts').remove()")
    booted.assert_clean()


def test_chart_strings_exist_in_both_languages(page):
    keys = page.evaluate("import('./js/charts-i18n.js').then((m) => m.CHARTS_STRING_KEYS)")
    assert keys["en"] == keys["zh"] and len(keys["en"]) > 20


def test_memory_caption_says_what_the_x_axis_is(booted, page):
    booted.load_query("")
    assert page.text_content("#chart-memory-title") == "Hit rate vs memory per GPU"
    booted.load_query("?cap=200000")
    assert page.text_content("#chart-memory-title") != "Hit rate vs memory per GPU"
    title = page.evaluate("""() => window.Chart.getChart(document.querySelector('canvas[data-chart="memory"]'))
        .options.scales.x.title.text""")
    assert "token" in title.lower()
    page.click("#language-switch")
    assert "显存" not in page.text_content("#chart-memory-title")
    page.click("#language-switch")
    booted.load_query("")
    booted.assert_clean()
