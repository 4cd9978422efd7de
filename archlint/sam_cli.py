"""A SAM template prepared as the SAM CLI prepares it for the translator, offline.

`sam deploy` never hands the SAM transform a local path: `sam package` (which
`sam deploy` runs) uploads every local artifact and writes its S3 or ECR
location in its place, and `sam validate` puts placeholders there before it
calls the same translator. archlint does what they do, with placeholders and
without the network (aws/aws-sam-cli):

- `samcli/lib/translate/sam_template_validator.py`,
  `SamTemplateValidator._replace_local_codeuri`: `Globals.Function.CodeUri`,
  the `CodeUri` of each `Zip` function, the `ContentUri` of each layer (an
  omitted one counts as `.`) and a written `DefinitionUri` of an API, HTTP API
  or state machine become `s3://...` unless already S3 or a mapping;
  `_replace_local_image`: a `PackageType: Image` function whose `Metadata`
  names a `Dockerfile` and that has no `ImageUri` gets an ECR placeholder.
- `samcli/lib/package/artifact_exporter.py`, `Template._apply_global_values`:
  a function without `CodeUri` takes `Globals.Function.CodeUri` before
  packaging; `samcli/lib/package/packageable_resources.py`: an omitted
  `CodeUri`/`ContentUri` packages the template's folder
  (`PACKAGE_NULL_PROPERTY`, `samcli/lib/providers/sam_base_provider.py`
  `DEFAULT_CODEURI = "."`), a function with `InlineCode` is not packaged
  (`resource_not_packageable`), and `include_transform_export_handler` uploads
  the file of an `AWS::Include`, which CloudFormation then expands before the
  SAM transform runs.
- `samcli/lib/providers/sam_stack_provider.py`: an application whose
  `Location` is a Serverless Application Repository mapping is remote
  (`RemoteStackLocationNotSupported`); its template is not followed.

Two cases need more than a placeholder. A `DefinitionBody` that is an
`AWS::Include` holds no OpenAPI document until CloudFormation includes it, so
SAM cannot merge `Auth` or `Cors` into it (`sam validate` fails there, `sam
deploy` does not, aws/aws-sam-cli#803): the translator gets its own skeleton
document instead, and the generated API gets the include back with a note of
what SAM merges into it. A repository application would make the translator
call the Serverless Application Repository through boto3: its plugin gets a
repository that answers with a placeholder template URL instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archlint.nodes import LoadProblem
from archlint.template import Template

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"
API = "AWS::Serverless::Api"
HTTP_API = "AWS::Serverless::HttpApi"
STATE_MACHINE = "AWS::Serverless::StateMachine"
APPLICATION = "AWS::Serverless::Application"

PLACEHOLDER_S3_URI = "s3://archlint-placeholder/code.zip"
PLACEHOLDER_IMAGE_URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/archlint-placeholder:latest"
PLACEHOLDER_TEMPLATE_URL = "https://s3.amazonaws.com/archlint-placeholder/app.yaml"
# samcli/lib/providers/sam_base_provider.py: where an omitted CodeUri or ContentUri points.
DEFAULT_CODE_URI = "."
# samcli/lib/utils/packagetype.py
ZIP = "Zip"
IMAGE = "Image"

# The properties SAM merges into an API's OpenAPI document (samtranslator/model/api:
# api_generator.py and http_api_generator.py, the `_add_*` methods that edit the
# DefinitionBody and fail on one that is no OpenAPI document).
_MERGED_INTO_DOCUMENT = {
    API: (
        "Auth",
        "Cors",
        "BinaryMediaTypes",
        "GatewayResponses",
        "Models",
        "DisableExecuteApiEndpoint",
    ),
    HTTP_API: (
        "Auth",
        "CorsConfiguration",
        "Tags",
        "Name",
        "Description",
        "DisableExecuteApiEndpoint",
    ),
}


@dataclass
class Included:
    """An API's DefinitionBody that CloudFormation includes before the SAM transform."""

    body: dict
    # The API's properties (its own or from Globals) that SAM merges into that document.
    merged: list[str]


@dataclass
class Prepared:
    """What the preparation changed that the translated template must get back."""

    included: dict[str, Included] = field(default_factory=dict)


def prepare(document: dict) -> Prepared:
    """Put placeholders where `sam package` puts S3 and ECR locations (in place)."""
    prepared = Prepared()
    resources = document.get("Resources")
    if not isinstance(resources, dict):
        return prepared
    globals_function = _at(document, "Globals", "Function")
    if isinstance(globals_function, dict) and _is_local(globals_function.get("CodeUri")):
        globals_function["CodeUri"] = PLACEHOLDER_S3_URI
    inherited = globals_function.get("CodeUri") if isinstance(globals_function, dict) else None
    for logical_id, resource in resources.items():
        properties = resource.get("Properties") if isinstance(resource, dict) else None
        if not isinstance(properties, dict):
            continue
        kind = resource.get("Type")
        if kind == FUNCTION:
            _function(resource, properties, inherited)
        elif kind == LAYER:
            if _is_local(properties.get("ContentUri", DEFAULT_CODE_URI)):
                properties["ContentUri"] = PLACEHOLDER_S3_URI
        elif kind in (API, HTTP_API, STATE_MACHINE):
            if _is_local(properties.get("DefinitionUri")):
                properties["DefinitionUri"] = PLACEHOLDER_S3_URI
            body = properties.get("DefinitionBody")
            if kind != STATE_MACHINE and _is_transform(body):
                merged = _merged_properties(document, kind, properties)
                prepared.included[str(logical_id)] = Included(body, merged)
                properties["DefinitionBody"] = _skeleton(kind)
        elif kind == APPLICATION:
            location = properties.get("Location")
            if _is_local(location) and not location.startswith(("http://", "https://")):
                properties["Location"] = PLACEHOLDER_TEMPLATE_URL
    return prepared


