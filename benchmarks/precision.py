"""Precision: what archlint reports on real templates and on correct alternatives.

    python benchmarks/precision.py [--archlint "python -m archlint"] [--json]

Runs `archlint check --format json --fail-on never` (a fresh process, as a user
runs it) over each set and prints, per rule, the number of findings, how many
are errors, and the share of the set's files with an error from that rule; then
the share of files with any error. The sets:

- `aws-cloudformation-templates`, `serverless-samples`: the real public
  templates in `../shared/corpus/` (skipped where absent);
- `alternatives`: the independently written good templates of
  `fixtures/architectures/*/good-*` and the reference templates, which must
  give no error and no warning at all.

`--archlint` runs another build (say, an older checkout installed elsewhere)
to compare before and after.
"""

from __future__ import annotations

import argparse
import collections
import json
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def sets() -> dict[str, list[Path]]:
    found = {
        name: [CORPUS / name]
        for name in ("aws-cloudformation-templates", "serverless-samples")
        if (CORPUS / name).is_dir()
    }
    good = sorted(ROOT.glob("fixtures/architectures/*/good-*"))
    good = [p for p in good if p.suffix in (".yaml", ".json")]
    found["alternatives"] = [*good, ROOT / "reference_templates"]
    return found


def report(command: list[str], paths: list[Path]) -> dict:
    result = subprocess.run(
        [*command, "check", "--format", "json", "--fail-on", "never", *map(str, paths)],
        capture_output=True,
        cwd=ROOT,
        timeout=600,
    )
    if result.returncode != 0:
        sys.exit(f"archlint exited {result.returncode}: {result.stderr.decode()[-2000:]}")
    return json.loads(result.stdout)


def summarize(data: dict) -> dict:
    files = data["summary"]["files"]
    per_rule: dict[str, dict] = collections.defaultdict(
        lambda: {"findings": 0, "errors": 0, "warnings": 0, "infos": 0, "files_with_error": set()}
    )
    with_error: set[str] = set()
    for finding in data["findings"]:
        row = per_rule[finding["rule_id"]]
        row["findings"] += 1
        row[finding["severity"] + "s"] += 1
        if finding["severity"] == "error":
            row["files_with_error"].add(finding["file"])
            with_error.add(finding["file"])
    rules = {
        code: {**row, "files_with_error": len(row["files_with_error"])}
        for code, row in sorted(per_rule.items())
    }
    return {"files": files, "files_with_error": len(with_error), "rules": rules}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archlint", default=f"{sys.executable} -m archlint")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()
    command = shlex.split(args.archlint)
    results = {name: summarize(report(command, paths)) for name, paths in sets().items()}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, result in results.items():
        files = result["files"]
        share = result["files_with_error"] / files if files else 0.0
        print(f"\n{name}: {files} files, {result['files_with_error']} with an error ({share:.1%})")
        print(
            f"  {'rule':<6} {'findings':>8} {'errors':>7} {'warnings':>8} {'infos':>6} "
            f"{'files with an error':>20}"
        )
        for code, row in result["rules"].items():
            rate = row["files_with_error"] / files if files else 0.0
            print(
                f"  {code:<6} {row['findings']:>8} {row['errors']:>7} {row['warnings']:>8} "
                f"{row['infos']:>6} {row['files_with_error']:>11} ({rate:6.1%})"
            )


if __name__ == "__main__":
    main()
