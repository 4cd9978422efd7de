"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers."""

from __future__ import annotations

import json
from typing import TextIO

from archlint import __version__
from archlint.engine import Report
from archlint.fingerprint import SARIF_KEY

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
# GitHub orders alerts by this numeric severity.
_SECURITY_SEVERITY = {"error": "8.0", "warning": "5.0", "info": "2.0"}


def write(report: Report, stream: TextIO, *, color: bool = False) -> None:
    rules = report.rules
    index = {rule.code: i for i, rule in enumerate(rules)}
    results = []
    for finding in report.findings:
        if finding.suppressed and not report.show_suppressed:
            continue
        location = {
            "physicalLocation": {
                "artifactLocation": {"uri": _uri(finding.file)},
                "region": {"startLine": finding.line or 1},
            }
        }
        if finding.resource:
            logical = {"name": finding.resource, "kind": "resource"}
            if finding.extra.get("cdk_path"):
                logical["fullyQualifiedName"] = finding.extra["cdk_path"]
            location["logicalLocations"] = [logical]
        result = {
            "ruleId": finding.rule_id,
            "level": _LEVEL[finding.severity],
            "message": {"text": _message(finding)},
            "locations": [location],
            # The JSON report's `fingerprint`: stable across line moves, so code
            # scanning tracks one alert over time (archlint.fingerprint).
            "partialFingerprints": {SARIF_KEY: finding.fingerprint},
        }
        if finding.rule_id in index:
            result["ruleIndex"] = index[finding.rule_id]
        if finding.suppressed:
            result["suppressions"] = [
                {"kind": "inSource", "justification": finding.suppression_reason or ""}
            ]
        results.append(result)
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "archlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": "https://github.com/archlint/archlint",
                        "rules": [_rule(rule) for rule in rules],
                    }
                },
                "results": results,
                "columnKind": "utf16CodeUnits",
            }
        ],
    }
    stream.write(json.dumps(log, indent=2) + "\n")


def _uri(path: str) -> str:
    path = path.replace("\\", "/")
    return path[2:] if path.startswith("./") else path


def _message(finding) -> str:
    text = finding.message
    if finding.resource:
        text = f"[{finding.resource}] {text}"
    if finding.fix:
        text += f" Fix: {finding.fix}"
    return text


def _rule(rule) -> dict:
    help_text = rule.doc
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.title or rule.name},
        "fullDescription": {"text": rule.section("Why is this bad?") or rule.title or rule.name},
        "help": {"text": help_text, "markdown": help_text},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "requirement": rule.requirement,
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "tags": ["cloudformation", "architecture", rule.requirement],
        },
    }
