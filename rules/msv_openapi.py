"""MSV-OPENAPI: every API Gateway API is defined by an OpenAPI/Swagger document."""

from __future__ import annotations

import json
from collections.abc import Iterator

from archlint.graph import ResourceGraph
from archlint.rule import ERROR, Violation, rule
from archlint.template import Resource
from archlint.values import Lit, Unknown, intrinsic_name

REST_API = "AWS::ApiGateway::RestApi"
HTTP_API = "AWS::ApiGatewayV2::Api"
# Resources that define an API's operations outside its OpenAPI document.
OPERATION_TYPES = ("AWS::ApiGateway::Method", "AWS::ApiGatewayV2::Route")
VERSION_FIELDS = ("openapi", "swagger")


@rule(
    code="AL804",
    name="api-without-openapi",
    requirement="MSV-OPENAPI",
    severity=ERROR,
    resource_types=(REST_API, HTTP_API),
    architectures=("microservices",),
    fix="Define the API with an OpenAPI 3 (or Swagger 2) document in Body (or BodyS3Location), "
    "with x-amazon-apigateway-integration on each operation, instead of Method/Route resources.",
)
def api_without_openapi(api: Resource, graph: ResourceGraph) -> Iterator[Violation]:
    """## What it does
    Checks that every API Gateway REST API and HTTP API (`AWS::ApiGatewayV2::Api`
    that is not a WebSocket API) is defined by an OpenAPI or Swagger document:
    a `Body` whose `openapi`/`swagger` field is set (in every `Fn::If` branch,
    through parameters, JSON strings and `AWS::Include`), or a
    `BodyS3Location` with a non-empty `Bucket` and `Key`. An API built from
    separate `AWS::ApiGateway::Method` (or `AWS::ApiGatewayV2::Route`)
    resources is a violation, and so is each such resource next to a body.

    ## Why is this bad?
    Without the OpenAPI document the service has no machine-readable
    contract: other services cannot generate client SDKs from it, and
    operations added as separate resources silently drift from what the
    documentation and the generated clients say.
    """
    if _is_websocket(api, graph):
        return
    resolver = graph.resolver
    bodies = resolver.find(api.properties, "Body")
    locations = resolver.find(api.properties, "BodyS3Location")
    operations = [r for r in graph.into(api, "api") if r.type in OPERATION_TYPES]
    if not bodies and not locations:
        separate = ", ".join(r.logical_id for r in operations)
        detail = f"; its operations are separate resources ({separate})" if separate else ""
        yield Violation(
            api, f"API {api.logical_id} has neither Body nor BodyS3Location{detail}", line=api.line
        )
        return
    problems = [
        *(p for node, line in bodies for p in _body_problems(api, node, line, graph)),
        *(p for node, line in locations for p in _location_problems(api, node, line, graph)),
    ]
    yield from problems
    only = "Body" if not locations else "BodyS3Location" if not bodies else None
    if only and not problems and graph.may_be_absent(api.properties, only):
        yield Violation(
            api,
            f"API {api.logical_id} has no {only} in some Fn::If branch (AWS::NoValue)",
            line=api.line_of(only),
        )
    for operation in operations:
        yield Violation(
            operation,
            f"{operation.type.rsplit('::', 1)[-1]} {operation.logical_id} of API "
            f"{api.logical_id} is defined outside its OpenAPI document",
            line=operation.line,
        )


def _is_websocket(api: Resource, graph: ResourceGraph) -> bool:
    protocols = {v.text() for v in graph.resolver.values_at(api.properties, "ProtocolType")}
    return api.type == HTTP_API and protocols == {"WEBSOCKET"}


def _body_problems(
    api: Resource, node: object, line: int | None, graph: ResourceGraph
) -> Iterator[Violation]:
    if intrinsic_name(node) == "Fn::Transform":
        return  # AWS::Include of an OpenAPI file: read at deploy time
    documents = [node] if isinstance(node, dict) and intrinsic_name(node) is None else []
    for value in [] if documents else graph.resolver.values(node, line):
        document = value.value if isinstance(value, Lit) else None
        if isinstance(document, str):
            document = _parse(document)
        if isinstance(value, Unknown):
            yield Violation(
                api,
                f"cannot tell whether the Body of API {api.logical_id} is an OpenAPI "
                f"document: {value.reason}",
                line=value.line or line,
                undecided=value,
            )
        elif isinstance(document, dict):
            documents.append(document)
        else:
            yield Violation(
                api,
                f"Body of API {api.logical_id} is not an OpenAPI document: {value.text()!r}",
                line=value.line or line,
            )
    for document in documents:
        versions = [v for f in VERSION_FIELDS for v in graph.resolver.values_at(document, f)]
        if not any(v.text() for v in versions):
            yield Violation(
                api,
                f"Body of API {api.logical_id} is not an OpenAPI/Swagger document: "
                "it has no openapi or swagger version field",
                line=line,
            )


def _location_problems(
    api: Resource, node: object, line: int | None, graph: ResourceGraph
) -> Iterator[Violation]:
    for field in ("Bucket", "Key"):
        values = graph.resolver.values_at(node, field)
        if not values:
            yield Violation(
                api, f"BodyS3Location of API {api.logical_id} has no {field}", line=line
            )
        for value in values:
            if isinstance(value, Unknown):
                yield Violation(
                    api,
                    f"cannot tell the BodyS3Location.{field} of API {api.logical_id}: "
                    f"{value.reason}",
                    line=value.line or line,
                    undecided=value,
                )
            elif isinstance(value, Lit) and not value.text():
                origin = f" ({value.origin})" if value.origin else ""
                yield Violation(
                    api,
                    f"BodyS3Location.{field} of API {api.logical_id} can be empty{origin}",
                    line=value.line or line,
                )


def _parse(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
