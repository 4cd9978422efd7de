"""Every regular expression that runs on template text finishes on hostile text.

Each pattern runs, in a subprocess of its own with a timeout of a few seconds,
on adversarial strings of 10,000 characters: long runs of the characters its
quantifiers repeat, the prefixes that make it try again at every position,
near misses that fail at the very end. Patterns known to be linear also run
on strings ten times longer, where a quadratic pattern would take minutes.
A completeness check makes a new pattern on template text join this table.

IAM action and ARN wildcard matching (archlint/iam.py) has its own tests.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys

import pytest

from conftest import ROOT

GUARD_SECONDS = 10  # a few seconds of budget; the patterns take milliseconds

# module, attribute, how the code applies it: "search" (search, match,
# fullmatch) or "scan" (finditer, findall, sub, split: every match in the text).
PATTERNS = [
    ("archlint.engine", "_LOOKS_LIKE_TEMPLATE", "search"),
    ("archlint.loader", "_NOT_BRACKET", "scan"),
    ("archlint.loader", "_INNERMOST_PAIR", "scan"),
    ("archlint.aliases", "_ANCHOR", "search"),
    ("archlint.jsonload", "_JSON_WS", "search"),
    ("archlint.values", "_SUB_VARIABLE", "scan"),
    ("archlint.structure", "_SUB_VARIABLE", "scan"),
    ("archlint.structure", "_UNCLOSED", "search"),
    ("archlint.structure", "_VARIABLE_NAME", "search"),
    ("archlint.sam", "_SUB_NAME", "scan"),
    ("archlint.sam", "_ROLE_POLICY", "search"),
    ("archlint.graph", "_NAME_TOKENS", "scan"),
    ("archlint.graph", "_S3_HOST", "search"),
    ("archlint.graph", "_SUB_NAMES", "scan"),
    ("archlint.graph_iam", "_SERVICE_WILDCARD", "search"),
    ("archlint.graph_iam", "_PLACEHOLDER", "scan"),
    ("archlint.nested", "_SUB_VARIABLE", "scan"),
    ("archlint.reporters.junit_format", "_NOT_XML", "scan"),
    ("archlint.fingerprint", "_DIGITS", "scan"),
    ("archlint.selection", "_MAGIC", "search"),
    ("archlint.rules.least_privilege", "_EVERY_RESOURCE_ARN", "search"),
    ("archlint.rules.least_privilege", "_PLACEHOLDER", "scan"),
    ("archlint.rules.https_api", "TLS_1_2", "search"),
    ("archlint.rules.recursive_trigger", "WRITE_EVENTS", "search"),
    ("archlint.rules.recursive_trigger", "_PLACEHOLDER", "scan"),
    ("archlint.rules.paid_access", "PREMIUM_NAME", "search"),
    ("archlint.rules.credentials", "SECRET_NAME", "search"),
    ("archlint.rules.credentials", "POINTER_NAME", "search"),
    ("archlint.rules.credentials", "ACCESS_KEY_ID", "search"),
    ("archlint.rules.credentials", "DYNAMIC_REFERENCE", "search"),
    ("archlint.rules.credentials", "PLAIN_SSM_REFERENCE", "search"),
    ("archlint.rules.credentials", "PEM_PRIVATE_KEY", "search"),
    ("archlint.rules.credentials", "TOKEN_PREFIXES", "search"),
    ("archlint.rules.credentials", "SECRET_KEY_SHAPE", "search"),
    ("archlint.rules.credentials", "_NOT_SECRET", "search"),
    ("archlint.rules.credentials", "_NUMBER", "search"),
    ("archlint.rules.credentials", "BASE64", "search"),
    ("archlint.rules.update_edge", "UPDATE_PATHS", "search"),
    ("archlint.rules.signing_key", "PEM_PRIVATE", "search"),
    ("archlint.rules.signing_key", "PRIVATE_KEY_NAME", "search"),
    ("archlint.rules.signing_key", "POINTER_NAME", "search"),
]

# Patterns written inline in a call, on template text.
INLINE = [
    (r"[^A-Za-z0-9_]", "scan"),  # render.py: graph node ids from logical ids
    (r"(\*|\$\{\?\})", "search"),  # recursive_trigger.py: an ARN's object part
    (r"[*?]", "scan"),  # recursive_trigger.py: splitting a key pattern at its wildcards
]

# Linear in everything but one case: `${` (or `:`) repeated with no closing `}`
# makes every later start scan to the end again, quadratic, not exponential
# (10,000 characters: a tenth of a second). Linear time needs the caller to
# stop at the last `}`; the 10,000-character test guards them meanwhile.
QUADRATIC = {
    ("archlint.values", "_SUB_VARIABLE"),
    ("archlint.structure", "_SUB_VARIABLE"),
    ("archlint.graph", "_NAME_TOKENS"),
    ("archlint.graph", "_SUB_NAMES"),
    ("archlint.graph_iam", "_PLACEHOLDER"),
    ("archlint.nested", "_SUB_VARIABLE"),
    ("archlint.rules.least_privilege", "_PLACEHOLDER"),
    ("archlint.rules.recursive_trigger", "_PLACEHOLDER"),
}

# Compiled patterns that never see template text.
NOT_TEMPLATE_TEXT = {
    ("archlint.rule", "_CODE"),  # rule codes in rule modules
    ("archlint.rule", "_NAME"),  # rule names in rule modules
    ("archlint.docs", "_EXPECT"),  # rule documentation
    ("archlint.conformance", "_CHAIN_STEP"),  # the shipped catalogue
}


def adversaries(n: int) -> list[str]:
    """Strings of about `n` characters that make backtracking patterns work hardest."""
    runs = ["a", "A", "1", "-", ".", ":", "/", "*", "?", "_", " ", "\n", "$", "{", "}", "="]
    texts = [c * n for c in runs]
    units = [
        "${", "${a", "${!", "{}", "[]", "a-", ".s3", "a.", ":a", "*?", "?*", "a@",
        "Resources ", '"Resources" ', "RolePolicy1", "-----BEGIN ", "&a", "AKIA", "ghp_",
        "{{resolve:", "_ARN", "update", ".zip", "arn:", "premium", "SECRET", "-${x}",
    ]  # fmt: skip
    texts += [(u * (n // len(u) + 1))[:n] for u in units]
    prefixes = [
        "a.s3", "arn:aws:s3:", "arn:aws:lambda:us-east-1:1:", "Resources", '"Resources"',
        "-----BEGIN ", "RolePolicy", "${", "ghp_", "xoxb-", "sk_live_", "AIza", "npm_",
        "SecurityPolicy_TLS13_1_2_", "s3:ObjectCreated:", "x@", "a" * 39,
    ]  # fmt: skip
    for prefix in prefixes:
        for body in ("-", "a", "*", "1", " ", "-a", "A1/+"):
            filler = (body * (n // len(body) + 1))[: n - len(prefix)]
            texts += [prefix + filler + tail for tail in ("!", ":")]
    texts.append("a" + ".s3" * (n // 3) + "!.amazonaws.com")
    return texts


RUNNER = r"""
import json, re, sys
pattern, flags, how = json.loads(sys.argv[1])
compiled = re.compile(pattern, flags)
for text in json.load(sys.stdin):
    if how == "search":
        compiled.search(text)
    else:
        for _ in compiled.finditer(text):
            pass