def _function(resource: dict, properties: dict, inherited: object) -> None:
    if properties.get("PackageType", ZIP) == IMAGE:
        metadata = resource.get("Metadata")
        built = isinstance(metadata, dict) and bool(metadata.get("Dockerfile"))
        if built and "ImageUri" not in properties:
            properties["ImageUri"] = PLACEHOLDER_IMAGE_URI
        return
    if "InlineCode" in properties:
        return
    code = properties.get("CodeUri", DEFAULT_CODE_URI if inherited is None else inherited)
    if _is_local(code):
        properties["CodeUri"] = PLACEHOLDER_S3_URI


def _merged_properties(document: dict, kind: str, properties: dict) -> list[str]:
    section = _at(document, "Globals", "Api" if kind == API else "HttpApi")
    written = {*properties, *(section if isinstance(section, dict) else ())}
    return [name for name in _MERGED_INTO_DOCUMENT[kind] if name in written]


def _is_local(value: object) -> bool:
    """A path `sam package` would upload: a string that is not already in S3."""
    return isinstance(value, str) and not value.startswith("s3://")


def _is_transform(node: object) -> bool:
    return isinstance(node, dict) and list(node) == ["Fn::Transform"]


def _skeleton(kind: str) -> dict:
    """The translator's own empty document, which SAM can merge Auth and Cors into."""
    if kind == HTTP_API:
        from samtranslator.open_api.open_api import OpenApiEditor

        return _plain(OpenApiEditor.gen_skeleton())
    from samtranslator.swagger.swagger import SwaggerEditor

    return _plain(SwaggerEditor.gen_skeleton())


def restore(output: dict, prepared: Prepared, template: Template) -> list[LoadProblem]:
    """Give each generated API its `AWS::Include` back; note what SAM merges into it."""
    notes: list[LoadProblem] = []
    resources = output.get("Resources")
    for logical_id, included in prepared.included.items():
        properties = _at(resources, logical_id, "Properties")
        if not isinstance(properties, dict) or "Body" not in properties:
            continue
        properties["Body"] = included.body
        if not included.merged:
            continue
        written = template.resources.get(logical_id)
        location = _at(included.body, "Fn::Transform", "Parameters", "Location")
        source = f" from {location}" if isinstance(location, str) else ""
        merged = ", ".join(included.merged)
        notes.append(
            LoadProblem(
                "not-expanded",
                f"API {logical_id}: its OpenAPI document is included{source} "
                f"(AWS::Include) when CloudFormation deploys it, and SAM then merges {merged} "
                "into it; archlint does not read the included document, so its operations "
                "and what SAM merges into them are not checked",
                written.line_of("DefinitionBody") if written else None,
                "info",
            )
        )
    return notes


class _OfflineRepository:
    """A Serverless Application Repository client that answers without the network.

    `ServerlessAppPlugin` calls `create_cloud_formation_template` for each
    application (and `get_cloud_formation_template` while one is not ACTIVE):
    every application is ACTIVE at a placeholder template URL.
    """

    def create_cloud_formation_template(self, **request: Any) -> dict:
        return self._template(request)

    def get_cloud_formation_template(self, **request: Any) -> dict:
        return self._template(request)

    def get_application(self, **request: Any) -> dict:
        return {"ApplicationId": request.get("ApplicationId")}

    @staticmethod
    def _template(request: dict) -> dict:
        return {
            "ApplicationId": request.get("ApplicationId"),
            "SemanticVersion": request.get("SemanticVersion"),
            "Status": "ACTIVE",
            "TemplateId": "archlint-placeholder",
            "TemplateUrl": PLACEHOLDER_TEMPLATE_URL,
        }


def offline_plugins(parameters: dict) -> list:
    """The translator's application plugin, fed an offline repository instead of boto3."""
    from samtranslator.plugins.application.serverless_app_plugin import ServerlessAppPlugin

    plugin = ServerlessAppPlugin(
        sar_client=_OfflineRepository(),  # type: ignore[arg-type]
        wait_for_template_active_status=False,
        parameters=parameters,
    )
    return [plugin]


def application_notes(template: Template) -> list[LoadProblem]:
    """Applications from the Serverless Application Repository: archlint fetches no template."""
    notes = []
    for application in template.of_type(APPLICATION):
        location = application.properties.get("Location")
        if not isinstance(location, dict) or "ApplicationId" not in location:
            continue
        app_id = location.get("ApplicationId")
        version = location.get("SemanticVersion")
        named = app_id if isinstance(app_id, str) else "its ApplicationId"
        at = f" version {version}" if isinstance(version, (str, int, float)) else ""
        notes.append(
            LoadProblem(
                "not-expanded",
                f"application {application.logical_id} comes from the Serverless Application "
                f"Repository ({named}{at}); archlint does not fetch its template, so the "
                "resources it creates are not checked",
                application.line_of("Location"),
                "info",
            )
        )
    return notes


def _at(node: object, *keys: str) -> object:
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _plain(node: object) -> Any:
    if isinstance(node, dict):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    return node
