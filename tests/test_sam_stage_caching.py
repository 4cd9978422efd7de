"""SAM `AWS::Serverless::Api` caching lands on the stage SAM generates and counts there."""

from __future__ import annotations

import json

from conftest import ROOT, run_archlint

CACHED = ROOT / "tests" / "data" / "sam" / "cached-api.yaml"


def _al506(path) -> list[dict]:
    result = run_archlint("check", "--format", "json", "--select", "AL506", str(path))
    return json.loads(result.stdout)["findings"]


def test_cache_settings_of_a_sam_api_count_on_its_generated_stage():
    # Without OpenApiVersion SAM also deploys an extra "Stage" stage from its
    # generated deployment; the user's stage (StageName: prod) caches.
    assert _al506(CACHED) == []


def test_a_sam_api_without_caching_is_reported_on_the_sam_resource(tmp_path):
    text = CACHED.read_text().replace("CacheClusterEnabled: true", "CacheClusterEnabled: false")
    path = tmp_path / "uncached.yaml"
    path.write_text(text)
    (finding,) = _al506(path)
    assert finding["resource"] == "TodoApi"
    assert "CacheClusterEnabled is false" in finding["message"]
