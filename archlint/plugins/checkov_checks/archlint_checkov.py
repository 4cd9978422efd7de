"""archlint's rules as checkov CloudFormation checks, one `ARCHLINT_<code>` check per rule.

Teams that gate on checkov get archlint's findings in the same report, with
checkov's skips (`Metadata: checkov: skip: [{id: ARCHLINT_AL102, comment: ...}]`)
and output formats. checkov imports this file by its bare stem (it is never
called `archlint.py`, which would shadow the package) and hands each check one
resource's configuration and a file path relative to the scan root; archlint
needs the whole template, so each check finds the template file, runs archlint
once per file version (cached in `bridge`), and reports on the resource by its
logical id. For SAM templates that is the `AWS::Serverless::*` resource, which
is also what archlint names. A finding about the whole template (a missing
architecture component, say) is reported on the first resource checkov scans.

checkov turns an exception in a check into an UNKNOWN result that no report
shows, and exits 0; so failures of archlint itself never raise here: the
per-rule checks answer UNKNOWN and the `ARCHLINT_ERROR` check FAILS on every
resource of the file, with the reason logged.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.bridgecrew.severities import get_severity
from checkov.common.models.enums import CheckCategories, CheckResult

CHECK_PREFIX = "ARCHLINT_"
ERROR_CHECK_ID = "ARCHLINT_ERROR"
_SEVERITY = {"error": "HIGH", "warning": "MEDIUM", "info": "LOW"}
_BRIDGE_NAME = "_archlint_plugin_bridge"
_LOG = logging.getLogger("archlint.checkov")


def _load_bridge() -> ModuleType:
    """archlint's bridge module, imported normally or, without archlint, by file path.

    The other plugin has the same function on purpose: each plugin file is
    loaded by path by its host, possibly where archlint is not importable,
    so it cannot import a shared helper before it has found the bridge.
    """
    try:
        from archlint.plugins import bridge

        return bridge
    except ImportError:
        pass
    loaded = sys.modules.get(_BRIDGE_NAME)
    if loaded is not None:
        return loaded
    path = Path(__file__).resolve().parent.parent / "bridge.py"
    spec = importlib.util.spec_from_file_location(_BRIDGE_NAME, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load archlint's plugin bridge from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_BRIDGE_NAME] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


bridge = _load_bridge()


# -- where is the template? -------------------------------------------------


def _root_folders(argv: list[str]) -> list[str]:
    """The directories given to checkov with -d/--directory, as scan roots."""
    roots: list[str] = []
    for index, argument in enumerate(argv):
        if argument in ("-d", "--directory") and index + 1 < len(argv):
            roots.append(argv[index + 1])
        elif argument.startswith("--directory="):
            roots.append(argument.split("=", 1)[1])
    return roots


def _path_from_runner(scanned_file: str, frame: FrameType | None) -> str | None:
    """The absolute path checkov's CloudFormation runner is looping over, if it is on the stack.

    `Runner.check_definitions` holds `file_abs_path` and `cf_file` (the
    relative path passed to the checks as `scanned_file`) as locals.
    """
    depth = 0
    while frame is not None and depth < 50:
        local = frame.f_locals
        if local.get("cf_file") == scanned_file:
            absolute = local.get("file_abs_path")
            if isinstance(absolute, str) and os.path.isfile(absolute):
                return os.path.abspath(absolute)
        frame = frame.f_back
        depth += 1
    return None


def template_path(scanned_file: str) -> str | None:
    """The absolute path of the template checkov reports as `scanned_file` (`/rel/path`)."""
    found = _path_from_runner(scanned_file, sys._getframe(1))
    if found is not None:
        return found
    relative = scanned_file.lstrip("/")
    for root in (*_root_folders(sys.argv), os.getcwd()):
        candidate = os.path.normpath(os.path.join(root, relative))
        if os.path.isfile(candidate):
            return os.path.abspath(candidate)
    return os.path.abspath(scanned_file) if os.path.isfile(scanned_file) else None


def _where(check: BaseResourceCheck) -> tuple[str, str, str | None]:
    """(scanned file, logical id, absolute path) of the resource being checked.

    checkov sets `entity_path` to "<scanned_file>:<entity_type>:<logical id>"
    and `entity_type` before calling scan_resource_conf; the type itself
    contains colons (AWS::S3::Bucket), so the split uses it.
    """
    scanned_file, _, name = check.entity_path.rpartition(":")
    suffix = f":{check.entity_type}"
    if scanned_file.endswith(suffix):
        scanned_file = scanned_file[: -len(suffix)]
    return scanned_file, name, template_path(scanned_file)


_reported_errors: set[str] = set()


def _log_error(where: str, error: str) -> None:
    if where not in _reported_errors:
        _reported_errors.add(where)
        _LOG.error("archlint could not check %s: %s", where, error)


# -- the checks ---------------------------------------------------------------


class ArchlintRuleCheck(BaseResourceCheck):
    """FAILED on a resource archlint reports for this check's rule, else PASSED."""

    rule: Any = None  # a bridge.RuleInfo, set by each generated subclass

    def __init__(self) -> None:
        rule = self.rule
        category = (
            CheckCategories.GENERAL_SECURITY
            if rule.requirement.startswith("X-")
            else CheckCategories.CONVENTION
        )
        super().__init__(
            name=f"archlint {rule.code} {rule.name} ({rule.requirement})",
            id=f"{CHECK_PREFIX}{rule.code}",
            categories=[category],
            supported_resources=["*"],
            guideline=rule.help_uri or None,
        )
        self.severity = get_severity(_SEVERITY.get(rule.severity, "LOW"))
        # file -> the first resource checked there, which carries template-level findings
        self.first_resource: dict[str, str] = {}

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        _, resource, path = _where(self)
        if path is None:
            return CheckResult.UNKNOWN  # ARCHLINT_ERROR fails and says why
        result = bridge.check_file(path)
        if result.error is not None:
            return CheckResult.UNKNOWN
        first = self.first_resource.setdefault(path, resource)
        for finding in result.of_rule(self.rule.code):
            if finding.resource == resource or (finding.resource is None and resource == first):
                return CheckResult.FAILED
        return CheckResult.PASSED


