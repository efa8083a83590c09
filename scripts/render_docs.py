"""Render docs/*.md into static HTML pages of the site (called by scripts/build_site.sh)."""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

REPO = Path(__file__).resolve().parent.parent
STYLESHEET = REPO / "docs.css"

# One line per page for the docs index, in English and Chinese; a page without one fails the build,
# so a new document cannot appear on the site undescribed.
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "model": ("How the hit rates are derived: the LRU stack, the compound-Poisson eviction count, occupancy.",
              "命中率的推导：LRU 栈、复合泊松的淘汰计数、缓存占用构成。"),
    "glossary": ("The terms the calculator page uses: percentage points, MFU, ideal prefill speedup, the old formula.",
                 "计算器页面用到的术语：百分点、MFU、理想预填充加速比、旧的一行公式。"),
    "memory": ("How vLLM and SGLang size the KV cache at startup, and how the calculator follows them.",
               "vLLM 与 SGLang 启动时如何确定 KV 缓存大小，以及计算器如何复现。"),
    "planning": ("Tiers below the GPU, replicas and routing, pinned KV, latency and cost, the advisor.",
                 "GPU 之下的缓存层、副本与路由、被占用的 KV、延迟与成本、优化建议。"),
    "scenario": ("Every scenario field and every output of predict, with units and defaults.",
                 "每个场景字段与 predict 的每项输出，含单位和默认值。"),
    "simulation": ("The block-level simulator behind “Verify by simulation”: warm-up, window, intervals.",
                   "“仿真验证”背后的块级仿真器：预热、统计窗口、置信区间。"),
    "trace": ("Trace replay: formats, the one-pass LRU curve, and fitting traffic to a trace.",
              "轨迹回放：文件格式、一遍扫描的 LRU 曲线，以及按轨迹拟合流量。"),
    "deploy": ("The vLLM / SGLang command line the page writes, flag by flag.",
               "页面生成的 vLLM / SGLang 启动命令，逐个参数说明。"),
    "diagnose": ("Diagnose a running deployment from its /metrics scrapes.",
                 "根据 /metrics 抓取结果诊断正在运行的部署。"),
    "accuracy": ("Accuracy report: the closed form against a block-level simulation on 100 random scenarios.",
                 "准确性报告：在 100 个随机场景上对比公式与块级仿真。"),
    "memory_accuracy": ("Accuracy report: predicted KV cache sizes against public engine startup logs.",
                        "准确性报告：预测的 KV 缓存大小与公开的引擎启动日志对比。"),
    "tiers_accuracy": ("Accuracy report: tiered caches, closed form against simulation.",
                       "准确性报告：分层缓存下公式与仿真的对比。"),
    "routing_accuracy": ("Accuracy report: prefix-blind routing, closed form against simulation.",
                         "准确性报告：不感知前缀的路由下公式与仿真的对比。"),
    "traffic_accuracy": ("Accuracy report: traffic classes, distributions and fitted traces.",
                         "准确性报告：流量类别、分布与拟合轨迹。"),
    "performance": ("How fast the page and the Python package are.",
                    "页面与 Python 包的运行速度。"),
    "web": ("How the web page is built: files, worker protocol, share links, tests.",
            "网页的实现：文件、Worker 协议、分享链接、测试。"),
}

