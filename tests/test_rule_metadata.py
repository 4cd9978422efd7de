"""Rule metadata is complete and consistent; every catalogue entry has a rule."""

from __future__ import annotations

import re

import pytest

from archlint.registry import load_rules
from archlint.rule import ARCHITECTURES
from conftest import ROOT

RULES = load_rules(plugins=False)
CATALOGUE = ROOT.parent / "shared" / "spec" / "architectures.md"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_documents_what_and_why(rule):
    assert rule.section("What it does"), f"{rule.code} lacks '## What it does'"
    assert rule.section("Why is this bad?"), f"{rule.code} lacks '## Why is this bad?'"
    assert rule.fix, f"{rule.code} says nothing about the fix"
    assert set(rule.architectures) <= set(ARCHITECTURES)


def test_codes_and_names_are_unique():
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)


@pytest.mark.skipif(not CATALOGUE.exists(), reason="catalogue not present")
def test_every_catalogue_entry_has_a_rule():
    ids = set(re.findall(r"^\| ([A-Z]+(?:-[A-Z0-9]+)+) \|", CATALOGUE.read_text(), re.M))
    assert len(ids) > 40
    covered = {r.requirement for r in RULES}
    assert sorted(ids - covered) == []
    assert sorted(covered - ids - {"ENGINE", "CONFORMANCE"}) == []


def test_docs_rules_page_is_current():
    from archlint.docs import render_catalogue

    page = (ROOT / "docs" / "rules.md").read_text()
    assert page == render_catalogue(RULES), "run: python -m archlint.docs > docs/rules.md"
