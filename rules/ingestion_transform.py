"""ingestion-pipeline, transformation: Firehose runs the template's Lambda on every record."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._common import TRUE, key_line, origin_of, refers_to_type
from archlint.rules._ingestion import FIREHOSE, FUNCTIONS, INGESTION, ingestion_firehoses
from archlint.template import Resource
from archlint.values import Lit, Unknown

EXTENDED_S3 = "ExtendedS3DestinationConfiguration"


# -- AL603 ----------------------------------------------------------------------


@rule(
    code="AL603",
    name="firehose-without-lambda-transform",
    requirement="ING-FIREHOSE-TRANSFORM",
    severity=ERROR,
    resource_types=(FIREHOSE,),
    architectures=INGESTION,
    fix="In ExtendedS3DestinationConfiguration set ProcessingConfiguration: {Enabled: true, "
    "Processors: [{Type: Lambda, Parameters: [{ParameterName: LambdaArn, ParameterValue: "
    "!GetAtt TransformFunction.Arn}]}]}.",
)
def firehose_without_lambda_transform(
    firehose: Resource, graph: ResourceGraph
) -> Iterator[Violation]:
    """## What it does
    For each delivery stream that reads the ingestion Kinesis stream, checks
    that `ExtendedS3DestinationConfiguration.ProcessingConfiguration` has
    `Enabled: true` (set explicitly, in every `Fn::If` branch and parameter
    default) and a processor of `Type: Lambda` whose `LambdaArn` parameter
    names a function of the template in every branch. A processor that is
    present but disabled counts as no processor; the legacy
    `S3DestinationConfiguration` cannot transform at all.

    ## Why is this bad?
    Untransformed device payloads land in S3 as Firehose concatenates them:
    mixed schemas, no newline between records, nothing Athena can query
    reliably. A transform in another account or stack also escapes the
    review and rollback of this one.
    """
    if firehose.key not in {f.key for f in ingestion_firehoses(graph)}:
        return
    resolver = graph.resolver
    name = firehose.logical_id
    destinations = resolver.find(firehose.properties, EXTENDED_S3)
    if not destinations:
        legacy = "S3DestinationConfiguration" in firehose.properties
        yield Violation(
            firehose,
            f"delivery stream {name} uses S3DestinationConfiguration, which cannot transform "
            "records"
            if legacy
            else f"delivery stream {name} has no ExtendedS3DestinationConfiguration to "
            "transform records in",
            line=firehose.line_of("S3DestinationConfiguration") if legacy else firehose.line,
        )
        return
    for destination, _ in destinations:
        configs = resolver.find(destination, "ProcessingConfiguration")
        if not configs:
            yield Violation(
                firehose,
                f"delivery stream {name} does not transform records: {EXTENDED_S3} has no "
                "ProcessingConfiguration",
                line=firehose.line_of(EXTENDED_S3),
            )
        for config, _ in configs:
            config_line = key_line(destination, "ProcessingConfiguration", None)
            yield from _enabled_problems(firehose, config, config_line, graph)
            yield from _processor_problems(firehose, config, config_line, graph)


def _enabled_problems(
    firehose: Resource, config: object, line: int | None, graph: ResourceGraph
) -> Iterator[Violation]:
    name = firehose.logical_id
    values = graph.resolver.values_at(config, "Enabled")
    if not values:
        yield Violation(
            firehose,
            f"delivery stream {name} does not set ProcessingConfiguration.Enabled: true, so its "
            "processor may not run",
            line=line,
        )
    for value in values:
        if isinstance(value, Unknown):
            yield Violation(
                firehose,
                f"cannot tell whether {name} transforms records: {value.reason}",
                line=value.line,
                undecided=value,
            )
        elif not (isinstance(value, Lit) and value.value in TRUE):
            yield Violation(
                firehose,
                f"delivery stream {name} can run without its processor: "
                f"ProcessingConfiguration.Enabled is {value.text()}{origin_of(value)}",
                line=value.line,
            )


def _processor_problems(
    firehose: Resource, config: object, line: int | None, graph: ResourceGraph
) -> Iterator[Violation]:
    resolver = graph.resolver
    name = firehose.logical_id
    lambdas = []
    for processor, processor_line in resolver.find(config, "Processors[*]"):
        types = resolver.values_at(processor, "Type")
        if any(v.text() == "Lambda" for v in types):
            lambdas.append((processor, processor_line))
            for value in types:
                if value.text() != "Lambda":
                    yield Violation(
                        firehose,
                        f"processor of {name} can be of Type {value.text()}"
                        f"{origin_of(value)}, which runs no Lambda transform",
                        line=value.line,
                    )
    if not lambdas:
        yield Violation(
            firehose,
            f"delivery stream {name} has no processor of Type Lambda",
            line=line,
        )
    for processor, processor_line in lambdas:
        arns = [
            value
            for parameter, _ in resolver.find(processor, "Parameters[*]")
            if any(v.text() == "LambdaArn" for v in resolver.values_at(parameter, "ParameterName"))
            for value in resolver.values_at(parameter, "ParameterValue")
        ]
        if not arns:
            yield Violation(
                firehose,
                f"Lambda processor of {name} has no LambdaArn parameter",
                line=processor_line,
            )
        for value in arns:
            if isinstance(value, Unknown):
                yield Violation(
                    firehose,
                    f"cannot tell which function transforms {name}'s records: {value.reason}",
                    line=value.line,
                    undecided=value,
                )
            elif not refers_to_type(graph, value, FUNCTIONS):
                yield Violation(
                    firehose,
                    f"delivery stream {name} transforms with {value.text()}{origin_of(value)}, "
                    "not a function of this template",
                    line=value.line,
                )
