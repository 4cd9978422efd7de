"""SARIF validates against the official 2.1.0 schema; JUnit is well-formed and complete."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema

from conftest import FIXTURES, run_archlint

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def test_sarif_is_valid_and_points_at_lines():
    result = run_archlint(
        "check", "--format", "sarif", str(FIXTURES / "AL101"), str(FIXTURES / "AL102")
    )
    assert result.returncode == 1
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["AL102"]["helpUri"].startswith("https://")
    assert "Why is this bad?" in rules["AL102"]["help"]["markdown"]
    located = {
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    }
    assert ("AL102", f"{FIXTURES}/AL102/bad.yaml", 24) in located
    assert ("AL101", f"{FIXTURES}/AL101/bad.yaml", 12) in located
    for result_ in run["results"]:
        assert run["tool"]["driver"]["rules"][result_["ruleIndex"]]["id"] == result_["ruleId"]


def test_sarif_of_a_clean_run_is_valid_too():
    log = json.loads(
        run_archlint("check", "--format", "sarif", str(FIXTURES / "AL102" / "good.yaml")).stdout
    )
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []


def test_junit_has_a_testcase_per_file_and_rule():
    out = run_archlint("check", "--format", "junit", str(FIXTURES / "AL102")).stdout
    suite = ET.fromstring(out).find("testsuite")
    cases = suite.findall("testcase")
    failing = [c for c in cases if c.find("failure") is not None]
    assert {c.get("classname") for c in failing} == {
        f"{FIXTURES}/AL102/bad.yaml",
        f"{FIXTURES}/AL102/bad.json",
    }
    assert all(c.get("name").startswith("AL102") for c in failing)
    passing = [c for c in cases if c.get("classname").endswith("good.yaml")]
    assert passing and all(c.find("failure") is None for c in passing)
    assert suite.get("failures") == str(len(failing))
