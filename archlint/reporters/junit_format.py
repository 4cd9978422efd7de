"""JUnit XML: one testcase per (file, rule) so CI dashboards show what failed where."""

from __future__ import annotations

import re
from typing import TextIO
from xml.etree import ElementTree as ET

from archlint.engine import Report

# What XML 1.0 does not allow in a document (https://www.w3.org/TR/xml/#charsets).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def write(report: Report, stream: TextIO, *, color: bool = False) -> None:
    cases: dict[tuple[str, str], list] = {}
    for path in report.paths:
        for rule in report.rules:
            if rule.code in report.ran.get(path, ()):
                cases.setdefault((path, rule.code), [])
    for finding in report.active:
        cases.setdefault((finding.file, finding.rule_id), []).append(finding)
    names = {r.code: r.name for r in report.rules}
    suite = ET.Element(
        "testsuite",
        name="archlint",
        tests=str(len(cases)),
        failures=str(sum(1 for f in cases.values() if _failing(f))),
        errors="0",
        skipped="0",
    )
    for (path, code), findings in sorted(cases.items()):
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_xml(path),
            name=_xml(f"{code} {names.get(code, '')}".strip()),
        )
        failing = [f for f in findings if f.severity in ("error", "warning")]
        if failing:
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{len(failing)} finding(s)",
                type=failing[0].severity,
            )
            failure.text = _xml(
                "\n".join(
                    f"{f.file}:{f.line or ''} [{f.resource or '-'}] {f.message} Fix: {f.fix}"
                    for f in failing
                )
            )
        infos = [f for f in findings if f.severity == "info"]
        if infos:
            ET.SubElement(case, "system-out").text = _xml("\n".join(f.message for f in infos))
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites) if hasattr(ET, "indent") else None
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(suites, encoding="unicode"))
    stream.write("\n")


def _xml(text: str) -> str:
    """Text XML 1.0 can hold: the characters it forbids (ESC, NUL, ...) as visible escapes.

    ElementTree escapes markup but writes those characters as they are, and no
    XML parser would read the document back.
    """
    return _NOT_XML.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _failing(findings: list) -> bool:
    return any(f.severity in ("error", "warning") for f in findings)
