"""One self-contained HTML page: summary, findings by file with their lines, filters, pictures.

Nothing is fetched: the styles and the script are in the page, and its
Content-Security-Policy allows no other source (`default-src 'none'`) and
only this script and this style sheet, by hash, so markup that escaped the
escaping could run nothing. Every template-derived string (file names,
logical ids, messages, the template's own lines) is escaped, with its
control and bidirectional characters made visible. The excerpts and pictures
come on the report (`Report.views`, computed by the command); this module
sees only plain data.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import TextIO

from archlint import __version__
from archlint.engine import Report
from archlint.reporters.safe import visible
from archlint.rule import Finding
from archlint.svg import FileView, to_svg

CONTEXT = 3  # lines shown before and after a finding's line
SEVERITIES = ("error", "warning", "info")

STYLE = """
:root { --error: #b3261e; --warning: #a15c00; --info: #1f5fa8; --line: #d9dce1; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  margin: 0; color: #1d2330; background: #f5f6f8; }
header { background: #1d2330; color: #fff; padding: 14px 28px; }
header h1 { margin: 0; font-size: 20px; }
header .version { color: #aab2c0; font-size: 12px; }
main { padding: 18px 28px 40px; max-width: 1500px; }
ul.summary { display: flex; gap: 12px; list-style: none; padding: 0; margin: 0 0 16px; }
ul.summary li { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 8px 16px; min-width: 110px; }
ul.summary .count { display: block; font-size: 24px; font-weight: 650; }
ul.summary li[data-key=errors] .count { color: var(--error); }
ul.summary li[data-key=warnings] .count { color: var(--warning); }
ul.summary li[data-key=infos] .count { color: var(--info); }
form.filters { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 8px 16px; margin-bottom: 18px; display: flex; gap: 22px; align-items: center;
  flex-wrap: wrap; }
form.filters fieldset { border: 0; padding: 0; margin: 0; display: flex; gap: 12px; }
form.filters legend { float: left; font-weight: 600; margin-right: 8px; }
section.file { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  margin-bottom: 18px; padding: 4px 18px 14px; }
section.file h2 { font: 600 15px ui-monospace, SFMono-Regular, Menlo, monospace;
  margin: 10px 0; overflow-wrap: anywhere; }
section.file h2 .file-count { font: 12px system-ui, sans-serif; color: #667; margin-left: 8px; }
.passed { color: #2e7d32; }
article.finding { border-left: 4px solid var(--line); padding: 6px 12px; margin: 10px 0;
  background: #fafbfc; }
article.finding[data-severity=error] { border-color: var(--error); }
article.finding[data-severity=warning] { border-color: var(--warning); }
article.finding[data-severity=info] { border-color: var(--info); }
article.finding[data-suppressed=true] { opacity: .65; }
.finding .head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.badge { font-size: 11px; font-weight: 700; text-transform: uppercase; color: #fff;
  border-radius: 4px; padding: 1px 6px; }
.badge.error { background: var(--error); } .badge.warning { background: var(--warning); }
.badge.info { background: var(--info); }
.rule a { font-weight: 600; color: #1d2330; }
.resource, .where { font-family: ui-monospace, Menlo, monospace; color: #445; }
.message { margin: 4px 0; overflow-wrap: anywhere; }
.fix { margin: 4px 0; color: #2f4f2f; overflow-wrap: anywhere; }
.fix b { color: #2e7d32; }
pre.snippet { background: #1f2430; color: #d8dee9; border-radius: 6px; padding: 6px 0;
  margin: 6px 0 2px; overflow-x: auto; font-size: 12px; }
pre.snippet .line { display: block; padding: 0 10px; white-space: pre; }
pre.snippet .line.hit { background: #4a3b1c; color: #fff; }
pre.snippet .ln { display: inline-block; width: 4em; color: #7b8496; user-select: none; }
figure.architecture { margin: 14px 0 4px; }
figure.architecture figcaption { font-weight: 600; margin-bottom: 6px; }
figure.architecture .legend { font-weight: 400; color: #667; margin-left: 10px; }
.picture { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
svg.graph .node rect { fill: #eef3fb; stroke: #4b6a9b; stroke-width: 1.2; }
svg.graph .node text.id { font: 600 12px system-ui, sans-serif; fill: #1d2330; }
svg.graph .node text.type { font: 11px system-ui, sans-serif; fill: #5a6475; }
svg.graph .node.missing rect { fill: #fff5f5; stroke: #c00; stroke-width: 2;
  stroke-dasharray: 6 4; }
svg.graph .node.missing text { fill: #c00; }
svg.graph .edge path { fill: none; stroke: #555; stroke-width: 1.3; }
svg.graph .edge text { font: 10.5px system-ui, sans-serif; fill: #333; paint-order: stroke;
  stroke: #fff; stroke-width: 3px; }
svg.graph .edge.missing path { stroke: #c00; stroke-width: 1.8; stroke-dasharray: 6 4; }
svg.graph .edge.missing text { fill: #c00; }
.note { color: #667; font-style: italic; }
"""

SCRIPT = """
(function () {
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.severity-filter"));
  var rule = document.getElementById("rule-filter");
  var findings = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  // A link can carry a filter: report.html#severity=error,warning&rule=AL304
  var hash = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (part) {
    var kv = part.split("=");
    if (kv.length === 2) { hash[kv[0]] = decodeURIComponent(kv[1]); }
  });
  if (hash.severity !== undefined) {
    var wanted = hash.severity.split(",");
    boxes.forEach(function (box) { box.checked = wanted.indexOf(box.value) >= 0; });
  }
  if (hash.rule !== undefined) {
    for (var i = 0; i < rule.options.length; i++) {
      if (rule.options[i].value === hash.rule) { rule.selectedIndex = i; }
    }
  }
  function apply() {
    var on = {};
    boxes.forEach(function (box) { on[box.value] = box.checked; });
    var shown = 0;
    findings.forEach(function (f) {
      var kind = f.dataset.suppressed === "true" ? "suppressed" : f.dataset.severity;
      var visible = on[kind] !== false && on[f.dataset.severity] !== false &&
        (rule.value === "" || f.dataset.rule === rule.value);
      f.hidden = !visible;
      if (visible) { shown++; }
    });
    document.querySelectorAll("section.file").forEach(function (s) {
      var n = s.querySelectorAll("article.finding:not([hidden])").length;
      s.dataset.shown = String(n);
      var count = s.querySelector(".file-count");
      if (count && s.dataset.findings !== "0") {
        count.textContent = n + " of " + s.dataset.findings + " shown";
      }
    });
    document.getElementById("shown").textContent = shown + " of " + findings.length;
  }
  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  rule.addEventListener("change", apply);
  apply();
  document.body.dataset.ready = "true";
})();
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


CSP = (
    f"default-src 'none'; style-src {_hash(STYLE)}; script-src {_hash(SCRIPT)}; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)


def _e(text: object) -> str:
    """Template-derived text as HTML text or attribute value."""
    return escape(visible(text), quote=True)


def write(report: Report, stream: TextIO, *, color: bool = False) -> None:
    shown = [f for f in report.findings if not f.suppressed or report.show_suppressed]
    by_file: dict[str, list[Finding]] = {}
    for path in report.paths:
        by_file.setdefault(path, [])
    for finding in shown:
        by_file.setdefault(finding.file, []).append(finding)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>archlint report</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<header><h1>archlint report</h1><span class="version">archlint {_e(__version__)}'
        "</span></header><main>",
        _summary(report),
        _filters(report, shown),
    ]
    for index, (path, findings) in enumerate(by_file.items()):
        out.append(_file(report, path, findings, f"graph{index + 1}"))
    out.append(f"</main><script>{SCRIPT}</script></body></html>\n")
    stream.write("\n".join(out))


def _summary(report: Report) -> str:
    items = "".join(
        f'<li data-key="{_e(key)}"><span class="count" id="count-{_e(key)}">{_e(value)}</span>'
        f"{_e(key)}</li>"
        for key, value in report.summary().items()
    )
    return f'<ul class="summary" id="summary">{items}</ul>'


def _filters(report: Report, shown: list[Finding]) -> str:
    kinds = list(SEVERITIES) + (["suppressed"] if report.show_suppressed else [])
    boxes = "".join(
        f'<label><input type="checkbox" class="severity-filter" name="severity" '
        f'value="{kind}" checked> {kind}</label>'
        for kind in kinds
    )
    counts: dict[tuple[str, str], int] = {}
    for finding in shown:
        key = (finding.rule_id, finding.rule_name)
        counts[key] = counts.get(key, 0) + 1
    options = "".join(
        f'<option value="{_e(code)}">{_e(code)} {_e(name)} ({count})</option>'
        for (code, name), count in sorted(counts.items())
    )
    return (
        '<form class="filters" id="filters"><fieldset><legend>Severity</legend>'
        f"{boxes}</fieldset>"
        '<label>Rule <select id="rule-filter" name="rule"><option value="">all rules</option>'
        f"{options}</select></label>"
        '<span>Showing <b id="shown"></b> findings</span></form>'
    )


def _file(report: Report, path: str, findings: list[Finding], ident: str) -> str:
    view = report.views.get(path)
    if not isinstance(view, FileView):
        view = FileView({})
    help_uri = {rule.code: rule.help_uri for rule in report.rules}
    count = (
        f'<span class="file-count">{len(findings)} finding{"s" if len(findings) != 1 else ""}'
        "</span>"
        if findings
        else '<span class="file-count passed">no findings</span>'
    )
    parts = [
        f'<section class="file" data-file="{_e(path)}" data-findings="{len(findings)}">',
        f"<h2>{_e(path)}{count}</h2>",
    ]
    parts += [_finding(f, view, help_uri.get(f.rule_id)) for f in findings]
    if view.drawing is not None:
        picture = view.drawing
        names = ", ".join(picture.architectures)
        body = (
            f'<div class="picture">{to_svg(picture, ident)}</div>'
            if picture.boxes
            else f'<p class="note">{_e(picture.note)}</p>'
        )
        parts.append(
            f'<figure class="architecture" data-architectures="{_e(names)}">'
            f"<figcaption>Resource graph against {_e(names)}"
            '<span class="legend">dashed red: missing against the architecture</span>'
            f"</figcaption>{body}</figure>"
        )
    if view.note:
        parts.append(f'<p class="note">{_e(view.note)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _finding(finding: Finding, view: FileView, help_uri: str | None) -> str:
    rule = f"{_e(finding.rule_id)} {_e(finding.rule_name)}"
    if help_uri:
        rule = f'<a href="{_e(help_uri)}" class="rule-doc">{rule}</a>'
    resource = f'<span class="resource">[{_e(finding.resource)}]</span>' if finding.resource else ""
    where = f'<span class="where">line {finding.line}</span>' if finding.line else ""
    suppressed = ""
    if finding.suppressed:
        suppressed = f'<p class="suppressed">suppressed: {_e(finding.suppression_reason or "")}</p>'
    fix = f'<p class="fix"><b>Fix:</b> {_e(finding.fix)}</p>' if finding.fix else ""
    return (
        f'<article class="finding" data-severity="{_e(finding.severity)}" '
        f'data-rule="{_e(finding.rule_id)}" data-line="{finding.line or ""}" '
        f'data-suppressed="{str(finding.suppressed).lower()}">'
        f'<div class="head"><span class="badge {_e(finding.severity)}">{_e(finding.severity)}'
        f'</span><span class="rule">{rule}</span>{resource}{where}</div>'
        f'<p class="message">{_e(finding.message)}</p>{fix}{suppressed}'
        f"{_snippet(finding.line, view)}</article>"
    )


def _snippet(line: int | None, view: FileView) -> str:
    if not line or line not in view.lines:
        return ""
    rows = []
    for number in range(line - CONTEXT, line + CONTEXT + 1):
        if number not in view.lines:
            continue
        text = _e(view.lines[number].replace("\t", "    "))
        hit = " hit" if number == line else ""
        rows.append(
            f'<span class="line{hit}" data-line="{number}"><span class="ln">{number}</span>'
            f"{text}</span>"
        )
    return f'<pre class="snippet">{"".join(rows)}</pre>'
