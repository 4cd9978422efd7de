"""Findings the engine itself reports: unreadable files, broken rules, bad suppressions.

They are rules like any other for `list-rules`, `explain`, `--select` and
`--ignore`, but have no check function: the engine emits them.
"""

from __future__ import annotations

from archlint.rule import ERROR, INFO, WARNING, Rule

RULE_ERROR = Rule(
    code="AL000",
    name="rule-internal-error",
    requirement="ENGINE",
    severity=ERROR,
    doc="""## What it does
Reports a rule that raised an exception on this template, or a template that
made archlint itself fail while loading, expanding (SAM, CDK, nested stacks),
checking its structure or building its graph. The finding names the stage
(`load`, `expand`, `structure`, `graph`, `rules`, or the rule) and the
exception.

## Why is this bad?
A crashed rule checked nothing, and a silent pass would be a lie. The other
rules still run, and the other templates are still checked and reported;
this finding names the rule or stage and the exception so the bug can be
reported.""",
    fix="Report the rule and the template to the archlint maintainers; suppress "
    "the rule for this template meanwhile.",
)

UNREADABLE = Rule(
    code="AL001",
    name="template-unreadable",
    requirement="ENGINE",
    severity=ERROR,
    doc="""## What it does
Reports a template that cannot be read: invalid YAML or JSON, bad encoding,
tabs for indentation, alias bombs, absurd nesting or size.

## Why is this bad?
CloudFormation rejects the template, and no rule can check it.

## Example
```yaml
Resources:
\tBucket:            # a tab: YAML forbids tabs for indentation
    Type: AWS::S3::Bucket
```

## Use instead
```yaml
Resources:
  Bucket:
    Type: AWS::S3::Bucket
```""",
    fix="Fix the file at the line shown; `python -c 'import yaml,sys; yaml.safe_load(sys.stdin)'` "
    "reproduces YAML errors.",
)

DUPLICATE_KEY = Rule(
    code="AL002",
    name="duplicate-key",
    requirement="ENGINE",
    severity=ERROR,
    doc="""## What it does
Reports a key that appears twice in the same mapping, such as two resources
with one logical id.

## Why is this bad?
YAML and JSON parsers silently keep only one of the two; the definition you
review may not be the one that is deployed. archlint checks both.

## Example
```yaml
Resources:
  Bucket:
    Type: AWS::S3::Bucket
  Bucket:
    Type: AWS::S3::Bucket
    Properties: {AccessControl: PublicRead}
```

## Use instead
```yaml
Resources:
  Bucket:
    Type: AWS::S3::Bucket
```""",
    fix="Rename or remove one of the two definitions.",
)

INVALID_TEMPLATE = Rule(
    code="AL003",
    name="template-structure-invalid",
    requirement="ENGINE",
    severity=ERROR,
    doc="""## What it does
Reports a template whose structure CloudFormation rejects: a top level that
is not a mapping, `Resources` that is not a mapping, a resource without a
`Type`; a `Ref`, `Fn::GetAtt` or `Fn::Sub` variable that names no resource,
parameter or pseudo parameter; a `DependsOn` naming no resource; resources
that depend on themselves (through `Ref`, `Fn::GetAtt`, `Fn::Sub` or
`DependsOn`) or conditions that do; a `Condition` or `Fn::If` naming no
condition; a malformed `Fn::Sub` (an unclosed `${Name`), `Fn::GetAtt` or
`Fn::If`; a `Ref` to a list or a mapping; `Properties`, `Metadata` or
`DependsOn` of the wrong shape, or an attribute CloudFormation does not
know; an intrinsic function inside `Mappings`; an unknown short-form tag
(`!Foo`). SAM templates are judged as the SAM translator's output, so the
resources SAM generates are defined; templates with other transforms or Rain
directives are not judged (a macro may define anything).

## Why is this bad?
The stack cannot be created, and the broken resource cannot be checked. A
rule that cannot resolve a dangling reference says nothing: without this
finding the template would pass.

## Example
```yaml
Resources:
  Queue:
    Properties: {}
```

## Use instead
```yaml
Resources:
  Queue:
    Type: AWS::SQS::Queue
```""",
    fix="Fix what the message names at its line: define the resource, parameter or condition "
    "(or correct its name), break the cycle, or give the section the shape CloudFormation takes.",
)

SUPPRESSION_WITHOUT_REASON = Rule(
    code="AL004",
    name="suppression-without-reason",
    requirement="ENGINE",
    severity=WARNING,
    doc="""## What it does
Reports a `Metadata: archlint: ignore` entry without a `reason`.

## Why is this bad?
A suppression is a decision somebody has to revisit; without the reason,
nobody can tell whether it still holds.

## Example
```yaml
Metadata:
  archlint:
    ignore: [AL101]
```

## Use instead
```yaml
Metadata:
  archlint:
    ignore:
      - rule: AL101
        reason: "Public website bucket; reviewed by security in SEC-123"
```""",
    fix="Write each ignore entry as {rule: ID, reason: why}.",
)

UNKNOWN_ARCHITECTURE = Rule(
    code="AL005",
    name="unknown-architecture",
    requirement="ENGINE",
    severity=ERROR,
    doc="""## What it does
Reports an architecture name in `Metadata: archlint: architectures` that
archlint does not know.

## Why is this bad?
A misspelt architecture silently turns its requirements off.

## Example
```yaml
Metadata:
  archlint:
    architectures: [paid-contents]
```

## Use instead
```yaml
Metadata:
  archlint:
    architectures: [paid-content]
```""",
    fix="Use one of: ingestion-pipeline, software-updates, paid-content, microservices, "
    "serverless-website, mobile-app.",
)

NOT_CHECKED = Rule(
    code="AL006",
    name="template-not-fully-checked",
    requirement="ENGINE",
    severity=INFO,
    doc="""## What it does
Says what archlint could not check in a template: an empty file, a macro or
transform it does not expand (a Rain directive), a value it cannot resolve,
a policy document an `AWS::Include` transform brings in at deploy time, a
nested stack whose `TemplateURL` is an intrinsic function. Once per
template, it also says when a value had more combinations (of `Fn::If`
branches, parameter values, mapping rows) than archlint enumerates: each
choice then still counts on its own, and any mix of them is undecided.

## Why is this bad?
It is not bad in itself; it tells you where archlint's silence is not a pass.""",
    fix="Nothing to fix; check the part named by hand or with the tool that expands it.",
)

TRANSFORM_FAILED = Rule(
    code="AL007",
    name="transform-failed",
    requirement="ENGINE",
    severity=ERROR,
    doc="""## What it does
Reports a SAM template that the official SAM translator rejects, with the
translator's own message.

## Why is this bad?
`sam deploy` and CloudFormation reject it the same way, and archlint cannot
check the resources it would generate.

## Example
```yaml
Transform: AWS::Serverless-2016-10-31
Resources:
  Function:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: python3.12
      Events:
        Upload:
          Type: S3
          Properties: {Bucket: uploads, Events: s3:ObjectCreated:*}
```

## Use instead
```yaml
      Events:
        Upload:
          Type: S3
          Properties: {Bucket: !Ref UploadBucket, Events: s3:ObjectCreated:*}
```""",
    fix="Fix what the translator's message names; `sam validate` shows the same error.",
)

ENGINE_RULES = (
    RULE_ERROR,
    UNREADABLE,
    DUPLICATE_KEY,
    INVALID_TEMPLATE,
    SUPPRESSION_WITHOUT_REASON,
    UNKNOWN_ARCHITECTURE,
    NOT_CHECKED,
    TRANSFORM_FAILED,
)
