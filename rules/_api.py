"""API Gateway questions shared by the paid-content, serverless-website and mobile-app rules.

Not a rule module (the leading underscore keeps the engine from scanning it):

* `methods_without_cognito(graph)`: API methods (and HTTP API routes) that a
  caller reaches without a Cognito user pool token (PAY-COGNITO-AUTH,
  MOB-COGNITO-AUTH);
* `stage_caching_problems(graph, api)`: stages of a REST API that do not
  cache its GET methods (WEB-API-CACHING, MOB-API-CACHING);
* (CloudFront caching, for WEB-STATIC-VIA-CLOUDFRONT and WEB-API-CACHING, is
  in `_cloudfront.py`);
* `api_functions(graph, api)`: the Lambda functions an API integrates;
  `tables_granted(graph, role)`: the tables a role may read or write.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass

from archlint.graph import ResourceGraph
from archlint.nodes import Map
from archlint.rules._common import number
from archlint.rules._common import origin_of as origin_note
from archlint.template import Resource
from archlint.values import Lit, Unknown, Value, intrinsic_name

REST_API = "AWS::ApiGateway::RestApi"
HTTP_API = "AWS::ApiGatewayV2::Api"
METHOD = "AWS::ApiGateway::Method"
ROUTE = "AWS::ApiGatewayV2::Route"
USER_POOL = "AWS::Cognito::UserPool"
COGNITO_USER_POOLS = "COGNITO_USER_POOLS"
FUNCTION = "AWS::Lambda::Function"
DYNAMODB_TABLES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
DYNAMODB_DATA_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)


@dataclass(frozen=True)
class Problem:
    """Something wrong with `resource`, at `line`; `undecided` set: archlint cannot tell.

    `undecided` is the `Unknown` that kept archlint from deciding; callers pass
    it on as `Violation(..., undecided=problem.undecided)`.
    """

    resource: Resource
    line: int | None
    reason: str
    undecided: Unknown | None = None

    @property
    def decided(self) -> bool:
        return self.undecided is None


# -- Cognito authorizers ---------------------------------------------------------


def methods_without_cognito(graph: ResourceGraph) -> list[tuple[Resource, int | None, str]]:
    """(method, line, reason) for every method or route, `OPTIONS` aside, open without Cognito.

    A REST API method must use `AuthorizationType: COGNITO_USER_POOLS` with an
    `AuthorizerId` naming an `AWS::ApiGateway::Authorizer` of `Type:
    COGNITO_USER_POOLS` whose `ProviderARNs` are user pools of the template;
    an HTTP API route must use a `JWT` authorizer whose issuer is such a user
    pool. Every `Fn::If` branch counts. `line` is the value to edit.
    """
    return [(p.resource, p.line, p.reason) for p in cognito_problems(graph) if p.decided]


def cognito_problems(graph: ResourceGraph) -> list[Problem]:
    """`methods_without_cognito`, plus the undecidable cases (`undecided` set)."""
    found: list[Problem] = []
    for method in graph.resources(METHOD):
        found.extend(_method_problems(method, graph))
    for route in graph.resources(ROUTE):
        found.extend(_route_problems(route, graph))
    for api in apis(graph):
        found.extend(_definition_problems(api, graph))
    return found


# Operations of an OpenAPI path item (`options`, CORS preflight, is left out).
OPENAPI_OPERATIONS = (
    "get",
    "put",
    "post",
    "delete",
    "patch",
    "head",
    "trace",
    "x-amazon-apigateway-any-method",
)


def _definition_problems(api: Resource, graph: ResourceGraph) -> Iterator[Problem]:
    """Operations of an API's OpenAPI `Body` that a caller reaches without a Cognito token.

    Each operation's `security` (else the document's) lists alternatives; every
    alternative must name a scheme whose `x-amazon-apigateway-authorizer` is
    `cognito_user_pools` with `providerARNs`, or `jwt` with an issuer, that are
    user pools of the template. An empty alternative (`{}`), SAM's `NONE` or a
    scheme the document does not define lets callers in without one.
    """
    resolver = graph.resolver
    if api.type == HTTP_API and resolver.find(api.properties, "Target"):
        yield Problem(
            api,
            api.line_of("Target"),
            "it is a quick-create HTTP API (Target), whose $default route has no authorizer",
        )
    if "BodyS3Location" in api.properties and "Body" not in api.properties:
        line = api.line_of("BodyS3Location")
        reason = "its OpenAPI definition is in S3 (BodyS3Location), which archlint cannot read"
        yield Problem(api, line, reason, undecided=Unknown(reason, line))
    for body, body_line in resolver.find(api.properties, "Body"):
        if not isinstance(body, dict) or intrinsic_name(body):
            unknown = next((v for v in resolver.values(body) if isinstance(v, Unknown)), None)
            written = "its OpenAPI Body is not written in the template"
            yield Problem(
                api,
                body_line,
                f"{written} {unknown.reason if unknown else ''}".rstrip(),
                undecided=unknown or Unknown(written, body_line),
            )
            continue
        schemes = _cognito_schemes(body, graph)
        default = resolver.get(body, "security")
        for paths in resolver.get(body, "paths"):
            if not isinstance(paths, dict):
                continue
            for path, item in paths.items():
                for verb, operation in item.items() if isinstance(item, dict) else ():
                    if str(verb).lower() not in OPENAPI_OPERATIONS:
                        continue
                    shown = "ANY" if str(verb).lower() == OPENAPI_OPERATIONS[-1] else verb
                    label = f"{str(shown).upper()} {path}"
                    line = item.line_of(verb) if isinstance(item, Map) else body_line
                    security = resolver.get(operation, "security") or default
                    yield from _security_problems(api, label, security, schemes, line, graph)


def _security_problems(
    api: Resource,
    label: str,
    security: list[object],
    schemes: dict[str, str | None],
    line: int | None,
    graph: ResourceGraph,
) -> Iterator[Problem]:
    alternatives = [a for node in security for a, _ in graph.resolver.items(node)]
    if not alternatives:
        yield Problem(api, line, f"its OpenAPI operation {label} has no security requirement")
    for alternative in alternatives:
        names = [str(k) for k in alternative] if isinstance(alternative, dict) else []
        if any(schemes.get(name) is None and name in schemes for name in names):
            continue
        if not names:
            yield Problem(api, line, f"its OpenAPI operation {label} allows anonymous calls ({{}})")
            continue
        faults = [schemes.get(n) or _undefined(n) for n in names]
        yield Problem(api, line, f"its OpenAPI operation {label} accepts {' + '.join(faults)}")


def _undefined(name: str) -> str:
    if name.upper() == "NONE":
        return "NONE (no authorizer)"
    return f"{name}, which the definition does not define"


def _cognito_schemes(body: object, graph: ResourceGraph) -> dict[str, str | None]:
    """Security schemes of an OpenAPI document: None for a Cognito one, else why it is not."""
    resolver = graph.resolver
    out: dict[str, str | None] = {}
    for path in ("securityDefinitions", "components.securitySchemes"):
        for schemes, _ in resolver.find(body, path):
            if not isinstance(schemes, dict):
                continue
            for name, scheme in schemes.items():
                out[str(name)] = _scheme_fault(str(name), scheme, graph)
    return out


def _scheme_fault(name: str, scheme: object, graph: ResourceGraph) -> str | None:
    resolver = graph.resolver
    kinds = [
        (v.text() or "").lower()
        for v in resolver.values_at(scheme, "x-amazon-apigateway-authorizer.type")
    ]
    if kinds and all(k == "cognito_user_pools" for k in kinds):
        trusted = resolver.values_at(scheme, "x-amazon-apigateway-authorizer.providerARNs[*]")
    elif kinds and all(k == "jwt" for k in kinds):
        trusted = resolver.values_at(
            scheme, "x-amazon-apigateway-authorizer.jwtConfiguration.issuer"
        )
    else:
        return f"scheme {name}, which is no Cognito user pool authorizer"
    if trusted and all(targets(graph, v, USER_POOL) for v in trusted):
        return None
    shown = ", ".join(v.text() or "?" for v in trusted) or "nothing"
    return f"scheme {name}, which trusts {shown}, not a user pool of the template"


def _method_problems(method: Resource, graph: ResourceGraph) -> Iterator[Problem]:
    resolver = graph.resolver
    props = method.properties
    verbs = [v.text() for v in resolver.values_at(props, "HttpMethod")]
    if verbs and all((v or "").upper() == "OPTIONS" for v in verbs):
        return
    if not (yield from _required(method, "AuthorizationType", COGNITO_USER_POOLS, "NONE", graph)):
        return
    for value, authorizer in (
        yield from _authorizers(method, "AWS::ApiGateway::Authorizer", graph)
    ):
        for reason, undecided in _authorizer_faults(authorizer, graph):
            yield Problem(method, value.line, reason, undecided)


def _authorizer_faults(
    authorizer: Resource, graph: ResourceGraph
) -> Iterator[tuple[str, Unknown | None]]:
    """(reason, None) for each fault of the authorizer; (reason, Unknown) when undecidable."""
    resolver = graph.resolver
    name = authorizer.logical_id
    kinds = resolver.values_at(authorizer.properties, "Type")
    wrong = [v for v in kinds if v.text() != COGNITO_USER_POOLS]
    for value in wrong:
        reason = f"its authorizer {name} has Type {value.text()}"
        # The message shows the Type as `${?}`, not the resolver's reason.
        yield reason, Unknown(reason, value.line) if isinstance(value, Unknown) else None
    if wrong:
        return
    providers = resolver.values_at(authorizer.properties, "ProviderARNs[*]")
    if not providers:
        yield f"its authorizer {name} has no ProviderARNs", None
    for value in providers:
        if isinstance(value, Unknown):
            yield f"provider of authorizer {name}: {value.reason}", value
        elif not targets(graph, value, USER_POOL):
            shown = f"{value.text()}{origin_note(value)}"
            yield f"its authorizer {name} trusts {shown}, not a user pool of the template", None


def _route_problems(route: Resource, graph: ResourceGraph) -> Iterator[Problem]:
    resolver = graph.resolver
    props = route.properties
    keys = [v.text() or "" for v in resolver.values_at(props, "RouteKey")]
    if keys and all(k.upper().startswith("OPTIONS ") for k in keys):
        return
    if not (yield from _required(route, "AuthorizationType", "JWT", "NONE", graph)):
        return
    for value, authorizer in (
        yield from _authorizers(route, "AWS::ApiGatewayV2::Authorizer", graph)
    ):
        issuers = resolver.values_at(authorizer.properties, "JwtConfiguration.Issuer")
        if not issuers or not all(targets(graph, v, USER_POOL) for v in issuers):
            shown = ", ".join(v.text() or "?" for v in issuers) or "none"
            yield Problem(
                route,
                value.line,
                f"its JWT authorizer {authorizer.logical_id} has issuer {shown}, "
                "not a Cognito user pool of the template",
            )


def _authorizers(
    resource: Resource, authorizer_type: str, graph: ResourceGraph
) -> Generator[Problem, None, list[tuple[Value, Resource]]]:
    """(AuthorizerId value, authorizer) pairs of a method or route, after reporting
    a missing, unknown or dangling AuthorizerId."""
    ids = graph.resolver.values_at(resource.properties, "AuthorizerId")
    if not ids:
        yield Problem(resource, resource.line_of("AuthorizationType"), "it names no AuthorizerId")
    found: list[tuple[Value, Resource]] = []
    for value in ids:
        if isinstance(value, Unknown):
            yield Problem(resource, value.line, f"AuthorizerId: {value.reason}", undecided=value)
            continue
        authorizers = targets(graph, value, authorizer_type)
        if not authorizers:
            reason = f"AuthorizerId {value.text()} is no authorizer of the template"
            yield Problem(resource, value.line, reason)
        found.extend((value, authorizer) for authorizer in authorizers)
    return found


def _required(
    resource: Resource, prop: str, wanted: str, default: str, graph: ResourceGraph
) -> Iterator[Problem]:
    """Problems of `prop` not being `wanted` in every branch; returns True when it always is."""
    values = graph.resolver.values_at(resource.properties, prop)
    if not values:
        yield Problem(resource, resource.line_of(prop), f"it sets no {prop} ({default})")
        return False
    fine = True
    for value in values:
        if isinstance(value, Unknown):
            yield Problem(resource, value.line, f"{prop}: {value.reason}", undecided=value)
            fine = False
        elif value.text() != wanted:
            yield Problem(resource, value.line, f"{prop} is {value.text()}{origin_note(value)}")
            fine = False
    return fine


# -- what an API integrates ------------------------------------------------------------


def api_functions(graph: ResourceGraph, api: Resource) -> list[Resource]:
    """Lambda functions behind an API: method/route integrations and its OpenAPI body."""
    found = [f for f in graph.out(api, "integration") if f.type == FUNCTION]
    for part in graph.into(api, "api"):
        if part.type in (METHOD, "AWS::ApiGatewayV2::Integration"):
            found.extend(f for f in graph.out(part, "integration") if f.type == FUNCTION)
    return list({f.key: f for f in found}.values())


def apis(graph: ResourceGraph) -> list[Resource]:
    """REST APIs and HTTP APIs (not WebSocket APIs) of the template."""
    found = list(graph.resources(REST_API))
    for api in graph.resources(HTTP_API):
        protocols = [v.text() for v in graph.resolver.values_at(api.properties, "ProtocolType")]
        if "WEBSOCKET" not in protocols:
            found.append(api)
    return found


def tables_granted(graph: ResourceGraph, role: Resource) -> list[Resource]:
    """DynamoDB tables of the template on which a role may run a data action (GetItem, ...)."""
    return [
        table
        for table in graph.resources(*DYNAMODB_TABLES)
        if any(graph.grants(role, action, table) for action in DYNAMODB_DATA_ACTIONS)
    ]


# -- stage caching ---------------------------------------------------------------------


def stage_caching_problems(graph: ResourceGraph, api: Resource) -> list[Problem]:
    """Why the stages of a REST API do not cache its GET methods (empty: they all do).

    Every stage (an `AWS::ApiGateway::Stage`, or a `Deployment` with a
    `StageName`) must set `CacheClusterEnabled: true` and, for each GET (or
    ANY) method, its most specific `MethodSettings` entry (the method's own
    `ResourcePath`, else `/*`; `HttpMethod` GET, else `*`) must set
    `CachingEnabled: true`, in every `Fn::If` branch.
    """
    gets = get_methods(graph, api)
    if not gets:
        return []
    stages = _stages(graph, api)
    if not stages:
        return [Problem(api, api.line, f"REST API {api.logical_id} has no stage")]
    problems: dict[tuple[str, int | None, str], tuple[Problem, list[str]]] = {}
    for stage, settings, label in stages:
        for problem, path in _stage_problems(graph, stage, settings, label, gets):
            key = (problem.resource.key, problem.line, problem.reason)
            entry = problems.setdefault(key, (problem, []))
            if path and path not in entry[1]:
                entry[1].append(path)
    out = []
    for problem, paths in problems.values():
        where = f" for GET {', '.join(paths)}" if paths else ""
        out.append(
            Problem(problem.resource, problem.line, problem.reason + where, problem.undecided)
        )
    return out


def get_methods(graph: ResourceGraph, api: Resource) -> list[tuple[str, str]]:
    """(path, verb) of the API's methods that answer GET: `/posts/{id}`, GET or ANY."""
    resolver = graph.resolver
    found: list[tuple[str, str]] = []
    for method in graph.into(api, "api"):
        if method.type != METHOD:
            continue
        verbs = {
            (v.text() or "").upper() for v in resolver.values_at(method.properties, "HttpMethod")
        }
        for verb in sorted(verbs & {"GET", "ANY"}):
            for resource in _referenced(graph, method, "ResourceId") or [None]:
                for path in _paths(graph, resource) if resource else ["?"]:
                    found.append((path, verb))
    for paths, _ in resolver.find(api.properties, "Body.paths"):
        if isinstance(paths, dict):
            for path, operations in paths.items():
                if isinstance(operations, dict) and any(
                    str(k).lower() in ("get", "x-amazon-apigateway-any-method") for k in operations
                ):
                    found.append((str(path), "GET"))
    return sorted(set(found))