print("ok")
"""


def run_guarded(pattern: str, flags: int, how: str, n: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps([pattern, flags, how])],
        input=json.dumps(adversaries(n)).encode(),
        capture_output=True,
        timeout=GUARD_SECONDS,
    )


def compiled(module: str, name: str) -> re.Pattern[str]:
    value = getattr(importlib.import_module(module), name)
    assert isinstance(value, re.Pattern), f"{module}.{name} is not a compiled pattern"
    return value


def _ids(patterns) -> list[str]:
    return [f"{module}.{name}" for module, name, _ in patterns]


@pytest.mark.parametrize("module, name, how", PATTERNS, ids=_ids(PATTERNS))
def test_pattern_finishes_on_adversarial_text(module, name, how):
    pattern = compiled(module, name)
    result = run_guarded(pattern.pattern, pattern.flags, how, 10_000)
    assert result.stdout.strip() == b"ok", result.stderr.decode()[-2000:]


LINEAR = [p for p in PATTERNS if p[:2] not in QUADRATIC]


@pytest.mark.parametrize("module, name, how", LINEAR, ids=_ids(LINEAR))
def test_linear_pattern_finishes_on_ten_times_longer_text(module, name, how):
    pattern = compiled(module, name)
    result = run_guarded(pattern.pattern, pattern.flags, how, 100_000)
    assert result.stdout.strip() == b"ok", result.stderr.decode()[-2000:]


@pytest.mark.parametrize("pattern, how", INLINE)
def test_inline_pattern_finishes_on_adversarial_text(pattern, how):
    result = run_guarded(pattern, re.UNICODE, how, 100_000)
    assert result.stdout.strip() == b"ok", result.stderr.decode()[-2000:]


def _module_name(path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[0] == "rules":
        parts.insert(0, "archlint")
    return ".".join(parts)


def _patterns_in_source() -> tuple[set[tuple[str, str]], set[str]]:
    """Module-level `NAME = re.compile(...)` and literal patterns of inline re calls."""
    compiled_names: set[tuple[str, str]] = set()
    inline: set[str] = set()
    calls = {"match", "search", "sub", "subn", "split", "findall", "finditer", "fullmatch"}
    for path in [*(ROOT / "archlint").rglob("*.py"), *(ROOT / "rules").glob("*.py")]:
        if path.name == "iam.py":
            continue  # matched by hand, tested in its own module
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                if isinstance(func, ast.Attribute) and func.attr == "compile":
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            compiled_names.add((_module_name(path), target.id))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr in calls
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                inline.add(node.args[0].value)
    return compiled_names, inline


def test_every_pattern_on_template_text_is_in_the_table():
    compiled_names, inline = _patterns_in_source()
    missing = compiled_names - {p[:2] for p in PATTERNS} - NOT_TEMPLATE_TEXT
    assert not missing, f"add these patterns to PATTERNS (or NOT_TEMPLATE_TEXT): {missing}"
    documentation = {"\n", r"^  ([A-Za-z0-9]+):\s*$"}  # docs.py, jsonload's newline scan
    unknown = inline - {p for p, _ in INLINE} - documentation - _heading_patterns(inline)
    assert not unknown, f"add these inline patterns to INLINE: {unknown}"


def _heading_patterns(inline: set[str]) -> set[str]:
    """rule.py's doc-section pattern is an f-string: not a literal, never on template text."""
    return {p for p in inline if p.startswith("^## ")}
