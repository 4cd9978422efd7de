"""MOB-DAX: the todo table's reads go through a DAX cluster the API function may use."""

from __future__ import annotations

from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._api import api_functions, apis, tables_granted
from archlint.template import Resource
from archlint.values import Unknown

DAX_READS = ("dax:GetItem", "dax:BatchGetItem", "dax:Query", "dax:Scan")
TABLE_READS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan")
CLUSTER = "AWS::DAX::Cluster"


@rule(
    code="AL505",
    name="todo-table-not-behind-dax",
    requirement="MOB-DAX",
    severity=ERROR,
    architectures=("mobile-app",),
    fix="Add an AWS::DAX::Cluster whose IAMRoleARN role is granted DynamoDB actions on the todo "
    "table, run the API function in the cluster's VPC, and allow dax:GetItem/dax:Query on "
    "!GetAtt DaxCluster.Arn in its execution role.",
)
def todo_table_not_behind_dax(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that an `AWS::DAX::Cluster` exists; that the role named by its
    `IAMRoleARN` is granted DynamoDB data actions on a table of the template,
    including every table that the API's functions are granted (the todo
    data, found from the graph); and that each Lambda function behind the
    API that reads that data (refers to the cluster or the table and may
    read one of them) runs in a VPC (`VpcConfig` in every `Fn::If` branch,
    in the cluster's VPC when both are in the template) and has an execution
    role granted DAX read actions (`dax:GetItem`, `dax:Query`, ...) on the
    cluster. A function that only writes todos needs neither.

    ## Why is this bad?
    A DAX cluster that is not allowed to read the todo table, or that the
    API function cannot reach or may not call, caches nothing: every list
    refresh goes to DynamoDB at full latency and cost, while the cluster is
    billed by the hour.
    """
    clusters = list(graph.resources(CLUSTER))
    if not clusters:
        yield Violation(
            None,
            "no DAX cluster (AWS::DAX::Cluster) caches the todo table's reads",
            line=graph.template.root.line_of("Resources"),
        )
        return
    cached: dict[str, Resource] = {}
    for cluster in clusters:
        tables, problem = _cluster_tables(cluster, graph)
        cached.update((t.key, t) for t in tables)
        if problem:
            yield problem
    if cached:  # else the cluster's role was reported above
        yield from _todo_tables_outside(clusters, cached, graph)
    yield from _api_function_problems(clusters, list(cached.values()), graph)


def _cluster_tables(
    cluster: Resource, graph: ResourceGraph
) -> tuple[list[Resource], Violation | None]:
    roles = graph.out(cluster, "service_role")
    if not roles:
        shown = ", ".join(
            v.text() for v in graph.resolver.values_at(cluster.properties, "IAMRoleARN")
        )
        reason = f"its IAMRoleARN {shown or '(none)'} is not a role of the template"
        line = cluster.line_of("IAMRoleARN")
        return [], Violation(
            cluster,
            f"cannot tell which tables DAX cluster {cluster.logical_id} may read: {reason}",
            line=line,
            undecided=Unknown(reason, line),
        )
    tables = [t for role in roles for t in tables_granted(graph, role)]
    if tables:
        return tables, None
    role = roles[0]
    return [], Violation(
        role,
        f"role {role.logical_id} of DAX cluster {cluster.logical_id} is granted DynamoDB "
        "actions on no table of the template, so the cluster caches nothing",
        line=role.line_of("Policies"),
    )


def _todo_tables_outside(
    clusters: list[Resource], cached: dict[str, Resource], graph: ResourceGraph
) -> Iterator[Violation]:
    """Tables the API's functions use directly (the todo data) that no DAX cluster covers.

    The todo table is found from the graph, not from its name: it is what the
    functions behind the API are granted DynamoDB actions on.
    """
    functions = {f.key: f for api in apis(graph) for f in api_functions(graph, api)}
    used: dict[str, Resource] = {}
    for function in functions.values():
        role = graph.execution_role(function)
        if role is not None:
            used.update((t.key, t) for t in tables_granted(graph, role))
    roles = [r for c in clusters for r in graph.out(c, "service_role")]
    for table in used.values():
        if table.key in cached:
            continue
        target = roles[0] if roles else table
        yield Violation(
            target,
            f"table {table.logical_id}, which the API's functions use, is not behind DAX: no "
            "DAX cluster's role is granted DynamoDB actions on it",
            line=target.line_of("Policies") if roles else table.line,
        )


def _api_function_problems(
    clusters: list[Resource], tables: list[Resource], graph: ResourceGraph
) -> Iterator[Violation]:
    functions = {f.key: f for api in apis(graph) for f in api_functions(graph, api)}
    data = set(c.key for c in clusters) | {t.key for t in tables}
    relevant = [f for f in functions.values() if _uses_data(f, data, graph)]
    # A function that only writes todos needs no DAX read action (MOB-DAX).
    readers = [f for f in relevant if _reads(f, clusters, tables, graph)]
    for function in readers if relevant else functions.values():
        role = graph.execution_role(function)
        if role is None:
            reason = "its Role is not a role of the template"
            line = function.line_of("Role")
            yield Violation(
                function,
                f"cannot tell whether API function {function.logical_id} may use DAX: {reason}",
                line=line,
                undecided=Unknown(reason, line),
            )
        elif not any(graph.grants(role, a, c) for a in DAX_READS for c in clusters):
            names = ", ".join(c.logical_id for c in clusters)
            yield Violation(
                role,
                f"role {role.logical_id} of API function {function.logical_id} is granted no DAX "
                f"read action ({', '.join(DAX_READS[:2])}, ...) on DAX cluster {names}",
                line=role.line_of("Policies"),
            )
        yield from _vpc_problems(function, clusters, graph)


def _reads(
    function: Resource, clusters: list[Resource], tables: list[Resource], graph: ResourceGraph
) -> bool:
    """Whether a function may read the todos: DynamoDB reads on a cached table, DAX reads on
    a cluster, or a role archlint cannot see (then it is judged, and the info says why)."""
    role = graph.execution_role(function)
    if role is None:
        return True
    return any(graph.grants(role, a, t) for a in TABLE_READS for t in tables) or any(
        graph.grants(role, a, c) for a in DAX_READS for c in clusters
    )


def _uses_data(function: Resource, data: set[str], graph: ResourceGraph) -> bool:
    referenced = {r.key for kind in ("ref", "getatt", "sub") for r in graph.out(function, kind)}
    role = graph.execution_role(function)
    granted = {t.key for t in tables_granted(graph, role)} if role else set()
    return bool((referenced | granted) & data)


def _vpc_problems(
    function: Resource, clusters: list[Resource], graph: ResourceGraph
) -> Iterator[Violation]:
    options = graph.resolver.options(function.properties.get("VpcConfig"))
    if None in options or not graph.resolver.values_at(
        function.properties, "VpcConfig.SubnetIds[*]"
    ):
        yield Violation(
            function,
            f"API function {function.logical_id} does not run in a VPC"
            + (" in one Fn::If branch" if len(options) > 1 else "")
            + ", so it cannot reach the DAX cluster",
            line=function.line_of("VpcConfig"),
        )
        return
    mine = _vpcs(graph, graph.out(function, "in_subnet"))
    theirs = _vpcs(
        graph,
        [
            s
            for c in clusters
            for g in graph.out(c, "subnet_group")
            for s in graph.out(g, "in_subnet")
        ],
    )
    if mine and theirs and not mine & theirs:
        yield Violation(
            function,
            f"API function {function.logical_id} runs in VPC {', '.join(sorted(mine))}, not in "
            f"the DAX cluster's VPC {', '.join(sorted(theirs))}",
            line=function.line_of("VpcConfig"),
        )


def _vpcs(graph: ResourceGraph, subnets: list[Resource]) -> set[str]:
    return {v.logical_id for s in subnets for v in graph.out(s, "in_vpc")}
