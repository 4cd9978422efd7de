"""Every catalogue rule flags its bad fixtures exactly and passes its good ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from archlint.registry import load_rules
from fixture_support import expected, findings_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RULES = [r for r in load_rules(plugins=False) if r.check is not None]


def _fixtures(kind: str) -> list[tuple[str, Path]]:
    cases = []
    for rule in RULES:
        for path in sorted((FIXTURES / rule.code).glob(f"{kind}*")):
            if path.suffix in (".yaml", ".yml", ".json"):
                cases.append((rule.code, path))
    return cases


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_has_good_and_bad_fixtures(rule):
    folder = FIXTURES / rule.code
    assert list(folder.glob("bad*.yaml")), f"{rule.code} has no bad YAML fixture"
    assert list(folder.glob("good*.yaml")), f"{rule.code} has no good YAML fixture"
    assert list(folder.glob("bad*.json")), f"{rule.code} has no bad JSON fixture"


@pytest.mark.parametrize(("code", "path"), _fixtures("bad"), ids=lambda v: str(v)[-40:])
def test_bad_fixture_is_flagged_at_the_expected_lines(code, path, all_rules):
    wanted = expected(path)
    assert any(c == code for _, c in wanted), f"{path} marks no expected {code} finding"
    found = findings_for(path, all_rules, code)
    assert {(f.line, f.rule_id) for f in found} == {w for w in wanted if w[1] == code}
    rule = next(r for r in RULES if r.code == code)
    if rule.resource_types:  # template-level findings (a missing component) name none
        assert all(f.resource for f in found), "every finding names the resource to fix"
    assert all(f.message and f.fix for f in found)


@pytest.mark.parametrize(("code", "path"), _fixtures("good"), ids=lambda v: str(v)[-40:])
def test_good_fixture_passes_its_rule_and_every_cross_cutting_rule(code, path, all_rules):
    # A good fixture shows one requirement met, not a whole architecture: the
    # other requirements of its architecture (and conformance) have fixtures
    # of their own. Cross-cutting and engine rules must all be quiet.
    architecture_rules = {r.code for r in all_rules if r.architectures and r.code != code}
    found = [
        f
        for f in findings_for(path, all_rules)
        if f.severity != "info" and f.rule_id not in architecture_rules
    ]
    assert found == [], "\n".join(f"{f.line} {f.rule_id} {f.message}" for f in found)
