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
Reports a rule that raised an exception on this template.

## Why is this bad?
A crashed rule checked nothing, and a silent pass would be a lie. The other
rules still run; this finding names the rule and the exception so the bug can
be reported.""",
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
`Type`.

## Why is this bad?
The stack cannot be created, and the broken resource cannot be checked.

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
    fix="Give every resource a Type and keep Resources a mapping of logical ids.",
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
transform it does not expand, a value it cannot resolve.

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
