"""What the README shows is what archlint does today."""

from __future__ import annotations

import re

from conftest import ROOT, run_archlint


def test_the_readme_picture_is_the_graph_archlint_draws():
    readme = (ROOT / "README.md").read_text()
    (picture,) = re.findall(r"```mermaid\n(.*?)```", readme, re.S)
    drawn = run_archlint("graph", "reference_templates/paid-content.yaml").stdout.decode()
    assert picture == drawn, "regenerate: archlint graph reference_templates/paid-content.yaml"


def test_the_quick_start_has_exactly_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [b.strip() for b in re.findall(r"```sh\n(.*?)```", quick, re.S)]
    assert commands == [
        "pip install . && archlint check reference_templates/",
        'pip install -e ".[test]" && python -m pytest',
    ]