def _paths(graph: ResourceGraph, node: Resource, depth: int = 0) -> list[str]:
    """Resource paths of an API Gateway resource: `/`, `/posts`, `/posts/{id}`."""
    if node.type == REST_API:
        return ["/"]
    if node.type != "AWS::ApiGateway::Resource" or depth > 30:
        return ["?"]
    parts = [v.text() or "?" for v in graph.resolver.values_at(node.properties, "PathPart")]
    parents = [
        p
        for parent in _referenced(graph, node, "ParentId")
        for p in _paths(graph, parent, depth + 1)
    ]
    return [f"{p.rstrip('/')}/{part}" for p in parents or ["?"] for part in parts]


def _stages(graph: ResourceGraph, api: Resource) -> list[tuple[Resource, object, str]]:
    """(resource, settings node, label) of every stage of the API."""
    resolver = graph.resolver
    stages = []
    for part in graph.into(api, "api"):
        if part.type == "AWS::ApiGateway::Stage":
            stages.append((part, part.properties, f"stage {part.logical_id}"))
        elif (
            part.type == "AWS::ApiGateway::Deployment"
            # SAM's deployment names SAM's own extra "Stage" stage (without
            # OpenApiVersion); the API's caching lands on the stage SAM generates
            # from its StageName, judged above.
            and part.origin is None
            and resolver.values_at(part.properties, "StageName")
        ):
            for node, _ in resolver.find(part.properties, "StageDescription") or [(None, None)]:
                stages.append((part, node, f"the stage of deployment {part.logical_id}"))
    return stages


