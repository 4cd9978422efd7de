"""`archlint check --format html`: one self-contained page, checked in headless Chromium.

The page is written through the command line, loaded in Debian's `chromium`
(installed by .ci/run; these tests skip only where it is not installed), and
asserted through the DOM after its script ran (`--dump-dom`): the summary,
each finding in its file's group, the filters, the resource graph's boxes and
the missing parts. The raw page is checked to fetch nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REFERENCES, ROOT, run_archlint

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"
)
DOCS = "https://github.com/archlint/archlint/blob/main/docs/rules.md#"


class Page(HTMLParser):
    """Elements as (tag, attributes, text inside), for assertions without a DOM library."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": list(self._open)}
        self.elements.append(element)
        if tag not in {"meta", "input", "br", "link", "img", "path", "rect"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i]["tag"] == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element["text"] += data

    def find(self, tag: str, **attrs: str) -> list[dict]:
        return [
            e
            for e in self.elements
            if e["tag"] == tag and all(e["attrs"].get(k.rstrip("_")) == v for k, v in attrs.items())
        ]


def _report(tmp_path: Path, *args: str) -> tuple[Path, subprocess.CompletedProcess]:
    output = tmp_path / "report.html"
    result = run_archlint("check", "--format", "html", "--output", str(output), *args)
    assert result.returncode in (0, 1), result.stderr.decode()
    assert b"Traceback" not in result.stderr
    return output, result


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, timeout=120, check=True)


def _dom(tmp_path: Path, page: Path, fragment: str = "") -> Page:
    result = _chromium(tmp_path, "--dump-dom", page.as_uri() + fragment)
    return Page(result.stdout.decode("utf-8"))


def _json(*args: str) -> dict:
    return json.loads(run_archlint("check", "--format", "json", *args).stdout)


PAID = [str(REFERENCES / "paid-content.yaml"), str(FIXTURES / "AL304" / "bad.yaml")]
WEBSITE_BAD = str(FIXTURES / "AL901" / "bad.yaml")


@needs_chromium
def test_findings_summary_filters_and_graph_through_the_dom(tmp_path: Path):
    page, _ = _report(tmp_path, *PAID, WEBSITE_BAD)
    expected = _json(*PAID, WEBSITE_BAD)
    dom = _dom(tmp_path, page)
    assert dom.find("body", **{"data-ready": "true"}), "the page's script did not run"
    for key, value in expected["summary"].items():
        (count,) = dom.find("span", id=f"count-{key}")
        assert count["text"] == str(value), key
    (shown,) = dom.find("b", id="shown")
    total = len(expected["findings"])
    assert shown["text"] == f"{total} of {total}"
    # Each finding in its file's group, with its rule, line, message and doc link.
    for finding in expected["findings"]:
        articles = [
            a
            for a in dom.find("article", **{"data-rule": finding["rule_id"]})
            if a["attrs"]["data-line"] == str(finding["line"] or "")
            and finding["message"] in a["text"]
        ]
        assert articles, finding
        groups = [p for p in articles[0]["parents"] if p["tag"] == "section"]
        assert groups[-1]["attrs"]["data-file"] == finding["file"]
        assert finding["fix"] in articles[0]["text"]
        links = [e for e in dom.find("a") if e in dom.elements and articles[0] in e["parents"]]
        assert any(link["attrs"]["href"].startswith(DOCS) for link in links)
        if finding["line"]:  # the template's own line, highlighted
            hits = [
                e
                for e in dom.find("span", **{"data-line": str(finding["line"])})
                if articles[0] in e["parents"] and "hit" in e["attrs"]["class"]
            ]
            assert len(hits) == 1
    # The filter controls.
    severities = {e["attrs"]["value"] for e in dom.find("input", class_="severity-filter")}
    assert severities == {"error", "warning", "info"}
    options = {e["attrs"]["value"] for e in dom.find("option")}
    assert options == {""} | {f["rule_id"] for f in expected["findings"]}
    # One SVG box per drawn resource, with its logical id; the missing parts marked.
    figures = {
        [p for p in e["parents"] if p["tag"] == "section"][-1]["attrs"]["data-file"]: e
        for e in dom.find("figure")
    }
    assert set(figures) == {*PAID, WEBSITE_BAD}
    nodes = [e for e in dom.find("g") if "node" in e["attrs"].get("class", "").split()]
    mermaid = run_archlint("graph", PAID[0]).stdout.decode()
    drawn = set(re.findall(r"^  (\w+)\[", mermaid, re.M))
    reference_nodes = {e["attrs"]["data-id"] for e in nodes if figures[PAID[0]] in e["parents"]}
    assert reference_nodes == drawn
    for node in nodes:
        if node["attrs"]["data-missing"] == "false":
            assert node["attrs"]["data-id"] in node["text"]
    missing = [e for e in nodes if e["attrs"]["data-missing"] == "true"]
    assert missing and all(figures[WEBSITE_BAD] in e["parents"] for e in missing)
    assert all("missing" in e["attrs"]["class"] for e in missing)
    missing_edges = [
        e for e in dom.find("g", **{"data-missing": "true"}) if "edge" in e["attrs"]["class"]
    ]
    assert missing_edges
    # As many as `archlint graph` draws, each labelled with its catalogue entry.
    gaps = json.loads(run_archlint("graph", "--format", "json", WEBSITE_BAD).stdout)["missing"]
    assert len(missing) == len(gaps) == 4
    for gap in gaps:
        entry = gap["label"].split(")")[0] + ")"
        assert any(entry in e["text"] for e in missing), entry


