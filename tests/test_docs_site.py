"""The docs as site pages: scripts/render_docs.py renders every docs/*.md into a temp dir; every page
is there with the calculator's CSP, every internal link and #anchor resolves, every image exists,
and every docs target the page's explanations (js/explain-i18n.js) link to exists."""

from __future__ import annotations

import importlib.util
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _load_renderer():
    spec = importlib.util.spec_from_file_location("render_docs", ROOT / "scripts" / "render_docs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass resolves annotations through sys.modules
    spec.loader.exec_module(module)
    return module


class _Page(HTMLParser):
    """Ids, links, images, inline styles and the CSP meta of one HTML page."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[str] = []
        self.stylesheets: list[str] = []
        self.inline_styles = 0
        self.scripts = 0
        self.csp: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if "style" in attributes:
            self.inline_styles += 1
        if tag == "a" and "href" in attributes:
            self.links.append(attributes["href"])
        if tag == "img":
            self.images.append(attributes.get("src", ""))
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes["href"])
        if tag == "script":
            self.scripts += 1
        if tag == "meta" and attributes.get("http-equiv") == "Content-Security-Policy":
            self.csp = attributes.get("content")


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    renderer = _load_renderer()
    pages = renderer.render_docs(DOCS, out, ROOT / "index.html")
    return out, pages, renderer


def _index_csp() -> str:
    match = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', (ROOT / "index.html").read_text())
    assert match
    return match.group(1)


def test_every_markdown_file_is_a_page_with_the_calculators_csp(rendered):
    out, pages, _ = rendered
    sources = sorted(path.stem for path in DOCS.glob("*.md"))
    assert sorted(page.name for page in pages) == sources
    assert {"accuracy", "memory_accuracy", "tiers_accuracy", "routing_accuracy", "traffic_accuracy"} <= set(sources)
    csp = _index_csp()
    for name in [*sources, "index"]:
        page = _parse(out / f"{name}.html")
        assert page.csp == csp, name
        assert page.scripts == 0 and page.inline_styles == 0, name  # the CSP would refuse inline styles
        assert page.stylesheets == ["docs.css"] and (out / "docs.css").is_file()
        assert "../index.html" in page.links, f"{name}: no way back to the calculator"


def test_markdown_features_render(rendered):
    out, _, _ = rendered
    scenario = (out / "scenario.html").read_text()
    assert "<table>" in scenario and "<th>" in scenario  # tables
    assert "<pre><code" in (out / "scenario.html").read_text()  # fenced code
    model = _parse(out / "model.html")
    assert {"token-and-request-hit-rates", "characteristic-time", "occupancy", "the-seeds-formula"} <= model.ids
    accuracy = _parse(out / "accuracy.html")
    assert "accuracy.png" in accuracy.images


def test_every_internal_link_anchor_and_image_resolves(rendered):
    out, _, _ = rendered
    problems = []
    for html_file in sorted(out.glob("*.html")):
        page = _parse(html_file)
        for src in page.images:
            if not (out / src).is_file():
                problems.append(f"{html_file.name}: image {src}")
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https", "mailto"):
                continue
            if parts.path.endswith(".md"):
                problems.append(f"{html_file.name}: link to Markdown {href}")
                continue
            if parts.path == "../index.html":
                assert (ROOT / "index.html").is_file()
                continue
            target = out / parts.path if parts.path else html_file
            if not target.is_file():
                problems.append(f"{html_file.name}: missing page {href}")
                continue
            if parts.fragment and parts.fragment not in _parse(target).ids:
                problems.append(f"{html_file.name}: missing anchor {href}")
    assert problems == []


def test_index_lists_every_page_with_descriptions_in_both_languages(rendered):
    out, pages, renderer = rendered
    index = (out / "index.html").read_text()
    for page in pages:
        english, chinese = renderer.DESCRIPTIONS[page.name]
        assert f'href="{page.name}.html"' in index
        assert english and chinese and re.search(r"[\u4e00-\u9fff]", chinese)


def test_a_document_without_a_description_fails_the_build(rendered, tmp_path):
    _, _, renderer = rendered
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "new_page.md").write_text("# New\n")
    with pytest.raises(SystemExit, match="new_page"):
        renderer.render_docs(docs, tmp_path / "out", ROOT / "index.html")


def test_explanation_links_point_at_existing_sections(rendered):
    out, _, _ = rendered
    source = (ROOT / "js" / "explain-i18n.js").read_text(encoding="utf-8")
    constants = dict(re.findall(r'^const (\w+) = "([^"]+)";', source, flags=re.M))
    targets = set(re.findall(r'"([a-z_]+\.html#[^"]+)"', source))
    targets |= {f"{constants['G']}{anchor}" for anchor in re.findall(r"`\$\{G\}(#[^`]+)`", source)}
    targets |= {value for value in constants.values() if ".html" in value and "#" in value}
    assert len(targets) > 20
    for target in sorted(targets):
        page, anchor = target.split("#")
        assert (out / page).is_file(), target
        assert anchor in _parse(out / page).ids, target
