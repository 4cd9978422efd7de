"""`archlint graph` draws every reference and marks what a template lacks."""

from __future__ import annotations

import json

import pytest

from archlint.rule import ARCHITECTURES
from conftest import FIXTURES, REFERENCES, run_archlint


@pytest.mark.parametrize("name", ARCHITECTURES)
@pytest.mark.parametrize("fmt", ["mermaid", "dot", "json"])
def test_every_reference_renders(name, fmt):
    result = run_archlint("graph", "--format", fmt, str(REFERENCES / f"{name}.yaml"))
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    if fmt == "json":
        data = json.loads(out)
        assert data["edges"] and data["missing"] == []  # a reference lacks nothing of itself
        kinds = {e["kind"] for e in data["edges"]}
        assert not kinds & {"ref", "getatt", "sub", "depends_on"}
    elif fmt == "mermaid":
        assert out.startswith("flowchart LR") and "-->|" in out and ":::missing" not in out
    else:
        assert out.startswith("digraph archlint {") and out.rstrip().endswith("}")


def test_semantic_edges_are_labelled():
    data = json.loads(
        run_archlint("graph", "--format", "json", str(REFERENCES / "paid-content.yaml")).stdout
    )
    edges = {(e["source"], e["kind"], e["target"]) for e in data["edges"]}
    assert ("VideoDistribution", "origin", "VideoBucket") in edges
    assert ("VideoBucketPolicy", "policy_of", "VideoBucket") in edges
    assert ("VideoDistribution", "key_group", "SigningKeyGroup") in edges


def test_missing_components_are_marked_against_a_reference():
    result = run_archlint(
        "graph", "--architecture", "mobile-app", str(FIXTURES / "AL102" / "good.yaml")
    )
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "missing (MOB-DAX): " in out and ":::missing" in out


def test_graph_of_a_non_template_is_a_usage_error(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\n")
    result = run_archlint("graph", str(path))
    assert result.returncode == 2 and b"no resources" in result.stderr