def _stage_problems(
    graph: ResourceGraph, stage: Resource, settings: object, label: str, gets: list
) -> Iterator[tuple[Problem, str | None]]:
    resolver = graph.resolver
    prefix = "StageDescription." if stage.type == "AWS::ApiGateway::Deployment" else ""
    cluster = resolver.values_at(settings, "CacheClusterEnabled") if settings else []
    if not cluster:
        line = stage.line_of(*f"{prefix}CacheClusterEnabled".split("."))
        yield Problem(stage, line, f"{label} has no cache cluster (CacheClusterEnabled)"), None
        return
    off = _all_true_list(stage, cluster, f"{label}: CacheClusterEnabled")
    if off:
        yield from ((problem, None) for problem in off)
        return
    default = resolver.values_at(settings, "CachingEnabled")  # Deployment: stage-wide default
    raw = settings.get("MethodSettings") if isinstance(settings, dict) else None
    for entries in resolver.list_variants(raw):
        for path, verb in gets:
            entry = _most_specific(graph, entries, path, verb)
            if entry is None:
                if default:
                    for problem in _all_true_list(stage, default, f"{label}: CachingEnabled"):
                        yield problem, path
                    continue
                line = stage.line_of(*f"{prefix}MethodSettings".split("."))
                yield Problem(stage, line, f"{label} has no MethodSettings entry"), path
                continue
            node, line = entry
            values = resolver.values_at(node, "CachingEnabled")
            if not values:
                yield (
                    Problem(
                        stage, line, f"{label}: its MethodSettings entry sets no CachingEnabled"
                    ),
                    path,
                )
            for problem in _all_true_list(stage, values, f"{label}: CachingEnabled"):
                yield problem, path
            # A time to live of 0 seconds caches nothing (the default is 300).
            for ttl in resolver.values_at(node, "CacheTtlInSeconds"):
                if number(ttl) == 0:
                    reason = f"{label}: CacheTtlInSeconds is {ttl.text()}{origin_note(ttl)}"
                    yield Problem(stage, ttl.line or line, reason), path


