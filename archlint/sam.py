"""SAM templates, expanded with the official translator and checked as CloudFormation.

`expand(template)` runs aws-sam-translator offline (no AWS calls: managed
policy names are mapped to their ARNs locally, region and account are
placeholders, local artifacts and repository applications are prepared as the
SAM CLI prepares them, see `sam_cli`) and returns a template of plain
CloudFormation resources whose lines and origins point back at what the user
wrote: a generated `MyFunctionRole` is reported on `MyFunction`, at the line of
the property that produced it where one did.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

from archlint import sam_cli
from archlint.nodes import LoadProblem, Map, Seq
from archlint.template import Resource, Template

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
SAM_PREFIX = "AWS::Serverless::"


class _ManagedPolicies(dict):
    """AWS managed policy names map to their ARNs from archlint's data, without asking IAM.

    Truthy although empty, or the translator would skip it; a name that is no
    AWS managed policy is left to the translator (its own map, then as written).
    """

    def __bool__(self) -> bool:
        return True

    def __contains__(self, name: object) -> bool:
        return self.get(name) is not None  # type: ignore[arg-type]

    def __getitem__(self, name: str) -> str:
        arn = self.get(name)
        if arn is None:
            raise KeyError(name)
        return arn

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        from archlint.iam import managed_policy_arn

        arn = managed_policy_arn(name) if isinstance(name, str) else None
        return default if arn is None else arn


@dataclass
class SamResult:
    template: Template | None
    error: str | None = None
    # What archlint could not follow in a template it expanded (AL006 infos).
    notes: list[LoadProblem] = field(default_factory=list)


def is_sam(template: Template) -> bool:
    return SAM_TRANSFORM in template.transforms


def expand(template: Template) -> SamResult:
    """The CloudFormation that SAM generates, with lines and origins kept."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    logging.getLogger("samtranslator").setLevel(logging.CRITICAL)
    from samtranslator.parser import parser
    from samtranslator.public.exceptions import InvalidDocumentException
    from samtranslator.translator.translator import Translator

    _validate_policy_templates_once()

    document = _plain(template.root)
    prepared = sam_cli.prepare(document)
    parameters = _parameter_defaults(template)
    translator = Translator(
        managed_policy_map=_ManagedPolicies(),
        sam_parser=parser.Parser(),
        plugins=sam_cli.offline_plugins(parameters),
        boto_session=_placeholder_session(),
    )
    try:
        output = translator.translate(
            sam_template=document,
            parameter_values=parameters,
            passthrough_metadata=True,
        )
    except InvalidDocumentException as error:
        causes = "; ".join(cause.message for cause in error.causes) or str(error)
        return SamResult(None, causes)
    except Exception as error:  # the translator's own failures are findings too
        return SamResult(None, f"{type(error).__name__}: {error}")
    notes = [*sam_cli.restore(output, prepared, template), *sam_cli.application_notes(template)]
    return SamResult(_expanded_template(template, output), notes=notes)


@lru_cache(maxsize=1)
def _placeholder_session() -> object:
    """One offline boto3 session for the placeholder region: no credentials, no calls."""
    import boto3

    return boto3.session.Session(region_name=os.environ["AWS_DEFAULT_REGION"])


def _validate_policy_templates_once() -> None:
    """Validate SAM's bundled policy templates once per process, not once per template.

    Every translation builds a fresh policy-template processor that checks the
    same bundled JSON against its schema: two thirds of the translation time.
    The bundled file cannot change while archlint runs.
    """
    from samtranslator.policy_template_processor.processor import PolicyTemplatesProcessor

    check = PolicyTemplatesProcessor.__dict__["_is_valid_templates_dict"]
    if getattr(check, "archlint_once", False):
        return
    validate = check.__func__ if isinstance(check, staticmethod) else check
    validated: list[bool] = []

    def once(policy_templates_dict: dict, schema: dict | None = None) -> bool:
        if not validated:
            validated.append(validate(policy_templates_dict, schema))
        return validated[0]

    once.archlint_once = True  # type: ignore[attr-defined]
    PolicyTemplatesProcessor._is_valid_templates_dict = staticmethod(once)  # type: ignore[method-assign]


