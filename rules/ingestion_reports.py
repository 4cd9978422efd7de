"""ingestion-pipeline, results: Athena reports in their own bucket, loaded into a warehouse."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._common import origin_of, refers_to_type, resources_line
from archlint.rules._ingestion import BUCKET, INGESTION, consumers, ingestion_buckets
from archlint.template import Resource
from archlint.values import Unknown, Value

ATHENA_WORKGROUP = "AWS::Athena::WorkGroup"
OUTPUT_LOCATION = "WorkGroupConfiguration.ResultConfiguration.OutputLocation"
START_QUERY = "athena:StartQueryExecution"
NAMESPACE = "AWS::RedshiftServerless::Namespace"
SERVERLESS_WORKGROUP = "AWS::RedshiftServerless::Workgroup"
PROVISIONED_CLUSTER = "AWS::Redshift::Cluster"
QUICKSIGHT_SOURCE = "AWS::QuickSight::DataSource"
QUICKSIGHT_DASHBOARD = "AWS::QuickSight::Dashboard"
QUICKSIGHT_SOURCE_TYPES = ("ATHENA", "S3")


# -- AL606 ----------------------------------------------------------------------


@rule(
    code="AL606",
    name="athena-results-not-in-reporting-bucket",
    requirement="ING-ATHENA-RESULTS",
    severity=ERROR,
    architectures=INGESTION,
    fix="Give the AWS::Athena::WorkGroup a ResultConfiguration.OutputLocation "
    '!Sub "s3://${ReportingBucket}/athena-results/" in a bucket of its own, and let the '
    "consumer's role call athena:StartQueryExecution on that workgroup.",
)
def athena_results_not_in_reporting_bucket(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that the template has an `AWS::Athena::WorkGroup` and that every
    workgroup's `WorkGroupConfiguration.ResultConfiguration.OutputLocation`
    is a bucket of the template other than the ingestion bucket (the
    Firehose destination), in every `Fn::If` branch and parameter default.
    Then checks that the role of each function consuming the ingestion queue
    may call `athena:StartQueryExecution` on a workgroup of the template
    (or on `*`).

    ## Why is this bad?
    Results written into the ingestion bucket mix reports with raw data,
    break the Glue table over it and raise the bucket's object-created
    notification again: every query triggers another query. Results in a
    bucket outside the template escape its lifecycle and encryption, and a
    consumer that may not start queries fails on every message.
    """
    workgroups = list(graph.resources(ATHENA_WORKGROUP))
    if not workgroups:
        yield Violation(
            None,
            "no AWS::Athena::WorkGroup writes query results to a reporting bucket",
            line=resources_line(graph),
        )
    ingestion = ingestion_buckets(graph)
    for workgroup in workgroups:
        yield from _output_problems(workgroup, ingestion, graph)
    if workgroups:
        for function in consumers(graph):
            yield from _consumer_problems(function, workgroups, graph)


def _output_problems(
    workgroup: Resource, ingestion: list[Resource], graph: ResourceGraph
) -> Iterator[Violation]:
    name = workgroup.logical_id
    outputs = graph.resolver.values_at(workgroup.properties, OUTPUT_LOCATION)
    if not outputs:
        yield Violation(
            workgroup,
            f"Athena workgroup {name} sets no ResultConfiguration.OutputLocation: results go "
            "wherever each client says",
            line=workgroup.line_of("WorkGroupConfiguration"),
        )
    for value in outputs:
        if isinstance(value, Unknown):
            yield Violation(
                workgroup,
                f"cannot tell where workgroup {name} writes results: {value.reason}",
                line=value.line,
                undecided=value,
            )
            continue
        targets = graph.targets_of(value)
        mixed = [b.logical_id for b in ingestion if b.key in targets]
        if mixed:
            yield Violation(
                workgroup,
                f"Athena workgroup {name} writes results to {value.text()}{origin_of(value)}, "
                f"inside ingestion bucket {', '.join(mixed)}",
                line=value.line,
            )
        elif not refers_to_type(graph, value, (BUCKET,)):
            yield Violation(
                workgroup,
                f"Athena workgroup {name} writes results to {value.text()}{origin_of(value)}, "
                "not to a bucket of this template",
                line=value.line,
            )