@needs_chromium
def test_filters_apply_in_the_browser(tmp_path: Path):
    page, _ = _report(tmp_path, *PAID)
    warnings = [f for f in _json(*PAID)["findings"] if f["severity"] == "warning"]
    dom = _dom(tmp_path, page, "#severity=warning")
    articles = dom.find("article")
    visible = [a for a in articles if "hidden" not in a["attrs"]]
    assert len(visible) == len(warnings) and all(
        a["attrs"]["data-severity"] == "warning" for a in visible
    )
    dom = _dom(tmp_path, page, "#rule=AL999")  # no such rule: the select keeps "all rules"
    assert all("hidden" not in a["attrs"] for a in dom.find("article"))


@needs_chromium
def test_screenshot_is_a_png(tmp_path: Path):
    page, _ = _report(tmp_path, *PAID)
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,2000", page.as_uri())
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1400, 2000)
    assert 20_000 < len(data) < 5_000_000


def test_the_page_fetches_nothing(tmp_path: Path):
    page, _ = _report(tmp_path, *PAID, WEBSITE_BAD)
    text = page.read_text("utf-8")
    dom = Page(text)
    assert not dom.find("link") and not dom.find("img") and not dom.find("iframe")
    assert all("src" not in e["attrs"] for e in dom.elements)
    (script,) = dom.find("script")
    (style,) = dom.find("style")
    assert "http" not in script["text"] and "http" not in style["text"]
    assert "url(" not in style["text"]
    (csp,) = dom.find("meta", **{"http-equiv": "Content-Security-Policy"})
    assert csp["attrs"]["content"].startswith("default-src 'none'")
    # Every URL in an attribute is a rule-doc link; template text may mention URLs (as text).
    for element in dom.elements:
        for name, value in element["attrs"].items():
            if value and re.search(r"(?i)https?:|//", value) and name != "content":
                assert element["tag"] == "a" and name == "href" and value.startswith(DOCS)
    assert "xmlns" not in text


HOSTILE = """\
AWSTemplateFormatVersion: "2010-09-09"
Metadata:
  archlint:
    architectures: [serverless-website]
Resources:
  Site:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: "</pre><script>document.title='pwned'</script>\\u202e"
      WebsiteConfiguration: {IndexDocument: "<img src=x onerror=alert(1)>"}
  "Evil</svg><script>alert(2)</script>":
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins: [{Id: s3, DomainName: !GetAtt Site.RegionalDomainName, S3OriginConfig: {}}]
        # </pre><script>document.title='pwned'</script> \u202e reversed
        DefaultCacheBehavior: {TargetOriginId: s3, ViewerProtocolPolicy: allow-all}
"""


def test_template_text_is_escaped(tmp_path: Path):
    template = tmp_path / "hostile.yaml"
    template.write_text(HOSTILE, encoding="utf-8")
    page, _ = _report(tmp_path, str(template))
    text = page.read_text("utf-8")
    dom = Page(text)
    assert len(dom.find("script")) == 1
    assert not dom.find("img")
    assert "<script>document" not in text and "&lt;/pre&gt;&lt;script&gt;" in text
    assert "\u202e" not in text
    if Path(CHROMIUM).exists():
        dumped = _dom(tmp_path, page)
        assert dumped.find("title")[0]["text"] == "archlint report"
        assert len(dumped.find("script")) == 1


def test_html_to_standard_output_and_from_standard_input():
    source = (FIXTURES / "AL304" / "bad.yaml").read_bytes()
    result = run_archlint("check", "--format", "html", "-", stdin=source)
    assert result.returncode == 1
    page = Page(result.stdout.decode("utf-8"))
    assert page.find("article") and page.find("section", **{"data-file": "-"})
    assert b"Traceback" not in result.stderr


def test_html_is_a_listed_format():
    result = run_archlint("check", "--help")
    assert b"html" in result.stdout
    assert ROOT.joinpath("docs", "report.png").read_bytes().startswith(b"\x89PNG")


def test_standard_input_under_a_name_does_not_show_the_file_of_that_name(tmp_path: Path):
    decoy = tmp_path / "named.yaml"
    decoy.write_text("# DECOY-LINE\n" * 200, encoding="utf-8")
    source = (FIXTURES / "AL304" / "bad.yaml").read_bytes()
    result = run_archlint(
        "check", "--format", "html", "--stdin-filename", str(decoy), "-", stdin=source
    )
    assert result.returncode == 1, result.stderr.decode()
    page = Page(result.stdout.decode("utf-8"))
    assert page.find("section", **{"data-file": str(decoy)}) and page.find("article")
    assert "DECOY-LINE" not in result.stdout.decode("utf-8")