def _expanded_template(template: Template, output: dict) -> Template:
    root = _graft(output, template.root, 1)
    assert isinstance(root, Map)
    root.pop("Transform", None)
    expanded = Template(template.path, root, template.text, list(template.problems))
    originals = template.resources
    sam_ids = [r.logical_id for r in originals.values() if r.type.startswith(SAM_PREFIX)]
    implicit_api_owner = _implicit_api_owner(template)
    resources = root.get("Resources")
    if not isinstance(resources, Map):
        return expanded
    owners = _owners(resources, originals, sam_ids, implicit_api_owner)
    for logical_id, body in list(resources.items()):
        if not isinstance(body, Map) or not isinstance(body.get("Type"), str):
            continue
        original = originals.get(logical_id)
        if original is not None and not original.type.startswith(SAM_PREFIX):
            origin = None
            line = original.line
            resources[logical_id] = _graft(_plain(body), original.body, original.line)
        else:
            owner = owners.get(logical_id)
            source = originals.get(owner) if owner else None
            line = source.line if source else resources.line_of(logical_id)
            origin = owner if owner and owner != logical_id else None
            if source is not None:
                shadow, line = _shadow(body["Type"], source)
                resources[logical_id] = _graft(_plain(body), shadow, line)
                _align_role_policies(resources[logical_id], source)
        final = resources[logical_id]
        assert isinstance(final, Map)
        expanded.resources[logical_id] = Resource(
            logical_id, final["Type"], final, line, logical_id, origin
        )
    _align_operations(resources, template)
    return expanded


def _owners(
    resources: Map, originals: dict, sam_ids: list[str], implicit_api_owner: str | None
) -> dict[str, str]:
    """The SAM resource each generated resource comes from.

    Most generated logical ids start with their SAM resource's; those named
    after their content (a custom domain `ApiGatewayDomainName<hash>`, its
    Route 53 `RecordSetGroup<hash>`) belong to the SAM resource whose
    generated resources refer to them, or that they refer to.
    """
    owners: dict[str, str] = {}
    unowned: list[str] = []
    for logical_id in resources:
        original = originals.get(logical_id)
        if original is not None and not original.type.startswith(SAM_PREFIX):
            continue
        owner = _owner(logical_id, sam_ids, implicit_api_owner)
        if owner:
            owners[logical_id] = owner
        else:
            unowned.append(logical_id)
    refs = {key: _referenced_ids(resources[key]) for key in [*owners, *unowned]}
    changed = True
    while changed and unowned:
        changed = False
        for logical_id in list(unowned):
            owner = next(
                (
                    o
                    for other, o in owners.items()
                    if logical_id in refs[other] or other in refs[logical_id]
                ),
                None,
            )
            if owner is not None:
                owners[logical_id] = owner
                unowned.remove(logical_id)
                changed = True
    return owners


_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)[.}]")


def _referenced_ids(node: object) -> set[str]:
    """Logical ids named by `Ref`, `Fn::GetAtt` and `Fn::Sub` below a node."""
    found: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                if key == "Ref" and isinstance(value, str):
                    found.add(value)
                elif key in ("Fn::GetAtt", "Fn::Sub"):
                    first = value[0] if isinstance(value, list) and value else value
                    if isinstance(first, str) and key == "Fn::GetAtt":
                        found.add(first.split(".", 1)[0])
                    elif isinstance(first, str):
                        found.update(_SUB_NAME.findall(first))
                stack.append(value)
        elif isinstance(current, list):
            stack.extend(current)
    return found


# Generated resources made of one property of their SAM resource: their lines are its lines.
_FROM_PROPERTY = {
    "AWS::ApiGateway::DomainName": ("Domain",),
    "AWS::ApiGateway::DomainNameV2": ("Domain",),
    "AWS::ApiGatewayV2::DomainName": ("Domain",),
    "AWS::Route53::RecordSetGroup": ("Domain", "Route53"),
}


def _shadow(resource_type: str, source: Resource) -> tuple[Map, int | None]:
    """What the user wrote that a generated resource comes from, and its line."""
    path = _FROM_PROPERTY.get(resource_type)
    holder: object = source.properties
    line = source.line
    for key in path or ():
        if not isinstance(holder, Map) or not isinstance(holder.get(key), Map):
            return source.body, source.line
        line = holder.line_of(key)
        holder = holder[key]
    if not path or not isinstance(holder, Map):
        return source.body, source.line
    shadow = Map(holder.line)
    shadow["Properties"] = holder
    shadow.key_lines["Properties"] = line or holder.line or 1
    return shadow, line


# Function events that add an operation to an API's generated OpenAPI body.
_API_EVENTS = {"Api": ("RestApiId", "ServerlessRestApi"), "HttpApi": ("ApiId", "ServerlessHttpApi")}


