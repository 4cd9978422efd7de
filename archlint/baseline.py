"""Baselines: the findings a repository already had, so a gate fails only on new ones.

`archlint check --write-baseline FILE` records the run's findings;
`--baseline FILE` (or `baseline:` in the configuration) then sets aside every
finding that the baseline holds. Findings match by fingerprint
(archlint.fingerprint), with counts: a fingerprint recorded twice sets aside
two findings, a third one is new. The file is JSON:

```json
{"version": 1, "tool": "archlint",
 "findings": [{"fingerprint": "…", "rule_id": "AL104", "file": "stack.yaml",
               "resource": "WorkerRole", "message": "…"}]}
```

Only `fingerprint` is read back; the rest is for the humans who review it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from archlint.fingerprint import normalised_file
from archlint.rule import Finding

VERSION = 1


class BaselineError(Exception):
    """A baseline that cannot be read or written (a usage error naming the file)."""


def write(path: str, findings: Iterable[Finding]) -> int:
    """Record `findings` in `path`; how many were recorded."""
    entries = sorted(
        (
            {
                "fingerprint": f.fingerprint,
                "rule_id": f.rule_id,
                "file": normalised_file(f.file),
                "resource": f.resource,
                "message": f.message,
            }
            for f in findings
        ),
        key=lambda e: (e["file"], e["rule_id"], e["resource"] or "", e["fingerprint"]),
    )
    text = json.dumps({"version": VERSION, "tool": "archlint", "findings": entries}, indent=2)
    try:
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
    except OSError as error:
        raise BaselineError(f"cannot write baseline {path}: {error.strerror}") from error
    return len(entries)


def read(path: str) -> Counter[str]:
    """The fingerprints `path` records, with how often each is recorded."""
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except OSError as error:
        raise BaselineError(f"cannot read baseline {path}: {error.strerror}") from error
    except (ValueError, UnicodeDecodeError) as error:
        raise BaselineError(f"baseline {path} is not JSON: {error}") from error
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(entries, list) or data.get("version") != VERSION:
        raise BaselineError(
            f"baseline {path} is not an archlint baseline (version {VERSION}: "
            "write one with `archlint check --write-baseline FILE`)"
        )
    counts: Counter[str] = Counter()
    for entry in entries:
        fingerprint = entry.get("fingerprint") if isinstance(entry, dict) else None
        if not isinstance(fingerprint, str):
            raise BaselineError(f"baseline {path}: an entry without a fingerprint: {entry!r}")
        counts[fingerprint] += 1
    return counts


def split(
    findings: list[Finding], recorded: Counter[str], keep: frozenset[str] = frozenset()
) -> tuple[list[Finding], int]:
    """The findings not in the baseline, and how many it set aside.

    Suppressed findings stay as they are (not matched, not counted); findings
    of a rule in `keep` are never set aside (a configuration's baseline cannot
    hide that a template could not be read or checked).
    """
    left = Counter(recorded)
    kept: list[Finding] = []
    baselined = 0
    for finding in findings:
        if not finding.suppressed and finding.rule_id not in keep and left[finding.fingerprint]:
            left[finding.fingerprint] -= 1
            baselined += 1
            continue
        kept.append(finding)
    return kept, baselined
