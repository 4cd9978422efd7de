"""MOB-HTTPS-API: the app talks to API Gateway over HTTPS only, TLS 1.2 or better."""

from __future__ import annotations

import re
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.rules._api import apis
from archlint.rules._cloudfront import behaviors_serving
from archlint.template import Resource
from archlint.values import Unknown, Value

# TLS_1_2, or an enhanced policy whose minimum is TLS 1.2/1.3 (SecurityPolicy_TLS13_1_2_...).
TLS_1_2 = re.compile(r"^(TLS_1_2|SecurityPolicy_TLS1[23]_1_[23](_.*)?)$")
HTTP_INTEGRATIONS = ("HTTP", "HTTP_PROXY")
OPENAPI_INTEGRATION = "x-amazon-apigateway-integration"


@rule(
    code="AL501",
    name="api-exposed-without-tls-1-2",
    requirement="MOB-HTTPS-API",
    severity=ERROR,
    architectures=("mobile-app",),
    fix="Set SecurityPolicy: TLS_1_2 on every API Gateway custom domain, call backends over "
    "https://, and use ViewerProtocolPolicy redirect-to-https in front of the API.",
)
def api_exposed_without_tls_1_2(graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that the app's API is an API Gateway REST or HTTP API, that every
    custom domain (`AWS::ApiGateway::DomainName`, `DomainNameV2`,
    `AWS::ApiGatewayV2::DomainName` configurations) sets `SecurityPolicy:
    TLS_1_2` (or an enhanced policy with TLS 1.2/1.3 as minimum), and that
    no part of the API travels over plain HTTP: no `HTTP`/`HTTP_PROXY`
    integration (method, route or OpenAPI body) to an `http://` URL, and no
    CloudFront behavior in front of the API with `ViewerProtocolPolicy:
    allow-all`. Every `Fn::If` branch counts.

    ## Why is this bad?
    Mobile apps run on hotel and café networks. A custom domain left at the
    default TLS 1.0 policy accepts protocol versions with known attacks, and
    one plain-HTTP hop exposes the users' tokens and todo lists to anyone
    on the path.
    """
    if not apis(graph):
        yield Violation(
            None,
            "no API Gateway REST or HTTP API: the app's API is not served over API Gateway HTTPS",
            line=graph.template.root.line_of("Resources"),
        )
    for domain in graph.resources("AWS::ApiGateway::DomainName", "AWS::ApiGateway::DomainNameV2"):
        yield from _security_policy(
            domain, domain.properties, domain.line_of("SecurityPolicy"), graph
        )
    for domain in graph.resources("AWS::ApiGatewayV2::DomainName"):
        for config, line in graph.resolver.find(domain.properties, "DomainNameConfigurations[*]"):
            yield from _security_policy(domain, config, line, graph)
    for method in graph.resources("AWS::ApiGateway::Method"):
        yield from _plain_http(
            method, method.properties, "Integration.Type", "Integration.Uri", graph
        )
    for integration in graph.resources("AWS::ApiGatewayV2::Integration"):
        yield from _plain_http(
            integration, integration.properties, "IntegrationType", "IntegrationUri", graph
        )
    for api in apis(graph):
        for paths, _ in graph.resolver.find(api.properties, "Body.paths"):
            for operation in _operations(paths):
                yield from _plain_http(
                    api,
                    operation,
                    f"{OPENAPI_INTEGRATION}.type",
                    f"{OPENAPI_INTEGRATION}.uri",
                    graph,
                )
        yield from _cloudfront_allow_all(api, graph)


def _security_policy(
    domain: Resource, node: object, line: int | None, graph: ResourceGraph
) -> Iterator[Violation]:
    values = graph.resolver.values_at(node, "SecurityPolicy")
    if not values:
        yield Violation(
            domain,
            f"custom domain {domain.logical_id} sets no SecurityPolicy, so it accepts TLS 1.0",
            line=line,
        )
    for value in values:
        if isinstance(value, Unknown):
            yield _undecided(domain, f"the SecurityPolicy of {domain.logical_id}", value)
        elif not TLS_1_2.match(value.text() or ""):
            yield Violation(
                domain,
                f"custom domain {domain.logical_id} has SecurityPolicy {value.text()}"
                f"{_origin(value)}; it must be TLS_1_2",
                line=value.line or line,
            )


def _plain_http(
    resource: Resource, node: object, type_path: str, uri_path: str, graph: ResourceGraph
) -> Iterator[Violation]:
    resolver = graph.resolver
    kinds = {(v.text() or "").upper() for v in resolver.values_at(node, type_path)}
    if not kinds & set(HTTP_INTEGRATIONS):
        return
    for value in resolver.values_at(node, uri_path):
        if isinstance(value, Unknown):
            yield _undecided(resource, f"the integration URI of {resource.logical_id}", value)
        elif (value.text() or "").lower().startswith("http://"):
            yield Violation(
                resource,
                f"{resource.logical_id} forwards API requests over plain HTTP to "
                f"{value.text()}{_origin(value)}",
                line=value.line,
            )


def _operations(paths: object) -> Iterator[object]:
    if isinstance(paths, dict):
        for operations in paths.values():
            if isinstance(operations, dict):
                yield from (op for op in operations.values() if isinstance(op, dict))


def _cloudfront_allow_all(api: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    for distribution in graph.into(api, "origin"):
        for label, behavior, _ in behaviors_serving(graph, distribution, api):
            for value in graph.resolver.values_at(behavior, "ViewerProtocolPolicy"):
                if value.text() == "allow-all":
                    yield Violation(
                        distribution,
                        f"{label} of {distribution.logical_id} serves API {api.logical_id} over "
                        "plain HTTP: ViewerProtocolPolicy is allow-all",
                        line=value.line,
                    )


def _undecided(resource: Resource, what: str, value: Unknown) -> Violation:
    return Violation(
        resource, f"cannot tell {what}: {value.reason}", line=value.line, undecided=value
    )


def _origin(value: Value) -> str:
    origin = getattr(value, "origin", None)
    return f" ({origin})" if origin else ""