def _consumer_problems(
    function: Resource, workgroups: list[Resource], graph: ResourceGraph
) -> Iterator[Violation]:
    role = graph.execution_role(function)
    if role is None:
        reason = "its role is not in this template"
        line = function.line_of("Role")
        yield Violation(
            function,
            f"cannot tell whether consumer {function.logical_id} may start Athena queries: "
            f"{reason}",
            line=line,
            undecided=Unknown(reason, line),
        )
        return
    if any(graph.grants(role, START_QUERY, workgroup) for workgroup in workgroups):
        return
    elsewhere = graph.grants(role, START_QUERY)
    names = ", ".join(w.logical_id for w in workgroups)
    if elsewhere:
        shown = ", ".join(v.text() or "?" for v in elsewhere[0].resources)
        yield Violation(
            role,
            f"role {role.logical_id} of consumer {function.logical_id} may start Athena queries "
            f"only on {shown}, not in workgroup {names}",
            line=elsewhere[0].line,
        )
    else:
        yield Violation(
            role,
            f"role {role.logical_id} of consumer {function.logical_id} may not call "
            f"{START_QUERY} in workgroup {names}",
            line=role.line_of("Policies"),
        )


# -- AL607 ----------------------------------------------------------------------


@rule(
    code="AL607",
    name="no-serverless-warehouse",
    requirement="ING-WAREHOUSE",
    severity=ERROR,
    architectures=INGESTION,
    fix="Load the reports into an AWS::RedshiftServerless::Namespace served by an "
    "AWS::RedshiftServerless::Workgroup (NamespaceName: !Ref Namespace), or add a QuickSight "
    "data source of Type ATHENA or S3.",
)
def no_serverless_warehouse(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that the reports reach a warehouse or dashboard service: a
    Redshift Serverless namespace with a Redshift Serverless workgroup whose
    `NamespaceName` names it in every `Fn::If` branch, or a QuickSight
    dashboard, or a QuickSight data source of `Type` `ATHENA` or `S3`. A
    provisioned `AWS::Redshift::Cluster` does not count. When nothing
    qualifies, each near miss (the cluster, a workgroup of another
    namespace, a namespace nothing serves, a data source of another type)
    is reported; with none, the template is.

    ## Why is this bad?
    The architecture promises reports loaded into a warehouse and
    dashboards; without one the data ends in files nobody analyses. A
    provisioned cluster breaks the serverless promise: it is sized, patched
    and billed by the hour while idle.
    """
    resolver = graph.resolver
    problems: list[Violation] = []
    for workgroup in graph.resources(SERVERLESS_WORKGROUP):
        found = [
            _foreign_namespace(workgroup, value)
            for value in resolver.values_at(workgroup.properties, "NamespaceName")
            if not refers_to_type(graph, value, (NAMESPACE,))
        ]
        if not found and "NamespaceName" in workgroup.properties:
            return
        problems.extend(found)
    for source in graph.resources(QUICKSIGHT_SOURCE):
        found = [
            Violation(
                source,
                f"QuickSight data source {source.logical_id} reads {value.text()}"
                f"{origin_of(value)}, not the reports in Athena or S3",
                line=value.line,
            )
            for value in resolver.values_at(source.properties, "Type")
            if value.text() not in QUICKSIGHT_SOURCE_TYPES
        ]
        if not found:
            return
        problems.extend(found)
    if any(graph.resources(QUICKSIGHT_DASHBOARD)):
        return
    served = {
        n.key for w in graph.resources(SERVERLESS_WORKGROUP) for n in graph.out(w, "namespace")
    }
    for namespace in graph.resources(NAMESPACE):
        if namespace.key not in served:
            problems.append(
                Violation(
                    namespace,
                    f"Redshift Serverless namespace {namespace.logical_id} has no workgroup: "
                    "nothing can load or query it",
                    line=namespace.line,
                )
            )
    for cluster in graph.resources(PROVISIONED_CLUSTER):
        problems.append(
            Violation(
                cluster,
                f"{cluster.logical_id} is a provisioned Redshift cluster; the warehouse must be "
                "Redshift Serverless (or QuickSight)",
                line=cluster.line,
            )
        )
    if not problems:
        problems.append(
            Violation(
                None,
                "no warehouse or dashboard service: no Redshift Serverless namespace and "
                "workgroup, no QuickSight data source or dashboard",
                line=resources_line(graph),
            )
        )
    yield from problems


def _foreign_namespace(workgroup: Resource, value: Value) -> Violation:
    served = f"serves namespace {value.text()}{origin_of(value)}"
    message = (
        f"Redshift Serverless workgroup {workgroup.logical_id} {served}, "
        "not a namespace of this template"
    )
    # A namespace archlint cannot read (`${?}`) is a "cannot decide".
    unread = Unknown(served, value.line) if "${?}" in message else None
    return Violation(workgroup, message, line=value.line, undecided=unread)
