"""Architecture conformance: a declared architecture meets each catalogue entry its reference
realizes, in one of the ways the entry allows."""

from __future__ import annotations

from collections.abc import Iterator

from archlint import conformance
from archlint.graph import ResourceGraph
from archlint.rule import ARCHITECTURES, ERROR, WARNING, Violation, rule


@rule(
    code="AL901",
    name="architecture-component-missing",
    requirement="CONFORMANCE",
    severity=ERROR,
    architectures=ARCHITECTURES,
    fix="Add what the message names (or one of the alternatives it lists); `archlint init NAME` "
    "writes the reference template, a worked example of every entry.",
)
def architecture_component_missing(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    For each architecture the template declares (or `--architecture` names),
    checks each catalogue entry that the architecture's reference template
    realizes: the resources and connections marked for that entry in
    `reference_templates/` (for example, for ING-SQS-TO-LAMBDA, an SQS queue
    that feeds a Lambda function through an event source mapping) must exist
    in the template, matched by resource type and connection kind, not by
    name, in one of the ways the entry allows (an OAI or an OAC, a REST or an
    HTTP API, Redshift Serverless or QuickSight, ...). Parts of the reference
    that no entry marks are never required. A missing part is reported under
    its entry's id, on the resource to connect where there is one. A part that
    exists only under a `Condition` is missing where the condition is false:
    an error when the parameters' defaults leave it out, a warning when only
    other allowed values do. An entry whose own rule already reports a
    problem in the template is not reported again.

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
            resource = graph.resource(gap.resource) if gap.resource else None
            yield Violation(
                resource,
                gap.message,
                line=None if resource else line,
                severity=WARNING if gap.severity == WARNING else None,
                requirement=gap.entry,
            )
