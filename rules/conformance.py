"""Architecture conformance: a declared architecture has every part of its reference."""

from __future__ import annotations

from collections.abc import Iterator

from archlint import conformance
from archlint.graph import ResourceGraph
from archlint.rule import ARCHITECTURES, ERROR, Violation, rule


@rule(
    code="AL901",
    name="architecture-component-missing",
    requirement="CONFORMANCE",
    severity=ERROR,
    architectures=ARCHITECTURES,
    fix="Add the missing resource and connection; `archlint init NAME` writes the reference "
    "template to compare with.",
)
def architecture_component_missing(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For each architecture the template declares (or `--architecture` names),
    compares the template's resource graph with the graph of the reference
    template in `reference_templates/`: every chain of connected components
    there (for example IoT rule -> Kinesis stream -> delivery stream ->
    bucket -> queue -> function) must appear in the template, matched by
    resource type and connection kind, not by name. Each missing connection
    is reported with the reference resources that show it.

    ## Why is this bad?
    An architecture is more than its parts passing their rules one by one:
    a mobile backend without the DAX cluster between its function and its
    table, or a website whose users table has no stream into the welcome
    email function, silently does not do what the architecture promises.
    """
    line = graph.template.root.line_of("Resources")
    for architecture in graph.architectures:
        if architecture not in ARCHITECTURES:
            continue
        for gap in conformance.gaps(graph, architecture):
            yield Violation(None, gap.describe(), line=line)
