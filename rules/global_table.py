"""WEB-GLOBAL-TABLE: the blog's data is replicated to at least two regions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource
from archlint.values import MAX_COMBINATIONS, Unknown

MIN_REGIONS = 2


@rule(
    code="AL403",
    name="data-not-in-global-table",
    requirement="WEB-GLOBAL-TABLE",
    severity=ERROR,
    architectures=("serverless-website",),
    fix="Use AWS::DynamoDB::GlobalTable with Replicas in at least two regions, e.g. "
    "!Ref AWS::Region and a ReplicaRegion parameter.",
)
def data_not_in_global_table(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that the template has an `AWS::DynamoDB::GlobalTable` and that
    every global table always has replicas in at least two distinct regions:
    `Replicas` entries and their `Region` are counted over every `Fn::If`
    branch (an entry that is `AWS::NoValue` in one branch does not count) and
    the smallest count must be 2 or more. A template with only plain
    `AWS::DynamoDB::Table`s has each of them reported.

    ## Why is this bad?
    A single-region table makes every read from another continent cross an
    ocean, and a regional outage takes the whole site's data offline. A
    global table keeps a full, writable replica near each audience.
    """
    global_tables = list(graph.resources("AWS::DynamoDB::GlobalTable"))
    for table in global_tables:
        yield from _too_few_regions(table, graph)
    if global_tables:
        return
    plain = list(graph.resources("AWS::DynamoDB::Table"))
    for table in plain:
        yield Violation(
            table,
            f"{table.logical_id} is a single-region AWS::DynamoDB::Table; the site's data "
            "needs a global table",
            line=table.line,
        )
    if not plain:
        yield Violation(
            None,
            "no DynamoDB global table holds the site's data",
            line=graph.template.root.line_of("Resources"),
        )


def _too_few_regions(table: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    resolver = graph.resolver
    line = table.line_of("Replicas")
    undecided: Unknown | None = None
    for entries in resolver.list_variants(table.properties.get("Replicas")):
        regions = [resolver.values_at(entry, "Region") for entry, _ in entries]
        for choice in itertools.islice(itertools.product(*regions), MAX_COMBINATIONS):
            unknown = [v for v in choice if isinstance(v, Unknown)]
            known = sorted({v.text() for v in choice if not isinstance(v, Unknown)})
            if len(known) + len(unknown) < MIN_REGIONS:
                yield Violation(
                    table,
                    f"global table {table.logical_id} can have replicas in only {len(known)} "
                    f"region(s) ({', '.join(known) or 'none'}); it needs at least {MIN_REGIONS}",
                    line=line,
                )
                return
            if len(known) < MIN_REGIONS:
                undecided = undecided or unknown[0]
    if undecided:
        yield Violation(
            table,
            "cannot tell whether global table "
            f"{table.logical_id} spans two regions: {undecided.reason}",
            line=line,
            undecided=undecided,
        )
