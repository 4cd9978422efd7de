"""What a rule is: a plain function with metadata, and what it yields.

```python
@rule(code="AL104", name="cloudfront-allows-http", requirement="X-CLOUDFRONT-HTTPS",
      severity=ERROR, resource_types=("AWS::CloudFront::Distribution",),
      fix="Set ViewerProtocolPolicy to redirect-to-https.")
def check(distribution, graph):
    '''## What it does ...'''
    yield Violation(distribution, "...", line=...)
```

The decorator only attaches a `Rule` to the function; the engine finds
rules by looking for that attribute. Findings are plain data; how they are
shown is the reporters' business.

"Cannot decide" is decided once: a rule that cannot tell passes the
resolver's `Unknown` (or one it builds, for a structural reason) as
`undecided=`, and the violation becomes an INFO finding that carries the
reason. No rule picks INFO itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from archlint import fingerprint
from archlint.template import Resource
from archlint.values import Unknown

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)
SEVERITY_RANK = {INFO: 1, WARNING: 2, ERROR: 3}

ARCHITECTURES = (
    "ingestion-pipeline",
    "software-updates",
    "paid-content",
    "microservices",
    "serverless-website",
    "mobile-app",
)

DOCS_URL = "https://github.com/archlint/archlint/blob/main/docs/rules.md"

_CODE = re.compile(r"^AL\d{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    requirement: str
    severity: str
    doc: str
    fix: str = ""
    resource_types: tuple[str, ...] = ()
    architectures: tuple[str, ...] = ()
    check: Callable[..., Iterable[Violation]] | None = None

    @property
    def title(self) -> str:
        """First sentence of 'What it does', the rule's one-line summary."""
        section = self.section("What it does") or self.doc
        sentence = section.strip().split("\n\n")[0].replace("\n", " ")
        return sentence.split(". ")[0].rstrip(".")

    def section(self, heading: str) -> str:
        """A `## Heading` section of the rule's documentation."""
        match = re.search(rf"^## {re.escape(heading)}\s*\n(.*?)(?=^## |\Z)", self.doc, re.M | re.S)
        return match.group(1).strip() if match else ""

    @property
    def help_uri(self) -> str:
        return f"{DOCS_URL}#{self.code.lower()}-{self.name}"

    def applies_to(self, architectures: Iterable[str]) -> bool:
        return not self.architectures or bool(set(self.architectures) & set(architectures))


@dataclass
class Violation:
    """What a rule reports: where, what is wrong, and (optionally) how to fix it.

    `undecided`: the `Unknown` that kept the rule from deciding (the
    resolver's, or one built for a structural reason). The violation is then
    the rule's "cannot decide": its severity is INFO, and its message ends
    with the Unknown's reason unless it already holds it. A rule never passes
    `severity=INFO` itself (that raises); `severity` overrides the rule's
    severity only with a decided one (e.g. WARNING).
    """

    resource: Resource | None
    message: str
    line: int | None = None
    fix: str | None = None
    severity: str | None = None  # overrides the rule's, e.g. a warning-level case
    # The catalogue entry this finding is about, where a rule judges several (AL901).
    requirement: str | None = None
    undecided: Unknown | None = None

    def __post_init__(self) -> None:
        if self.undecided is None:
            if self.severity == INFO:
                raise ValueError("a rule does not choose INFO: pass undecided=Unknown(reason)")
            return
        # Idempotent, so `dataclasses.replace` of an undecided violation works.
        self.severity = INFO
        reason = self.undecided.reason
        if reason and reason not in self.message:
            self.message = f"{self.message}: {reason}"


@dataclass
class Finding:
    rule_id: str
    rule_name: str
    requirement: str
    severity: str
    file: str
    resource: str | None
    line: int | None
    message: str
    fix: str = ""
    suppressed: bool = False
    suppression_reason: str | None = None
    extra: dict = field(default_factory=dict)
    # What baselines and SARIF `partialFingerprints` match it by (archlint.fingerprint):
    # the engine places it in its resource; made elsewhere, its message stands in.
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint.of_message(
                self.rule_id, self.file, self.resource, self.requirement, self.message
            )

    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.rule_id, self.resource or "", self.message)

    def as_dict(self) -> dict:
        data = {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "requirement": self.requirement,
            "severity": self.severity,
            "file": self.file,
            "resource": self.resource,
            "line": self.line,
            "message": self.message,
            "fix": self.fix,
            "fingerprint": self.fingerprint,
        }
        if self.suppressed:
            data["suppressed"] = True
            data["suppression_reason"] = self.suppression_reason
        data.update(self.extra)
        return data


def rule(
    *,
    code: str,
    name: str,
    requirement: str,
    severity: str,
    resource_types: tuple[str, ...] = (),
    architectures: tuple[str, ...] = (),
    fix: str = "",
) -> Callable[[Callable], Callable]:
    """Attach rule metadata to a check function; nothing is registered globally."""
    if not _CODE.match(code):
        raise ValueError(f"rule code {code!r} must look like AL123")
    if not _NAME.match(name):
        raise ValueError(f"rule name {name!r} must be kebab-case")
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r} must be one of {SEVERITIES}")
    unknown = set(architectures) - set(ARCHITECTURES)
    if unknown:
        raise ValueError(f"unknown architectures {sorted(unknown)}")

    def attach(check: Callable) -> Callable:
        check.__archlint_rule__ = Rule(  # type: ignore[attr-defined]
            code=code,
            name=name,
            requirement=requirement,
            severity=severity,
            doc=_dedent(check.__doc__ or ""),
            fix=fix,
            resource_types=tuple(resource_types),
            architectures=tuple(architectures),
            check=check,
        )
        return check

    return attach


def _dedent(text: str) -> str:
    import textwrap

    first, _, rest = text.partition("\n")
    return (first.strip() + "\n" + textwrap.dedent(rest)).strip()