def _most_specific(
    graph: ResourceGraph, entries: list[tuple[object, int | None]], path: str, verb: str
) -> tuple[object, int | None] | None:
    """The MethodSettings entry that governs (path, verb): own path beats `/*`, verb beats `*`."""
    resolver = graph.resolver
    encoded = "/" + path.replace("/", "~1") if path != "/" else "/"
    best, best_score = None, 0
    for node, line in entries:
        paths = {v.text() for v in resolver.values_at(node, "ResourcePath")}
        verbs = {(v.text() or "").upper() for v in resolver.values_at(node, "HttpMethod")}
        path_score = 2 if encoded in paths else 1 if paths & {"/*", "*"} else 0
        verb_score = 2 if verb in verbs else 1 if "*" in verbs else 0
        if path_score and verb_score and path_score * 3 + verb_score > best_score:
            best, best_score = (node, line), path_score * 3 + verb_score
    return best


def _all_true_list(resource: Resource, values: list[Value], what: str) -> list[Problem]:
    out = []
    for value in values:
        if isinstance(value, Unknown):
            out.append(Problem(resource, value.line, f"{what}: {value.reason}", undecided=value))
        elif not (isinstance(value, Lit) and value.value in (True, "true", "True")):
            out.append(
                Problem(resource, value.line, f"{what} is {value.text()}{origin_note(value)}")
            )
    return out


# -- small helpers ---------------------------------------------------------------------


def _referenced(graph: ResourceGraph, resource: Resource, prop: str) -> list[Resource]:
    """Resources a property of `resource` names (`ResourceId`, `ParentId`), every branch."""
    keys = {
        k for v in graph.resolver.values_at(resource.properties, prop) for k in graph.targets_of(v)
    }
    return [graph.resource(k) for k in sorted(keys) if k in graph.g]


def targets(graph: ResourceGraph, value: Value, rtype: str) -> list[Resource]:
    return [graph.resource(k) for k in sorted(graph.targets_of(value)) if graph.type_of(k) == rtype]