NAV_CALCULATOR = "← Calculator · 计算器"
NAV_INDEX = "All docs · 全部文档"
INDEX_TITLE = "Documentation · 文档"
CSP_PATTERN = re.compile(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">')


@dataclass
class RenderedPage:
    """One rendered document: its source stem, title and output file."""

    name: str
    title: str
    path: Path


class _DocLinks(Treeprocessor):
    """Point links between documents (x.md, x.md#part) at their rendered pages (x.html)."""

    def run(self, root: etree.Element) -> None:
        for anchor in root.iter("a"):
            href = anchor.get("href", "")
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.endswith(".md"):
                continue
            target = parts.path[: -len(".md")] + ".html"
            anchor.set("href", target + (f"#{parts.fragment}" if parts.fragment else ""))


class _DocLinksExtension(Extension):
    """Registers the link rewriter after the inline patterns have made the <a> elements."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_DocLinks(md), "doc_links", 5)


def csp_meta(index_html: Path) -> str:
    """The Content-Security-Policy meta tag of the calculator page, so the docs carry the same policy."""
    found = CSP_PATTERN.search(index_html.read_text(encoding="utf-8"))
    if not found:
        raise SystemExit(f"render_docs: no Content-Security-Policy meta in {index_html}")
    return found.group(0)


def page_html(title: str, body: str, csp: str, *, is_index: bool = False) -> str:
    """A complete page: head with the CSP and the docs stylesheet, the nav, the body."""
    nav_index = "" if is_index else f'<a href="index.html">{html.escape(NAV_INDEX)}</a>'
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  {csp}
  <title>{html.escape(title)}</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="docs.css">
</head>
<body>
  <nav class="docs-nav"><a href="../index.html">{html.escape(NAV_CALCULATOR)}</a>{nav_index}</nav>
  <main class="docs-page">
{body}
  </main>
</body>
</html>
"""


def converter() -> markdown.Markdown:
    """The Markdown converter: tables (align attributes, no inline style the CSP would refuse), fenced code, heading ids."""
    return markdown.Markdown(
        extensions=["tables", "fenced_code", "toc", _DocLinksExtension()],
        extension_configs={"tables": {"use_align_attribute": True}},
        output_format="html",
    )


def title_of(source: str, fallback: str) -> str:
    """The text of the document's first level-1 heading (without Markdown code marks)."""
    for line in source.splitlines():
        if line.startswith("# "):
            return line[2:].replace("`", "").strip()
    return fallback


def render_docs(docs_dir: Path, out_dir: Path, index_html: Path) -> list[RenderedPage]:
    """Write out_dir/<name>.html for every docs_dir/*.md, the index page, the images and the stylesheet."""
    csp = csp_meta(index_html)
    sources = sorted(docs_dir.glob("*.md"))
    undescribed = [path.stem for path in sources if path.stem not in DESCRIPTIONS]
    if undescribed:
        raise SystemExit(f"render_docs: add a line to DESCRIPTIONS in scripts/render_docs.py for {', '.join(undescribed)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = []
    for path in sources:
        source = path.read_text(encoding="utf-8")
        body = converter().convert(source)
        title = title_of(source, path.stem)
        target = out_dir / f"{path.stem}.html"
        target.write_text(page_html(title, body, csp), encoding="utf-8")
        pages.append(RenderedPage(path.stem, title, target))
    for image in sorted(docs_dir.glob("*.png")):
        shutil.copyfile(image, out_dir / image.name)
    shutil.copyfile(STYLESHEET, out_dir / "docs.css")
    order = {name: position for position, name in enumerate(DESCRIPTIONS)}
    items = []
    for page in sorted(pages, key=lambda page: order[page.name]):
        english, chinese = DESCRIPTIONS[page.name]
        items.append(
            f'<li data-doc="{page.name}"><a href="{page.name}.html">{html.escape(page.title)}</a>'
            f'<p>{html.escape(english)}</p><p lang="zh-CN">{html.escape(chinese)}</p></li>'
        )
    body = f"<h1>{html.escape(INDEX_TITLE)}</h1>\n<ul class=\"docs-index\">\n" + "\n".join(items) + "\n</ul>"
    (out_dir / "index.html").write_text(page_html(INDEX_TITLE, body, csp, is_index=True), encoding="utf-8")
    return pages


def main(argv: list[str] | None = None) -> int:
    """Command line: render_docs.py OUT_DIR [--docs DIR] [--index-html FILE]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--docs", type=Path, default=REPO / "docs")
    parser.add_argument("--index-html", type=Path, default=REPO / "index.html")
    args = parser.parse_args(argv)
    pages = render_docs(args.docs, args.out_dir, args.index_html)
    print(f"render_docs: wrote {len(pages)} pages and the index to {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