def _align_operations(resources: Map, template: Template) -> None:
    """Give each OpenAPI operation SAM generates the line of the function event declaring it."""
    for function in template.of_type("AWS::Serverless::Function"):
        events = function.properties.get("Events")
        for name, event in events.items() if isinstance(events, Map) else ():
            kind = _API_EVENTS.get(event.get("Type")) if isinstance(event, Map) else None
            props = event.get("Properties") if kind else None
            if not isinstance(props, Map) or not isinstance(props.get("Method"), str):
                continue
            api = props.get(kind[0], {"Ref": kind[1]})
            api_id = api.get("Ref") if isinstance(api, dict) else None
            written = template.resources.get(api_id) if isinstance(api_id, str) else None
            if written is not None and "DefinitionBody" in written.properties:
                continue  # the user wrote the paths: they have their own lines
            body = resources.get(api_id) if isinstance(api_id, str) else None
            paths = _at(body, "Properties", "Body", "paths")
            item = paths.get(props.get("Path")) if isinstance(paths, Map) else None
            verb = props["Method"].lower()
            verb = "x-amazon-apigateway-any-method" if verb == "any" else verb
            if isinstance(item, Map) and verb in item:
                line = events.line_of(name)
                item[verb] = _graft(_plain(item[verb]), event, line)
                item.key_lines[verb] = line or item.line_of(verb) or 1


def _at(node: object, *keys: str) -> object:
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _owner(logical_id: str, sam_ids: list[str], implicit_api_owner: str | None) -> str | None:
    """The SAM resource a generated logical id comes from (the longest prefix)."""
    matches = [s for s in sam_ids if logical_id.startswith(s)]
    if matches:
        return max(matches, key=len)
    if logical_id.startswith(("ServerlessRestApi", "ServerlessHttpApi")):
        return implicit_api_owner
    return None


def _implicit_api_owner(template: Template) -> str | None:
    """The first function whose Api/HttpApi event creates SAM's implicit API."""
    for resource in template.resources.values():
        events = resource.properties.get("Events")
        if resource.type == "AWS::Serverless::Function" and isinstance(events, dict):
            for event in events.values():
                if isinstance(event, dict) and event.get("Type") in ("Api", "HttpApi"):
                    return resource.logical_id
    return None


def _parameter_defaults(template: Template) -> dict:
    values = {}
    for name, parameter in template.parameters.items():
        if isinstance(parameter, dict) and "Default" in parameter:
            values[name] = _plain(parameter["Default"])
    return values


def _plain(node: object) -> object:
    """A deep copy as plain dicts and lists, as the translator expects."""
    if isinstance(node, dict):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    return node


_ROLE_POLICY = re.compile(r"RolePolicy(\d+)$")


def _align_role_policies(role: object, source: Resource) -> None:
    """Give each inline policy of a generated role the line of the `Policies` entry it comes from.

    SAM names the policy made of `Policies[N]` `<Function>RolePolicyN`; managed
    policy names in the same list become `ManagedPolicyArns`, so the role's
    policies are not at the positions of the entries the user wrote.
    """
    properties = role.get("Properties") if isinstance(role, Map) else None
    policies = properties.get("Policies") if isinstance(properties, Map) else None
    written = source.properties.get("Policies")
    if not isinstance(policies, Seq) or not isinstance(written, Seq):
        return
    for index, policy in enumerate(policies):
        name = policy.get("PolicyName") if isinstance(policy, Map) else None
        if not isinstance(name, str) or not name.startswith(source.logical_id):
            continue
        match = _ROLE_POLICY.search(name)
        number = int(match.group(1)) if match else len(written)
        if number < len(written):
            line = written.line_of(number)
            policies[index] = _graft(_plain(policy), written[number], line)
            policies.item_lines[index] = line or policies.line_of(index) or 1


def _graft(node: object, shadow: object, line: int | None) -> object:
    """Rebuild `node` as Map/Seq, taking lines from `shadow` where paths coincide."""
    if isinstance(node, dict):
        own_line = getattr(shadow, "line", None) or line
        mapping = Map(own_line)
        for key, value in node.items():
            match = shadow.get(key) if isinstance(shadow, dict) else None
            # A key SAM adds is placed where its parent key is, as Resource.line_of does.
            key_line = (
                shadow.line_of(key) if isinstance(shadow, Map) and key in shadow else line
            ) or own_line
            mapping[key] = _graft(value, match, key_line)
            mapping.key_lines[key] = key_line or own_line or 1
        return mapping
    if isinstance(node, list):
        own_line = getattr(shadow, "line", None) or line
        seq = Seq(own_line)
        for index, value in enumerate(node):
            match = shadow[index] if isinstance(shadow, list) and index < len(shadow) else None
            item_line = (
                shadow.line_of(index) if isinstance(shadow, Seq) and match is not None else own_line
            )
            seq.append(_graft(value, match, item_line))
            seq.item_lines.append(item_line or own_line or 1)
        return seq
    return node