class ArchlintErrorCheck(BaseResourceCheck):
    """FAILED on every resource of a template archlint itself could not check."""

    def __init__(self, catalogue_error: str | None) -> None:
        super().__init__(
            name="archlint can check this template",
            id=ERROR_CHECK_ID,
            categories=[CheckCategories.CONVENTION],
            supported_resources=["*"],
        )
        self.severity = get_severity("HIGH")
        self.catalogue_error = catalogue_error

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        scanned_file, _, path = _where(self)
        if self.catalogue_error is not None:
            _log_error("any template", self.catalogue_error)
            return CheckResult.FAILED
        if path is None:
            _log_error(scanned_file, "cannot find the template file")
            return CheckResult.FAILED
        result = bridge.check_file(path)
        if result.error is not None:
            _log_error(path, result.error)
            return CheckResult.FAILED
        return CheckResult.PASSED


def _register() -> dict[str, BaseResourceCheck]:
    """One check instance per archlint rule (instantiating registers it with checkov)."""
    try:
        rules = bridge.catalogue()
        error = None
    except bridge.ArchlintUnavailable as unavailable:
        rules, error = [], str(unavailable)
    checks: dict[str, BaseResourceCheck] = {ERROR_CHECK_ID: ArchlintErrorCheck(error)}
    for rule in rules:
        cls = type(f"Archlint{rule.code}Check", (ArchlintRuleCheck,), {"rule": rule})
        globals()[cls.__name__] = cls
        checks[f"{CHECK_PREFIX}{rule.code}"] = cls()
    return checks


CHECKS = _register()
